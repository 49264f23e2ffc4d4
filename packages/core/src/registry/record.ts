import type { InstanceStatus, ServiceInstance } from '../model/index.js';
import type { Expiring } from './expiry-queue.js';

/** What a record needs to know about the service it is filed under. */
export interface RecordScope {
  readonly name: string;
}

/**
 * The registry's mutable bookkeeping for one instance, around an immutable view of it.
 *
 * A renewal only writes two numbers here and returns a fresh frozen view that the registry does
 * not keep: the view dies young, so heartbeats never promote garbage into the old generation or
 * create old-to-young pointers for the GC to track. The cached `view` is refreshed lazily, when
 * a query or snapshot reads it ({@link InstanceRecord.current}), which keeps `lastHeartbeat`
 * exact there at the cost of one allocation per renewed record and read.
 */
export class InstanceRecord<S extends RecordScope = RecordScope> implements Expiring {
  /** The last view built; its `lastHeartbeat` may lag behind {@link InstanceRecord.lastHeartbeat}. */
  private view: ServiceInstance;
  /** The latest heartbeat (ms); authoritative over the cached view's. */
  lastHeartbeat: number;
  /** The effective TTL in ms, cached to keep renewals to one addition. */
  private ttlMs: number;
  expiresAt: number;
  heapKey = 0;
  heapIndex = -1;

  /**
   * @param scope - the per-service index the record is filed under.
   */
  constructor(
    view: ServiceInstance,
    readonly scope: S,
  ) {
    this.view = view;
    this.lastHeartbeat = view.lastHeartbeat;
    this.ttlMs = view.ttl * 1000;
    this.expiresAt = expiryOf(view.status, view.lastHeartbeat, this.ttlMs);
  }

  /** The instance id. */
  get id(): string {
    return this.view.id;
  }

  /** The current status. */
  get status(): InstanceStatus {
    return this.view.status;
  }

  /** The current view, with the latest heartbeat; cached until the next heartbeat. */
  current(): ServiceInstance {
    const v = this.view;
    if (v.lastHeartbeat === this.lastHeartbeat) return v;
    this.view = freezeView(v, v.status, this.lastHeartbeat);
    return this.view;
  }

  /** Records a heartbeat at `now` and returns a view of it (not retained; see the class notes). */
  heartbeat(now: number): ServiceInstance {
    const v = this.view;
    this.lastHeartbeat = now;
    if (v.status !== 'OUT_OF_SERVICE') this.expiresAt = now + this.ttlMs;
    return freezeView(v, v.status, now);
  }

  /**
   * Changes the status. Leaving `OUT_OF_SERVICE` counts as a heartbeat, so expiry is re-armed
   * from `now` (the instance may have been parked far longer than its TTL) and
   * `lastHeartbeat + ttl` stays the deadline.
   */
  setStatus(status: InstanceStatus, now: number): ServiceInstance {
    if (this.view.status === 'OUT_OF_SERVICE') this.lastHeartbeat = now;
    this.view = freezeView(this.view, status, this.lastHeartbeat);
    this.expiresAt = expiryOf(status, this.lastHeartbeat, this.ttlMs);
    return this.view;
  }

  /** Replaces the whole view (a re-registration), re-arming expiry from its heartbeat. */
  replace(view: ServiceInstance): void {
    this.view = view;
    this.lastHeartbeat = view.lastHeartbeat;
    this.ttlMs = view.ttl * 1000;
    this.expiresAt = expiryOf(view.status, view.lastHeartbeat, this.ttlMs);
  }
}

/** When an instance with this status and heartbeat expires; `OUT_OF_SERVICE` never does. */
export function expiryOf(status: InstanceStatus, lastHeartbeat: number, ttlMs: number): number {
  return status === 'OUT_OF_SERVICE' ? Number.POSITIVE_INFINITY : lastHeartbeat + ttlMs;
}

/**
 * A frozen copy of `v` with a new status and heartbeat. Written out field by field (rather than
 * spread) so every view shares one hidden class and the copy stays a few nanoseconds.
 */
export function freezeView(v: ServiceInstance, status: InstanceStatus, lastHeartbeat: number): ServiceInstance {
  return Object.freeze({
    id: v.id,
    namespace: v.namespace,
    service: v.service,
    endpoint: v.endpoint,
    tags: v.tags,
    metadata: v.metadata,
    status,
    ttl: v.ttl,
    registeredAt: v.registeredAt,
    lastHeartbeat,
  });
}

/** Freezes a JSON value and everything in it, so views can be shared with every caller safely. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/**
 * True when two views differ in anything a watcher can see. `lastHeartbeat` does not count:
 * heartbeats are not changes, or every renewal would wake every watcher.
 */
export function visiblyDifferent(a: ServiceInstance, b: ServiceInstance): boolean {
  if (
    a.status !== b.status ||
    a.ttl !== b.ttl ||
    a.service !== b.service ||
    a.endpoint.value !== b.endpoint.value ||
    a.endpoint.type !== b.endpoint.type ||
    a.tags.length !== b.tags.length
  )
    return true;
  for (let i = 0; i < a.tags.length; i++) if (a.tags[i] !== b.tags[i]) return true;
  // Metadata is small (≤ 1 KiB as JSON); key order differences only cost a spurious revision.
  return a.metadata !== b.metadata && JSON.stringify(a.metadata) !== JSON.stringify(b.metadata);
}
