import {
  ClosedError,
  DEFAULT_NAMESPACE,
  InvalidArgumentError,
  type Source,
  type SourceObserver,
  type Subscription,
} from '@weft/core';
import { type AdapterLogger, processWarningLogger } from '../internal/log.js';
import { EtcdClientHolder, type EtcdConnectionOptions } from './client.js';
import { InstanceDecoder } from './decoder.js';
import { namespaceKeyPrefix, normalizePrefix, serviceKeyPrefix } from './keys.js';
import { PrefixWatch, timingOf, type WatchTiming } from './prefix-watch.js';

/** Options of {@link EtcdSource}. */
export interface EtcdSourceOptions extends EtcdConnectionOptions, WatchTiming {
  /** Root of Weft's keys. Default `/weft`. */
  prefix?: string;
  /** Namespace to read. Default `default`. */
  namespace?: string;
  /** Only this service (a narrower watch); the whole namespace when absent. */
  service?: string;
  /** Name in logs and staleness reports. Default `etcd:<prefix>/<namespace>`. */
  name?: string;
  /**
   * Where coded warnings go (bad values, relists, and one `WEFT_WARN_WATCH_RESTART` per failure
   * streak) and debug events (`listed`, `watching`, `watch-failed`, `watch-recovered`). Default:
   * process warnings.
   */
  logger?: AdapterLogger;
}

/**
 * A discovery {@link Source} over the instances a Weft registry keeps in etcd (the layout of
 * {@link EtcdRegistry}, documented in the package README). Each subscription lists the prefix,
 * then watches it; it resumes from the last revision after a disconnect, lists again after a
 * compaction, restarts a stream that stops answering, and delivers a complete snapshot after each
 * change. Values that are not instances are skipped with a coded warning naming the key. A lost
 * server is reported to the observer (Discovery marks the state stale) at each failed attempt,
 * and logged once per failure streak (`WEFT_WARN_WATCH_RESTART`, with the cause); once back, the
 * state is delivered again (clearing the stale mark) and a `watch-recovered` debug event logged.
 *
 * ```ts
 * const source = new EtcdSource({ hosts: 'http://127.0.0.1:2379' });
 * const discovery = new Discovery({ sources: [source] });
 * ```
 */
export class EtcdSource implements Source {
  readonly name: string;
  private readonly holder: EtcdClientHolder;
  private readonly keyPrefix: string;
  private readonly prefix: string;
  private readonly logger: AdapterLogger;
  private readonly watches = new Set<PrefixWatch>();
  private closed = false;

  constructor(private readonly options: EtcdSourceOptions = {}) {
    const issues: { path: string; message: string }[] = [];
    if (options.namespace !== undefined && (typeof options.namespace !== 'string' || options.namespace === ''))
      issues.push({ path: 'namespace', message: 'must be a non-empty string' });
    if (options.service !== undefined && (typeof options.service !== 'string' || options.service === ''))
      issues.push({ path: 'service', message: 'must be a non-empty string' });
    for (const k of ['progressIntervalMs', 'stallTimeoutMs', 'requestTimeoutMs'] as const) {
      const v = options[k];
      if (v !== undefined && !(typeof v === 'number' && v > 0))
        issues.push({ path: k, message: 'must be a number of milliseconds > 0' });
    }
    if (issues.length > 0) throw new InvalidArgumentError('EtcdSource options', issues);
    this.prefix = normalizePrefix(options.prefix);
    const namespace = options.namespace ?? DEFAULT_NAMESPACE;
    this.keyPrefix =
      options.service === undefined
        ? namespaceKeyPrefix(this.prefix, namespace)
        : serviceKeyPrefix(this.prefix, namespace, options.service);
    this.name = options.name ?? `etcd:${this.prefix}/${namespace}`;
    this.logger = options.logger ?? processWarningLogger;
    this.holder = new EtcdClientHolder(options);
  }

  subscribe(observer: SourceObserver): Subscription {
    if (this.closed) throw new ClosedError(this.name);
    const decoder = new InstanceDecoder(this.prefix, this.name, this.logger);
    const watch = new PrefixWatch({
      ...timingOf(this.options),
      holder: this.holder,
      prefix: this.keyPrefix,
      name: this.name,
      logger: this.logger,
      onState: (state, revision) => observer.next({ instances: Object.freeze(decoder.decode(state)), revision }),
      onError: (error) => observer.error(error),
    });
    this.watches.add(watch);
    watch.start();
    const unsubscribe = (): void => {
      if (!this.watches.delete(watch)) return;
      watch.stop();
    };
    return { unsubscribe, [Symbol.dispose]: unsubscribe };
  }

  /** Stops every subscription and closes the etcd client (unless it was passed in). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.watches) w.stop();
    this.watches.clear();
    await this.holder.close();
  }
}
