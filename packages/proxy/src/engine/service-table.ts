import type { ServiceInstance } from '@weft/core';
import { Pool } from 'undici';
import type { MeshEngine } from './engine.js';
import { type BreakerState, EndpointBreaker, OutlierState } from './health.js';
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
  readonly breaker: EndpointBreaker;
  readonly outlier = new OutlierState();
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
    this.breaker = new EndpointBreaker(engine.options.breaker ?? {}, engine.clock, (state: BreakerState) =>
      engine.onBreakerChange(this, state),
    );
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
  /** Requests seen (for the retry budget and metrics). */
  readonly name: string;

  constructor(
    name: string,
    private readonly engine: MeshEngine,
  ) {
    this.name = name;
  }

  /** The subset for `tags` (created on first use), refreshed if Discovery changed. */
  subset(tags: readonly string[], policy: LbPolicy): Subset {
    if (this.dirty) this.refresh();
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
    for (const [id, entry] of this.entries) {
      if (live.has(id)) continue;
      this.entries.delete(id);
      entry.retired = true;
      // Graceful: in-flight requests finish, then the sockets close.
      void entry.pool.close().catch(() => undefined);
    }
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
    for (const inst of set.instances) {
      if (inst.endpoint.type !== 'http' && inst.endpoint.type !== 'https' && inst.endpoint.type !== 'tcp') continue;
      if (inst.endpoint.port === undefined) continue;
      let entry = this.entries.get(inst.id);
      if (entry !== undefined && entry.instance.endpoint.value !== inst.endpoint.value) {
        entry.retired = true;
        void entry.pool.close().catch(() => undefined);
        entry = undefined;
      }
      if (entry === undefined) {
        entry = new EndpointEntry(inst, this.name, this.engine);
        this.entries.set(inst.id, entry);
      }
      entries.push(entry);
    }
    s.entries = entries;
    s.picker = makePicker<EndpointEntry>(s.policy, entries);
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i] as EndpointEntry;
      e.memberships.push({ subset: s, index: i });
      if (e.outlier.ejected) s.picker.setEjected(i, true);
    }
  }

  /** Applies an ejection change of `entry` to every picker it belongs to. */
  setEjected(entry: EndpointEntry, ejected: boolean): void {
    for (const m of entry.memberships) m.subset.picker.setEjected(m.index, ejected);
  }

  /** Closes every pool. */
  async close(): Promise<void> {
    await Promise.all([...this.entries.values()].map((e) => e.pool.close().catch(() => undefined)));
    this.entries.clear();
    this.subsets.clear();
  }
}
