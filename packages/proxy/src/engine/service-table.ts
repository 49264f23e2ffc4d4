import {
  type BackendResilienceSettings,
  type BalancerPolicy,
  balancerPolicy,
  type CircuitBreaker,
  EndpointLoad,
  type OutlierDetector,
  type RetryBudget,
  type ServiceInstance,
} from '@weft/core';
import { backendLabel, type CallCounters, type ServiceCounters } from '../telemetry/metrics.js';
import { announcedIdentity } from '../tls/credentials.js';
import { BackendPolicy, resilienceKey } from './backend-policy.js';
import type { EngineContext } from './engine-context.js';
import { type BreakerState, createBreaker, createOutlierDetector, createRetryBudget } from './health.js';
import type { EndpointPool } from './options.js';
import type { Discovery, EndpointSet, LbPolicy, Picker } from './types.js';

/** An entry's place in a subset's current picker (outlier ejection reaches it through this). */
export interface Membership {
  readonly subset: Subset;
  readonly index: number;
}

/** An instance's balancing weight: `metadata.weight` when a positive number, else 1. */
function weightOf(instance: ServiceInstance): number {
  const w = Number((instance.metadata as { weight?: unknown }).weight);
  return Number.isFinite(w) && w > 0 ? w : 1;
}

/** One upstream instance with its connection pool and health state. */
export class EndpointEntry {
  readonly id: string;
  /** From the instance's `metadata.weight` (1 when absent or not a positive number). */
  weight: number;
  /** `host:port`. */
  readonly address: string;
  /** `http://host:port`. */
  readonly origin: string;
  readonly pool: EndpointPool;
  /** Core's circuit breaker of this endpoint. */
  readonly breaker: CircuitBreaker;
  /** Requests in flight to this endpoint (capped at `breaker.maxRequests`). */
  inflight = 0;
  /**
   * What load-aware balancers read and update (in-flight requests, latency estimate). It belongs
   * to the entry, not to a picker, so a picker rebuilt after a membership change carries on with
   * it, and an attempt reports its end to the picker that started it even after that one was
   * replaced. Every subset picker over this entry shares it (it counts all their requests). An
   * instance that moved to another address gets a new entry, so it starts idle.
   */
  readonly load = new EndpointLoad();
  /** Taken out of rotation by outlier detection. */
  ejected = false;
  /** Times ejected. */
  ejections = 0;
  /** Index in the service's endpoint list (the outlier detector's index). */
  slot = -1;
  /** Subset pickers this entry is a member of, and its index in each. */
  readonly memberships: Membership[] = [];
  /** Set when the instance left discovery; the pool is closed once idle. */
  retired = false;

  constructor(
    /** The instance as discovery last listed it (tags and metadata follow re-registrations). */
    public instance: ServiceInstance,
    readonly service: string,
    engine: EngineContext,
    /** The group whose outlier detection this entry feeds. */
    readonly group: EndpointGroup,
  ) {
    this.id = instance.id;
    this.weight = weightOf(instance);
    const host = instance.endpoint.host ?? '127.0.0.1';
    const port = instance.endpoint.port ?? 80;
    this.address = instance.endpoint.value;
    const hostPart = host.includes(':') ? `[${host}]` : host;
    const scheme = instance.endpoint.type === 'https' ? 'https' : 'http';
    this.origin = `${scheme}://${hostPart}:${port}`;
    const backend = group.backend;
    this.pool = engine.createPool(this.origin, backend?.pool ?? engine.poolOptions, {
      service,
      peerIdentity: announcedIdentity(instance.metadata),
    });
    this.breaker = createBreaker(backend?.breaker ?? engine.options.breaker ?? {}, engine.clock);
    this.breaker.onStateChange((change) =>
      engine.metrics?.breaker(this.service, this.address, change.to as BreakerState, this.group.label),
    );
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
  revision = -1;
  set: EndpointSet | undefined;
  entries: EndpointEntry[] = [];
  picker: Picker<EndpointEntry>;
  /** Round-robin cursor for panic mode (every endpoint ejected). */
  panicCursor = 0;
  /** A call used the subset since the last {@link ServiceTable.sweepUnused}. */
  used = false;
  /** The balancer: builds the pickers, and says whether it wants request latencies. */
  readonly balancer: BalancerPolicy<LbPolicy>;
  /**
   * The metric counters of the rule backend (its tags), shared by every subset with the same tags;
   * undefined for the untagged subset and when metrics are off.
   */
  counters: CallCounters | undefined;

  constructor(
    readonly key: string,
    readonly tags: readonly string[],
    readonly policy: LbPolicy,
    /** The endpoints' pools and health state: the service's shared group, or the backend's own. */
    readonly group: EndpointGroup,
  ) {
    this.balancer = balancerPolicy(policy);
    this.picker = this.balancer.create<EndpointEntry>([]);
  }

  /** The backend's own policies when its rule gave it a `resilience` block. */
  get backend(): BackendPolicy | undefined {
    return this.group.backend;
  }

  /** Index of `entry` in the current picker, or -1 when the entry is not a member. */
  indexOf(entry: EndpointEntry): number {
    for (const m of entry.memberships) if (m.subset === this) return m.index;
    return -1;
  }
}

export function subsetKey(tags: readonly string[], policy: LbPolicy, resilience?: BackendResilienceSettings): string {
  const base = tags.length === 0 ? policy : `${policy}|${tags.length === 1 ? tags[0] : [...tags].sort().join(',')}`;
  return resilience === undefined ? base : `${base}#${resilienceKey(resilience)}`;
}

/**
 * Endpoint entries that share outlier detection: the service's shared group (the agent's
 * settings, its entries shared by every subset without resilience settings) or a backend's own
 * group (Envoy's cluster per backend, as Amalgam8 1.x configured it): its own pools, breakers and
 * detector, built from the backend's `resilience` block.
 */
export class EndpointGroup {
  readonly entries = new Map<string, EndpointEntry>();
  /** Every entry, indexed by `entry.slot` (the outlier detector's indexes). */
  private list: EndpointEntry[] = [];
  /** Passive health checking over the group's endpoints; undefined when disabled. */
  readonly detector: OutlierDetector | undefined;

  constructor(
    private readonly table: ServiceTable,
    private readonly engine: EngineContext,
    /** The backend's policies; undefined for the service's shared group. */
    readonly backend: BackendPolicy | undefined,
    /** Names the group in metrics: `shared`, or the key of the backend's subset. */
    readonly label = 'shared',
  ) {
    const outlier = backend === undefined ? engine.options.outlier : backend.outlier;
    if (outlier !== false) {
      this.detector = createOutlierDetector(this.target, 0, outlier ?? {}, engine.clock);
      this.detector.onEject(() => engine.metrics?.ejection(table.name, true));
    }
  }

  /** What the outlier detector drives: an endpoint of the list in or out of every subset picker. */
  private readonly target = {
    setEjected: (index: number, ejected: boolean): void => {
      const entry = this.list[index];
      if (entry === undefined || entry.ejected === ejected) return;
      entry.ejected = ejected;
      if (ejected) entry.ejections++;
      else this.engine.metrics?.ejection(this.table.name, false);
      for (const m of entry.memberships) m.subset.picker.setEjected(m.index, ejected);
    },
  };

  /** Re-indexes the endpoint list after entries came or went; the detector keeps their state. */
  reindex(): void {
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

  /** The entry of `inst` (created, or replaced when its address changed); `created` tells which. */
  obtain(inst: ServiceInstance): { entry: EndpointEntry; created: boolean } {
    let entry = this.entries.get(inst.id);
    // Another address, or another identity to verify over mTLS: another pool, so another entry.
    if (
      entry !== undefined &&
      (entry.instance.endpoint.value !== inst.endpoint.value ||
        announcedIdentity(entry.instance.metadata) !== announcedIdentity(inst.metadata))
    ) {
      entry.retire();
      this.entries.delete(inst.id);
      entry = undefined;
    }
    if (entry !== undefined) {
      // Same endpoint, new listing (tags, weight): what rules and fault rolls read must follow it.
      if (entry.instance !== inst) {
        entry.instance = inst;
        entry.weight = weightOf(inst);
      }
      return { entry, created: false };
    }
    entry = new EndpointEntry(inst, this.table.name, this.engine, this);
    this.entries.set(inst.id, entry);
    return { entry, created: true };
  }

  /** Retires the entries whose instance is not in `live`; true when any went. */
  retireMissing(live: ReadonlySet<string>): boolean {
    let removed = false;
    for (const [id, entry] of this.entries) {
      if (live.has(id)) continue;
      this.entries.delete(id);
      // Graceful: in-flight requests finish, then the sockets close.
      entry.retire();
      this.engine.metrics?.forgetEndpoint(this.table.name, entry.address, this.label);
      removed = true;
    }
    return removed;
  }

  /** True when no call is using the group's endpoints. */
  get idle(): boolean {
    for (const e of this.entries.values()) if (e.inflight > 0) return false;
    return this.backend === undefined || this.backend.bulkhead.running + this.backend.bulkhead.queued === 0;
  }

  /** Closes every pool. */
  async close(): Promise<void> {
    this.detector?.dispose();
    for (const e of this.entries.values()) {
      e.breaker.dispose();
      this.engine.metrics?.forgetEndpoint(this.table.name, e.address, this.label);
    }
    await Promise.all([...this.entries.values()].map((e) => e.pool.close().catch(() => undefined)));
    this.entries.clear();
  }
}

/**
 * Per-service state of the engine: one {@link Subset} per backend (tag set, lb policy and
 * resilience settings) seen in routes, the endpoint entries (shared by the subsets without
 * resilience settings; a backend with them has its own), rebuilt only when Discovery reports a
 * change.
 */
export class ServiceTable {
  readonly subsets = new Map<string, Subset>();
  /** Set by Discovery's change event; the next request refreshes the subsets. */
  dirty = true;
  readonly name: string;
  /** This service's metric counters (undefined when metrics are off). */
  readonly counters: ServiceCounters | undefined;
  /** This service's retry budget (undefined when budgets are off). */
  readonly budget: RetryBudget | undefined;
  /** The entries with the agent's settings, shared by subsets without resilience settings. */
  readonly shared: EndpointGroup;

  constructor(
    name: string,
    private readonly engine: EngineContext,
  ) {
    this.name = name;
    this.counters = engine.metrics?.counters(name);
    this.budget =
      engine.options.retryBudget === false
        ? undefined
        : createRetryBudget(engine.options.retryBudget ?? {}, engine.clock);
    this.shared = new EndpointGroup(this, engine, undefined);
  }

  /** The shared group's entries (endpoints with the agent's settings). */
  get entries(): Map<string, EndpointEntry> {
    return this.shared.entries;
  }

  /** Passive health checking of the shared entries; undefined when disabled. */
  get detector(): OutlierDetector | undefined {
    return this.shared.detector;
  }

  /** Every entry of every group. */
  *allEntries(): IterableIterator<EndpointEntry> {
    yield* this.shared.entries.values();
    for (const s of this.subsets.values()) if (s.group !== this.shared) yield* s.group.entries.values();
  }

  /** Feeds an attempt outcome to its group's outlier detection. */
  record(entry: EndpointEntry, outcome: number): void {
    entry.group.record(entry, outcome);
  }

  // Rule backends hand out the same frozen tags array for every request: remember the last one.
  private lastTags: readonly string[] | undefined;
  private lastPolicy: LbPolicy | undefined;
  private lastResilience: BackendResilienceSettings | undefined;
  private lastSubset: Subset | undefined;

  /**
   * The subset for `tags` (created on first use), refreshed if Discovery changed. A backend with
   * `resilience` settings gets its own subset, endpoint group and policies, built once and reused.
   */
  subset(tags: readonly string[], policy: LbPolicy, resilience?: BackendResilienceSettings): Subset {
    if (this.dirty) this.refresh();
    const last = this.lastSubset;
    if (
      tags === this.lastTags &&
      policy === this.lastPolicy &&
      resilience === this.lastResilience &&
      last !== undefined
    ) {
      last.used = true;
      return last;
    }
    const s = this.lookup(tags, policy, resilience);
    s.used = true;
    this.lastTags = tags;
    this.lastPolicy = policy;
    this.lastResilience = resilience;
    this.lastSubset = s;
    return s;
  }

  private mirrorTags: readonly string[] | undefined;
  private mirrorPolicy: LbPolicy | undefined;
  private mirrorLast: Subset | undefined;

  /** The subset a route's mirror goes to (its own one-entry cache, so primary lookups stay hits). */
  mirrorSubset(tags: readonly string[], policy: LbPolicy): Subset {
    if (this.dirty) this.refresh();
    if (tags === this.mirrorTags && policy === this.mirrorPolicy && this.mirrorLast !== undefined)
      return this.mirrorLast;
    const s = this.lookup(tags, policy, undefined);
    this.mirrorTags = tags;
    this.mirrorPolicy = policy;
    this.mirrorLast = s;
    return s;
  }

  private lookup(tags: readonly string[], policy: LbPolicy, resilience: BackendResilienceSettings | undefined): Subset {
    const key = subsetKey(tags, policy, resilience);
    let s = this.subsets.get(key);
    if (s === undefined) {
      const engine = this.engine;
      const group =
        resilience === undefined
          ? this.shared
          : new EndpointGroup(
              this,
              engine,
              new BackendPolicy(
                resilience,
                { pool: engine.poolOptions, breaker: engine.options.breaker, outlier: engine.options.outlier },
                engine.clock,
              ),
              key,
            );
      s = new Subset(key, tags, policy, group);
      if (tags.length > 0) s.counters = this.counters?.backend(backendLabel(tags));
      this.subsets.set(key, s);
      this.rebuild(s, engine.discovery);
    }
    return s;
  }

  /**
   * Frees the subsets of rule backends with their own settings (own pools, breakers, detector)
   * that no call used since the previous sweep and that have nothing in flight: what a rule
   * update left behind. Called periodically by the engine; a backend that comes back is rebuilt.
   */
  sweepUnused(): void {
    for (const [key, s] of this.subsets) {
      if (s.used || s.group === this.shared || !s.group.idle) {
        s.used = false;
        continue;
      }
      this.subsets.delete(key);
      // Disposes the breakers, forgets their series and closes the (idle) pools.
      void s.group.close();
      if (this.lastSubset === s) this.lastSubset = undefined;
    }
  }

  /** Re-reads every subset from Discovery; rebuilds pickers whose set revision changed. */
  refresh(): void {
    this.dirty = false;
    const discovery = this.engine.discovery;
    const live = new Set<string>();
    for (const s of this.subsets.values()) {
      this.rebuild(s, discovery);
      if (s.group === this.shared) for (const e of s.entries) live.add(e.id);
    }
    // Also keep entries of the full set (the default subset may not exist yet).
    for (const i of discovery.endpoints(this.name).instances) live.add(i.id);
    if (this.shared.retireMissing(live)) this.shared.reindex();
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
    const group = s.group;
    const entries: EndpointEntry[] = [];
    let changed = false;
    for (const inst of set.instances) {
      if (inst.endpoint.type !== 'http' && inst.endpoint.type !== 'https' && inst.endpoint.type !== 'tcp') continue;
      if (inst.endpoint.port === undefined) continue;
      const got = group.obtain(inst);
      if (got.created) changed = true;
      entries.push(got.entry);
    }
    // A backend's own group holds only this subset's entries.
    if (group !== this.shared && group.retireMissing(new Set(entries.map((e) => e.id)))) changed = true;
    if (changed) group.reindex();
    s.entries = entries;
    // Load (in-flight counts, latency estimates) lives on the entries, so the new picker simply
    // carries on with it for the entries that stay; new entries start idle.
    s.picker = s.balancer.create(entries);
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i] as EndpointEntry;
      e.memberships.push({ subset: s, index: i });
      if (e.ejected) s.picker.setEjected(i, true);
    }
  }

  /** Closes every pool. */
  async close(): Promise<void> {
    const groups = new Set<EndpointGroup>([this.shared]);
    for (const s of this.subsets.values()) groups.add(s.group);
    await Promise.all([...groups].map((g) => g.close()));
    this.subsets.clear();
    this.lastSubset = undefined;
    this.mirrorLast = undefined;
  }
}

/** Feeds an attempt's outcome to the outlier detection of the endpoint's group (not once it left). */
export function recordOutcome(entry: EndpointEntry, outcome: number): void {
  if (entry.retired) return;
  entry.group.record(entry, outcome);
}
