import type { CircuitBreaker, OutlierDetector, RetryBudget, ServiceInstance } from '@weft/core';
import { Pool } from 'undici';
import type { ServiceCounters } from '../telemetry/metrics.js';
import type { MeshEngine } from './engine.js';
import { type BreakerState, createBreaker, createOutlierDetector, createRetryBudget } from './health.js';
import { makePicker } from './pickers.js';
import type { Discovery, EndpointSet, LbPolicy, Picker } from './types.js';

/** One upstream instance with its connection pool and health state. */
export class EndpointEntry {
  readonly id: string;
  readonly weight: number;
  /** `host:port`. */
  readonly address: string;
  /** `http://host:port`. */
  readonly origin: string;
  readonly pool: Pool;
  /** Core's circuit breaker of this endpoint. */
  readonly breaker: CircuitBreaker;
  /** Requests in flight to this endpoint (capped at `breaker.maxRequests`). */
  inflight = 0;
  /** Taken out of rotation by outlier detection. */
  ejected = false;
  /** Times ejected. */
  ejections = 0;
  /** Index in the service's endpoint list (the outlier detector's index). */
  slot = -1;
  /** Subset pickers this entry is a member of, with its index in each. */
  readonly memberships: Array<{ subset: Subset; index: number }> = [];
  /** Set when the instance left discovery; the pool is closed once idle. */
  retired = false;

  constructor(
    readonly instance: ServiceInstance,
    readonly service: string,
    engine: MeshEngine,
  ) {
    this.id = instance.id;
    const w = Number((instance.metadata as { weight?: unknown }).weight);
    this.weight = Number.isFinite(w) && w > 0 ? w : 1;
    const host = instance.endpoint.host ?? '127.0.0.1';
    const port = instance.endpoint.port ?? 80;
    this.address = instance.endpoint.value;
    const hostPart = host.includes(':') ? `[${host}]` : host;
    const scheme = instance.endpoint.type === 'https' ? 'https' : 'http';
    this.origin = `${scheme}://${hostPart}:${port}`;
    this.pool = new Pool(this.origin, engine.poolOptions);
    this.breaker = createBreaker(engine.options.breaker ?? {}, engine.clock);
    this.breaker.onStateChange((change) => engine.onBreakerChange(this, change.to as BreakerState));
  }

  /** Stops the breaker's timers and closes the pool once idle. */
  retire(): void {
    this.retired = true;
    this.breaker.dispose();
    void this.pool.close().catch(() => undefined);
  }
}

/** The instances of a service that carry a given tag set, with their picker. */
export class Subset {
  readonly key: string;
  revision = -1;
  set: EndpointSet | undefined;
  entries: EndpointEntry[] = [];
  picker: Picker<EndpointEntry>;
  /** Round-robin cursor for panic mode (every endpoint ejected). */
  panicCursor = 0;

  constructor(
    readonly tags: readonly string[],
    readonly policy: LbPolicy,
  ) {
    this.key = subsetKey(tags, policy);
    this.picker = makePicker<EndpointEntry>(policy, []);
  }
}

export function subsetKey(tags: readonly string[], policy: LbPolicy): string {
  if (tags.length === 0) return policy;
  return `${policy}|${tags.length === 1 ? tags[0] : [...tags].sort().join(',')}`;
}

/**
 * Per-service state of the engine: one {@link Subset} per backend tag set seen in routes, the
 * endpoint entries shared by them, rebuilt only when Discovery reports a change.
 */
export class ServiceTable {
  readonly subsets = new Map<string, Subset>();
  readonly entries = new Map<string, EndpointEntry>();
  /** Set by Discovery's change event; the next request refreshes the subsets. */
  dirty = true;
  readonly name: string;
  /** This service's metric counters (undefined when metrics are off). */
  readonly counters: ServiceCounters | undefined;
  /** This service's retry budget (undefined when budgets are off). */
  readonly budget: RetryBudget | undefined;
  /** Every entry, indexed by `entry.slot` (the outlier detector's indexes). */
  private list: EndpointEntry[] = [];
  /** Passive health checking over all the service's endpoints; undefined when disabled. */
  readonly detector: OutlierDetector | undefined;

  constructor(
    name: string,
    private readonly engine: MeshEngine,
  ) {
    this.name = name;
    this.counters = engine.metrics?.counters(name);
    this.budget =
      engine.options.retryBudget === false
        ? undefined
        : createRetryBudget(engine.options.retryBudget ?? {}, engine.clock);
    const outlier = engine.options.outlier;
    if (outlier !== false) {
      this.detector = createOutlierDetector(this.target, 0, outlier ?? {}, engine.clock);
      this.detector.onEject(() => engine.metrics?.ejection(name, true));
    }
  }

  /** What the outlier detector drives: an endpoint of the list in or out of every subset picker. */
  private readonly target = {
    setEjected: (index: number, ejected: boolean): void => {
      const entry = this.list[index];
      if (entry === undefined || entry.ejected === ejected) return;
      entry.ejected = ejected;
      if (ejected) entry.ejections++;
      else this.engine.metrics?.ejection(this.name, false);
      this.setEjected(entry, ejected);
    },
  };

  /** Re-indexes the endpoint list after entries came or went; the detector keeps their state. */
  private reindex(): void {
    const next = [...this.entries.values()];
    const previous = next.map((e) => e.slot);
    for (let i = 0; i < next.length; i++) (next[i] as EndpointEntry).slot = i;
    this.list = next;
    this.detector?.rebind(this.target, next.length, (i) => previous[i] ?? -1);
  }

  /** Feeds an attempt outcome to outlier detection. */
  record(entry: EndpointEntry, outcome: number): void {
    if (entry.slot >= 0 && this.list[entry.slot] === entry) this.detector?.record(entry.slot, outcome);
  }

  // Rule backends hand out the same frozen tags array for every request: remember the last one.
  private lastTags: readonly string[] | undefined;
  private lastPolicy: LbPolicy | undefined;
  private lastSubset: Subset | undefined;

  /** The subset for `tags` (created on first use), refreshed if Discovery changed. */
  subset(tags: readonly string[], policy: LbPolicy): Subset {
    if (this.dirty) this.refresh();
    if (tags === this.lastTags && policy === this.lastPolicy && this.lastSubset !== undefined) return this.lastSubset;
    const s = this.lookup(tags, policy);
    this.lastTags = tags;
    this.lastPolicy = policy;
    this.lastSubset = s;
    return s;
  }

  private lookup(tags: readonly string[], policy: LbPolicy): Subset {
    const key = subsetKey(tags, policy);
    let s = this.subsets.get(key);
    if (s === undefined) {
      s = new Subset(tags, policy);
      this.subsets.set(key, s);
      this.rebuild(s, this.engine.discovery);
    }
    return s;
  }

  /** Re-reads every subset from Discovery; rebuilds pickers whose set revision changed. */
  refresh(): void {
    this.dirty = false;
    const discovery = this.engine.discovery;
    const live = new Set<string>();
    for (const s of this.subsets.values()) {
      this.rebuild(s, discovery);
      for (const e of s.entries) live.add(e.id);
    }
    // Also keep entries of the full set (the default subset may not exist yet).
    for (const i of discovery.endpoints(this.name).instances) live.add(i.id);
    let removed = false;
    for (const [id, entry] of this.entries) {
      if (live.has(id)) continue;
      this.entries.delete(id);
      // Graceful: in-flight requests finish, then the sockets close.
      entry.retire();
      this.engine.metrics?.forgetEndpoint(this.name, entry.address);
      removed = true;
    }
    if (removed) this.reindex();
  }

  private rebuild(s: Subset, discovery: Discovery): void {
    const set = discovery.endpoints(this.name, s.tags.length === 0 ? {} : { tags: s.tags });
    s.set = set;
    if (set.revision === s.revision) return;
    s.revision = set.revision;
    for (const e of s.entries) {
      const i = e.memberships.findIndex((m) => m.subset === s);
      if (i >= 0) e.memberships.splice(i, 1);
    }
    const entries: EndpointEntry[] = [];
    let changed = false;
    for (const inst of set.instances) {
      if (inst.endpoint.type !== 'http' && inst.endpoint.type !== 'https' && inst.endpoint.type !== 'tcp') continue;
      if (inst.endpoint.port === undefined) continue;
      let entry = this.entries.get(inst.id);
      if (entry !== undefined && entry.instance.endpoint.value !== inst.endpoint.value) {
        entry.retire();
        this.entries.delete(inst.id);
        entry = undefined;
      }
      if (entry === undefined) {
        entry = new EndpointEntry(inst, this.name, this.engine);
        this.entries.set(inst.id, entry);
        changed = true;
      }
      entries.push(entry);
    }
    if (changed) this.reindex();
    s.entries = entries;
    s.picker = makePicker<EndpointEntry>(s.policy, entries);
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i] as EndpointEntry;
      e.memberships.push({ subset: s, index: i });
      if (e.ejected) s.picker.setEjected(i, true);
    }
  }

  /** Applies an ejection change of `entry` to every picker it belongs to. */
  setEjected(entry: EndpointEntry, ejected: boolean): void {
    for (const m of entry.memberships) m.subset.picker.setEjected(m.index, ejected);
  }

  /** Closes every pool. */
  async close(): Promise<void> {
    this.detector?.dispose();
    for (const e of this.entries.values()) e.breaker.dispose();
    await Promise.all([...this.entries.values()].map((e) => e.pool.close().catch(() => undefined)));
    this.entries.clear();
    this.subsets.clear();
    this.lastSubset = undefined;
  }
}
