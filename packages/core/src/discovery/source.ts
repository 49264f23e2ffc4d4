import type { ServiceInstance } from '../model/index.js';
import type { Subscription } from '../registry/types.js';

/** A full, immutable state of a source's catalogue. */
export interface SourceSnapshot {
  /** Every instance the source knows, any status. */
  readonly instances: readonly ServiceInstance[];
  /** The source's own version marker (etcd revision, Consul index, resourceVersion), for diagnostics. */
  readonly revision?: string | number;
}

/** Receives a source's snapshots and failures. */
export interface SourceObserver {
  /** A new complete state. Replaces every earlier one. */
  next(snapshot: SourceSnapshot): void;
  /**
   * The source failed (connection lost, watch broken). The source keeps trying; consumers keep
   * the last-known-good state and mark it stale until the next `next`.
   */
  error(error: Error): void;
}

/**
 * A catalogue Weft can discover services from: the in-memory registry, or an adapter over
 * Consul, etcd, Kubernetes, Weave Flux or Weft's own registry server. Adapters implement this
 * one method; everything else (merging, filtering, staleness, balancers) is Discovery's job.
 */
export interface Source {
  /** A short name for logs and staleness reports (`consul`, `etcd:/weft`, `memory`). */
  readonly name: string;
  /** Starts delivering snapshots to `observer` (the current state first) until unsubscribed. */
  subscribe(observer: SourceObserver): Subscription;
}
