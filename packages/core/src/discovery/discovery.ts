import { EventEmitter } from 'eventemitter3';
import { type Clock, systemClock } from '../clock/index.js';
import { ClosedError, InvalidArgumentError, WeftError } from '../errors/index.js';
import type { ServiceInstance } from '../model/index.js';
import { hasAllTags } from '../model/index.js';
import type { Subscription } from '../registry/types.js';
import { type EndpointFilter, type EndpointSet, instanceFingerprint } from './endpoint-set.js';
import type { Source, SourceSnapshot } from './source.js';
import { groupByService, type SourceHealth, SourceState } from './source-state.js';
import { SourcesFailedError } from './start-error.js';

/** Options of {@link Discovery}. */
export interface DiscoveryOptions {
  /**
   * Where instances come from. When two sources report the same instance id, the one listed
   * first wins, so list the most authoritative source first.
   */
  sources: readonly Source[];
  /** Clock for staleness; defaults to the system clock. */
  clock?: Clock;
}

/** Events of {@link Discovery}. */
export interface DiscoveryEvents {
  /** A service's endpoint set changed (membership, or its staleness). */
  change: (service: string) => void;
  /** A source failed; its last-known-good state is kept. */
  sourceError: (source: string, error: Error) => void;
  /** A failing source delivered a snapshot again. */
  sourceRecovered: (source: string) => void;
}

interface ServiceEntry {
  revision: number;
  /** Merged instances of every status, sorted by id. */
  all: readonly ServiceInstance[];
  fingerprint: string;
  /** Filtered views of `all`, keyed by filter, valid for `revision`. */
  views: Map<string, EndpointSet>;
  watchers: Set<Watcher>;
}

interface Watcher {
  filter: EndpointFilter;
  listener: (set: EndpointSet) => void;
  scheduled: boolean;
  closed: boolean;
}

const DEFAULT_STATUS: readonly ServiceInstance['status'][] = ['UP'];

/**
 * Merges one or more {@link Source}s into per-service endpoint sets. Keeps each source's
 * last-known-good catalogue when it fails and reports how stale it is; bumps a service's
 * revision only when its set really changed, so balancers built on it are rebuilt only then.
 *
 * @example
 * ```ts
 * import { Discovery, MemoryRegistry } from '@weft/core';
 *
 * const registry = new MemoryRegistry();
 * // List the most authoritative source first: it wins when two report the same instance.
 * const discovery = new Discovery({ sources: [registry.asSource()] });
 * await discovery.ready();
 * const v2 = discovery.endpoints('reviews', { tags: ['version=v2'] }); // UP instances by default
 * discovery.watch('reviews', (set) => console.log(set.revision, set.instances.length, set.stale));
 * ```
 */
export class Discovery extends EventEmitter<DiscoveryEvents> {
  private readonly clock: Clock;
  private readonly states: SourceState[];
  private readonly services_ = new Map<string, ServiceEntry>();
  private readonly firstSnapshot: Promise<void>;
  /** Discovery-wide change counter; every set change takes the next value, so revisions never repeat. */
  private revision = 0;
  private closed = false;

  constructor(options: DiscoveryOptions) {
    super();
    if (!options || !Array.isArray(options.sources) || options.sources.length === 0)
      throw new InvalidArgumentError('discovery options', [
        { path: 'sources', message: 'must list at least one source' },
      ]);
    this.clock = options.clock ?? systemClock;
    this.states = options.sources.map((s, i) => new SourceState(s, i));
    let resolveReady: () => void = () => {};
    this.firstSnapshot = new Promise<void>((r) => {
      resolveReady = r;
    });
    const maybeReady = (): void => {
      if (this.states.every((s) => s.state !== 'pending' || s.lastError !== undefined)) resolveReady();
    };
    for (const state of this.states) {
      state.subscription = state.source.subscribe({
        next: (snapshot) => {
          this.onSnapshot(state, snapshot);
          maybeReady();
        },
        error: (error) => {
          this.onSourceError(state, error);
          maybeReady();
        },
      });
    }
  }

  /**
   * Waits for a warm cache: resolves once every source has delivered its first snapshot.
   *
   * Rejects with a {@link SourcesFailedError} (`WEFT_ERR_SOURCE_FAILED`) once every source has
   * either delivered or failed, if any failed before its first snapshot — it has nothing to
   * serve, and the error names each such source and why (a missing adapter peer such as
   * `etcd3`, a server that refused the connection). Discovery keeps running and those sources
   * keep retrying, so a caller that can start without them catches the error and goes on;
   * {@link Discovery.health} tells the same story later. A source that delivered a snapshot
   * and failed afterwards is not an error here: its last-known-good state is served.
   *
   * Rejects with a `WEFT_ERR_TIMEOUT` {@link WeftError} naming the sources still silent after
   * `timeoutMs` (default 10 s).
   *
   * @example
   * ```ts
   * import { Discovery, isWeftError, MemoryRegistry } from '@weft/core';
   *
   * const discovery = new Discovery({ sources: [new MemoryRegistry().asSource()] });
   * try {
   *   await discovery.ready();
   * } catch (err) {
   *   if (!isWeftError(err, 'WEFT_ERR_SOURCE_FAILED')) throw err;
   *   console.warn(err.message); // "… failed before their first snapshot: etcd:/weft: … npm install etcd3 …"
   * }
   * ```
   */
  ready(timeoutMs = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = this.clock.setTimeout(() => {
        const pending = this.states.filter((s) => s.state === 'pending').map((s) => s.source.name);
        reject(
          new WeftError(
            'WEFT_ERR_TIMEOUT',
            `Discovery not ready after ${timeoutMs} ms; waiting for: ${pending.join(', ')}`,
          ),
        );
      }, timeoutMs);
      this.firstSnapshot.then(() => {
        timer.clear();
        // Sources that failed and never delivered: judged now, not when the first settled, so a
        // source that failed once and then came through is not reported.
        const failures = this.states
          .filter((s) => s.lastUpdate === undefined && s.lastError !== undefined)
          .map((s) => ({ source: s.source.name, error: s.lastError as Error }));
        if (failures.length > 0) reject(new SourcesFailedError(failures));
        else resolve();
      }, reject);
    });
  }

  /** Names of every known service (any status), sorted. */
  services(): string[] {
    const out: string[] = [];
    for (const [name, entry] of this.services_) if (entry.all.length > 0) out.push(name);
    return out.sort();
  }

  /**
   * The current endpoint set of `service`, filtered (default: status UP). Unknown services give
   * an empty set with revision 0.
   */
  endpoints(service: string, filter: EndpointFilter = {}): EndpointSet {
    this.assertOpen();
    const entry = this.services_.get(service);
    if (entry === undefined) return { service, revision: 0, instances: [], stale: false, staleForMs: 0 };
    const key = filterKey(filter);
    let view = entry.views.get(key);
    if (view === undefined) {
      view = {
        service,
        revision: entry.revision,
        instances: applyFilter(entry.all, filter),
        stale: false,
        staleForMs: 0,
      };
      entry.views.set(key, view);
    }
    const staleSince = this.staleSince(service);
    if (staleSince === undefined) return view;
    return { ...view, stale: true, staleForMs: Math.max(0, this.clock.now() - staleSince) };
  }

  /**
   * Calls `listener` with the current set of `service` and again whenever it changes. Calls are
   * asynchronous and coalesced: a burst of changes yields one call with the latest set.
   */
  watch(service: string, listener: (set: EndpointSet) => void, filter: EndpointFilter = {}): Subscription {
    this.assertOpen();
    const entry = this.entry(service);
    const watcher: Watcher = { filter, listener, scheduled: false, closed: false };
    entry.watchers.add(watcher);
    this.schedule(service, watcher);
    const unsubscribe = (): void => {
      watcher.closed = true;
      const e = this.services_.get(service);
      if (e === undefined) return;
      e.watchers.delete(watcher);
      // Forget services nobody reports and nobody watches, so watch/unwatch cycles do not leak.
      if (e.watchers.size === 0 && e.all.length === 0) this.services_.delete(service);
    };
    return { unsubscribe, [Symbol.dispose]: unsubscribe };
  }

  /** Health of every source, in the order given. */
  health(): SourceHealth[] {
    return this.states.map((s) => s.health());
  }

  /** Unsubscribes from every source and drops all watchers. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.states) s.subscription?.unsubscribe();
    for (const entry of this.services_.values()) {
      for (const w of entry.watchers) w.closed = true;
      entry.watchers.clear();
    }
    this.services_.clear();
    this.removeAllListeners();
  }

  private onSnapshot(state: SourceState, snapshot: SourceSnapshot): void {
    if (this.closed) return;
    const recovered = state.state === 'stale';
    const previous = state.byService;
    state.byService = groupByService(snapshot.instances);
    state.state = 'ok';
    state.staleSince = undefined;
    state.lastError = undefined;
    state.lastUpdate = this.clock.now();
    state.revision = snapshot.revision;
    const touched = new Set<string>(previous.keys());
    for (const name of state.byService.keys()) touched.add(name);
    for (const service of touched) this.remerge(service, recovered);
    if (recovered) this.emit('sourceRecovered', state.source.name);
  }

  private onSourceError(state: SourceState, error: Error): void {
    if (this.closed) return;
    state.lastError = error;
    if (state.state !== 'stale') {
      state.state = 'stale';
      state.staleSince = this.clock.now();
      // Watchers learn that their set is now last-known-good (same revision, stale flag set).
      for (const service of state.byService.keys()) this.notify(service);
    }
    this.emit('sourceError', state.source.name, error);
  }

  /** Recomputes the merged set of one service; bumps the revision only on a real change. */
  private remerge(service: string, forceNotify: boolean): void {
    const byId = new Map<string, ServiceInstance>();
    for (const s of this.states) {
      const list = s.byService.get(service);
      if (list === undefined) continue;
      for (const i of list) if (!byId.has(i.id)) byId.set(i.id, i);
    }
    const all = [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const fingerprint = all.map(instanceFingerprint).join('\n');
    const entry = this.entry(service);
    if (fingerprint === entry.fingerprint) {
      if (forceNotify) this.notify(service);
      return;
    }
    entry.revision = ++this.revision;
    entry.all = Object.freeze(all);
    entry.fingerprint = fingerprint;
    entry.views.clear();
    if (all.length === 0 && entry.watchers.size === 0) this.services_.delete(service);
    this.notify(service);
  }

  private notify(service: string): void {
    const entry = this.services_.get(service);
    if (entry !== undefined) for (const w of entry.watchers) this.schedule(service, w);
    this.emit('change', service);
  }

  private schedule(service: string, watcher: Watcher): void {
    if (watcher.scheduled) return; // coalesce: the pending call will read the latest set
    watcher.scheduled = true;
    queueMicrotask(() => {
      watcher.scheduled = false;
      if (watcher.closed || this.closed) return;
      watcher.listener(this.endpoints(service, watcher.filter));
    });
  }

  private entry(service: string): ServiceEntry {
    let entry = this.services_.get(service);
    if (entry === undefined) {
      entry = { revision: 0, all: [], fingerprint: '', views: new Map(), watchers: new Set() };
      this.services_.set(service, entry);
    }
    return entry;
  }

  /** Earliest failure start among stale sources that contribute to `service`. */
  private staleSince(service: string): number | undefined {
    let since: number | undefined;
    for (const s of this.states) {
      if (s.state !== 'stale' || s.staleSince === undefined || !s.byService.has(service)) continue;
      if (since === undefined || s.staleSince < since) since = s.staleSince;
    }
    return since;
  }

  private assertOpen(): void {
    if (this.closed) throw new ClosedError('Discovery');
  }
}

function filterKey(filter: EndpointFilter): string {
  const tags = filter.tags === undefined ? '' : [...filter.tags].sort().join(',');
  const status = (filter.status ?? DEFAULT_STATUS).join(',');
  return `${status}|${tags}`;
}

function applyFilter(all: readonly ServiceInstance[], filter: EndpointFilter): readonly ServiceInstance[] {
  const status = filter.status ?? DEFAULT_STATUS;
  const tags = filter.tags ?? [];
  return Object.freeze(all.filter((i) => status.includes(i.status) && hasAllTags(i.tags, tags)));
}
