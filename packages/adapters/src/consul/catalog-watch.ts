import { type BackoffOptions, type Clock, instanceFingerprint, type ServiceInstance } from '@weft/core';
import { type AdapterLogger, WarnOnce } from '../internal/log.js';
import { WatchHealth } from '../internal/watch-health.js';
import { runBlockingQuery } from './blocking-query.js';
import type { ConsulApi } from './client.js';
import { type EntryMapping, entryToInstance } from './mapping.js';

/** Settings of a {@link CatalogWatch}. */
export interface CatalogWatchOptions extends EntryMapping {
  /** Watch only these services; every service in the catalog (but `exclude`) when undefined. */
  services: readonly string[] | undefined;
  /** Services never watched in catalog-wide mode. */
  exclude: readonly string[];
  waitMs: number;
  backoff: BackoffOptions;
  clock: Clock;
  logger: AdapterLogger;
  random?: () => number;
}

/** What a {@link CatalogWatch} reports. */
export interface CatalogWatchHandlers {
  /** The complete current state (every watched service), and the highest Consul index seen. */
  next(instances: readonly ServiceInstance[], index: number): void;
  /** A failed request (logged once per failure streak); the watch retries on its own. */
  error(error: Error): void;
  /** Every loop answers again after `error` (the next `next` is sent even if nothing changed). */
  recovered?(): void;
  /** The watch cannot run at all (the client library is missing, bad options); it has stopped. */
  fatal?(error: Error): void;
}

interface ServiceWatch {
  readonly abort: AbortController;
  /** Warnings of this service's entries, forgotten once an entry is fixed or gone. */
  readonly warnings: WarnOnce;
  /** Undefined until the first answer. */
  instances: readonly ServiceInstance[] | undefined;
  fingerprint: string;
  index: bigint;
}

/**
 * The state of many Consul services, kept current by blocking queries: one on
 * `/v1/catalog/services` (which services exist; skipped when the services are given) and one on
 * `/v1/health/service/<name>` per service. Reports the whole state after each change, once
 * every service has answered at least once, and every failure as it happens; each loop
 * recovers on its own, and the first good answer after a failure is always reported (so a
 * consumer that marked the state stale learns it is fresh again).
 */
export class CatalogWatch {
  private readonly abort = new AbortController();
  private readonly watches = new Map<string, ServiceWatch>();
  private catalogLoaded: boolean;
  private catalogIndex = 0n;
  private emitScheduled = false;
  private forceEmit = true;
  /** The loops (`catalog`, `service <name>`) as parts of one failure streak. */
  private readonly health: WatchHealth;
  private lastFingerprint: string | undefined;

  constructor(
    private readonly api: Promise<ConsulApi>,
    private readonly options: CatalogWatchOptions,
    private readonly handlers: CatalogWatchHandlers,
  ) {
    this.catalogLoaded = options.services !== undefined;
    this.health = new WatchHealth({
      source: options.source,
      object: options.services === undefined ? 'the catalog' : options.services.map((s) => `service ${s}`).join(', '),
      logger: options.logger,
      clock: options.clock,
      onError: (error) => {
        if (!this.abort.signal.aborted) handlers.error(error);
      },
      onRecover: () => {
        if (!this.abort.signal.aborted) handlers.recovered?.();
      },
    });
    void this.start();
  }

  stop(): void {
    this.abort.abort();
    for (const w of this.watches.values()) w.abort.abort();
    this.watches.clear();
  }

  private async start(): Promise<void> {
    let api: ConsulApi;
    try {
      api = await this.api;
    } catch (err) {
      // Nothing to retry: the client library is missing or the options are wrong.
      if (this.abort.signal.aborted) return;
      const error = err instanceof Error ? err : new Error(String(err));
      if (this.handlers.fatal !== undefined) this.handlers.fatal(error);
      else this.handlers.error(error);
      return;
    }
    if (this.abort.signal.aborted) return;
    if (this.options.services !== undefined) {
      for (const name of this.options.services) this.watchService(api, name);
      return;
    }
    void runBlockingQuery(
      (o) => api.catalogServices(o),
      {
        result: (body, index) => {
          this.catalogIndex = index;
          this.syncServices(api, Object.keys(body));
          this.recovered('catalog');
        },
        error: (err) => this.onError('catalog', err),
      },
      this.loopOptions(this.abort.signal),
    );
  }

  private loopOptions(signal: AbortSignal) {
    return {
      waitMs: this.options.waitMs,
      slackMs: 2_000,
      backoff: this.options.backoff,
      clock: this.options.clock,
      signal,
      ...(this.options.random === undefined ? {} : { random: this.options.random }),
    };
  }

  private syncServices(api: ConsulApi, names: string[]): void {
    const wanted = new Set(names.filter((n) => !this.options.exclude.includes(n)));
    let removed = false;
    for (const [name, w] of this.watches) {
      if (wanted.has(name)) continue;
      w.abort.abort();
      this.watches.delete(name);
      this.recovered(`service ${name}`); // a service that is gone cannot hold a failure streak open
      removed = true;
    }
    for (const name of wanted) if (!this.watches.has(name)) this.watchService(api, name);
    const first = !this.catalogLoaded;
    this.catalogLoaded = true;
    if (removed || first) this.scheduleEmit(false);
  }

  /** A loop answered: once no loop is failing any more, the next snapshot is sent even if unchanged. */
  private recovered(loop: string): void {
    if (this.health.recovered(loop)) this.scheduleEmit(true);
  }

  private watchService(api: ConsulApi, name: string): void {
    const abort = new AbortController();
    const w: ServiceWatch = {
      abort,
      warnings: new WarnOnce(this.options.logger),
      instances: undefined,
      fingerprint: '',
      index: 0n,
    };
    const loop = `service ${name}`;
    this.watches.set(name, w);
    const signal = AbortSignal.any([this.abort.signal, abort.signal]);
    void runBlockingQuery(
      (o) => api.healthService(name, o),
      {
        result: (entries, index, changed) => {
          if (abort.signal.aborted) return;
          w.index = index;
          if (changed || w.instances === undefined) {
            const instances: ServiceInstance[] = [];
            for (const e of entries) {
              const r = entryToInstance(e, this.options);
              if (r.kind === 'instance') instances.push(r.instance);
              else if (r.kind === 'skipped') w.warnings.warn(r.warning);
            }
            w.warnings.retain();
            instances.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
            const fingerprint = instances.map(instanceFingerprint).join('\n');
            if (w.instances === undefined || fingerprint !== w.fingerprint) {
              w.instances = Object.freeze(instances);
              w.fingerprint = fingerprint;
              this.scheduleEmit(false);
            }
          }
          this.recovered(loop);
        },
        error: (err) => this.onError(loop, err),
      },
      this.loopOptions(signal),
    );
  }

  /** A loop failed: the first failure of any loop warns, every one is reported (see {@link WatchHealth}). */
  private onError(loop: string, err: Error): void {
    if (this.abort.signal.aborted) return;
    this.health.failed(err, { what: `the Consul watch of ${loop}`, part: loop });
  }

  private scheduleEmit(force: boolean): void {
    if (force) this.forceEmit = true;
    if (this.emitScheduled) return;
    this.emitScheduled = true;
    // Answers that arrive together (after a reconnect, say) make one snapshot.
    queueMicrotask(() => {
      this.emitScheduled = false;
      this.emit();
    });
  }

  private emit(): void {
    if (this.abort.signal.aborted || !this.catalogLoaded) return;
    const names = [...this.watches.keys()].sort();
    const all: ServiceInstance[] = [];
    let index = this.catalogIndex;
    for (const name of names) {
      const w = this.watches.get(name) as ServiceWatch;
      if (w.instances === undefined) return; // the first complete state is not there yet
      for (const i of w.instances) all.push(i);
      if (w.index > index) index = w.index;
    }
    const fingerprint = names.map((n) => (this.watches.get(n) as ServiceWatch).fingerprint).join('\n\n');
    const force = this.forceEmit;
    if (!force && fingerprint === this.lastFingerprint) return;
    this.forceEmit = false;
    this.lastFingerprint = fingerprint;
    this.handlers.next(Object.freeze(all), Number(index));
  }
}
