import type { Source, SourceObserver, Subscription, ValidationIssue } from '@weft/core';
import { LazyClient } from '../internal/lazy.js';
import { CatalogWatch } from './catalog-watch.js';
import { type ConsulApi, createConsulApi } from './client.js';
import { type ConsulWatchOptions, type ResolvedWatchOptions, resolveWatchOptions, throwIfIssues } from './options.js';

/** Options of {@link ConsulSource}. */
export interface ConsulSourceOptions extends ConsulWatchOptions {
  /** Name in logs and staleness reports. Default `consul` (`consul:<dc>` with a datacenter). */
  name?: string;
  /**
   * Watch only these services (one `/v1/health/service` blocking query each). Default: every
   * service in the catalog, found with a blocking query on `/v1/catalog/services`, minus `exclude`.
   */
  services?: readonly string[];
}

/**
 * Consul as a discovery {@link Source}: the instances of every watched service that pass their
 * health checks (critical ones are left out; maintenance mode reads as `OUT_OF_SERVICE`), kept
 * current with blocking queries — index, jittered wait, index reset when it goes backwards,
 * backoff on errors. A failure is reported to the observer (Discovery keeps the last state and
 * marks it stale) and logged once per failure streak (`WEFT_WARN_WATCH_RESTART`, with the
 * cause), and the watch carries on; once every query answers again the state is delivered
 * (clearing the stale mark) and a `watch-recovered` debug event logged. It never ends by itself.
 *
 * ```ts
 * const discovery = new Discovery({ sources: [new ConsulSource({ address: 'http://127.0.0.1:8500' })] });
 * ```
 */
export class ConsulSource implements Source {
  readonly name: string;
  private readonly options: ResolvedWatchOptions & { services: readonly string[] | undefined; source: string };
  private readonly api: LazyClient<ConsulApi>;

  constructor(options: ConsulSourceOptions = {}) {
    const issues: ValidationIssue[] = [];
    const resolved = resolveWatchOptions(options, issues);
    if (
      options.services !== undefined &&
      (!Array.isArray(options.services) || options.services.some((s) => typeof s !== 'string' || s === ''))
    )
      issues.push({ path: 'services', message: 'must be a list of non-empty service names' });
    if (options.name !== undefined && (typeof options.name !== 'string' || options.name === ''))
      issues.push({ path: 'name', message: 'must be a non-empty string' });
    throwIfIssues('Consul source options', issues);
    this.name = options.name ?? (options.datacenter === undefined ? 'consul' : `consul:${options.datacenter}`);
    const { address, token, datacenter, ...watch } = resolved;
    const connection = {
      ...(address === undefined ? {} : { address }),
      ...(token === undefined ? {} : { token }),
      ...(datacenter === undefined ? {} : { datacenter }),
    };
    // A missing client library is reported to each subscriber; a later subscribe tries again.
    this.api = new LazyClient(() => createConsulApi(connection));
    this.options = {
      ...watch,
      services: options.services === undefined ? undefined : [...new Set(options.services)],
      source: this.name,
    };
  }

  subscribe(observer: SourceObserver): Subscription {
    const watch = new CatalogWatch(this.api.get(), this.options, {
      next: (instances, index) => observer.next({ instances, revision: index }),
      error: (error) => observer.error(error),
    });
    const unsubscribe = (): void => watch.stop();
    return { unsubscribe, [Symbol.dispose]: unsubscribe };
  }

  /** Closes the HTTP client's idle keep-alive sockets. Subscriptions should be ended first. */
  close(): void {
    this.api.take()?.then(
      (a) => a.destroy(),
      () => {},
    );
  }
}
