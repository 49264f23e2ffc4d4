/** An endpoint as a balancer sees it. Anything with a stable id (and optionally a weight) works. */
export interface BalancerEndpoint {
  /** Stable identity; consistent-hash pickers hash it, so it must not change between rebuilds. */
  readonly id: string;
  /** Relative weight, > 0. Defaults to 1. Pickers that ignore weights say so. */
  readonly weight?: number;
}

/** The load-balancing policies Weft ships. */
export type LbPolicy =
  | 'round_robin'
  | 'weighted_round_robin'
  | 'random'
  | 'least_request'
  | 'peak_ewma'
  | 'ring_hash'
  | 'maglev';

/**
 * Chooses an endpoint for each request. Built once per endpoint set (Discovery rebuilds only
 * when the set really changed); `pick` is the hot path and allocates nothing.
 *
 * Endpoints are addressed by their index in {@link Picker.endpoints} for feedback calls, so the
 * caller never needs a Map lookup on the hot path.
 */
export interface Picker<E extends BalancerEndpoint = BalancerEndpoint> {
  /** The policy this picker implements. */
  readonly policy: LbPolicy;
  /** The endpoints, in the order given at build time. */
  readonly endpoints: readonly E[];
  /**
   * Index of the chosen endpoint, or -1 when none is eligible (empty set, or all ejected).
   * `hashKey` is the request's affinity key for `ring_hash` / `maglev` (others ignore it; with no
   * key, the hashing pickers fall back to a random pick).
   */
  pickIndex(hashKey?: string): number;
  /** The chosen endpoint, or undefined when none is eligible. */
  pick(hashKey?: string): E | undefined;
  /**
   * Takes an endpoint out of (or back into) rotation — outlier ejection drives this. An ejected
   * endpoint is never picked; when every endpoint is ejected, picks return -1 / undefined and
   * the caller's panic policy decides what to do.
   */
  setEjected(index: number, ejected: boolean): void;
  /** True when the endpoint at `index` is ejected. */
  isEjected(index: number): boolean;
  /** A request to `index` started (least-request / peak-EWMA count in-flight requests). */
  onStart(index: number): void;
  /** A request to `index` ended after `latencyMs` (peak-EWMA learns from it). */
  onEnd(index: number, latencyMs: number): void;
  /**
   * Takes over the per-endpoint state of `previous` — the picker this one replaces after the
   * endpoint set changed — for the endpoints both have, matched by id: in-flight counts
   * (least-request, peak-EWMA) and latency estimates (peak-EWMA). Without it a rebuilt picker
   * sees a busy endpoint as idle and forgets a slow one. Afterwards the caller reports the end
   * of every request started on `previous` to this picker instead. Ignores a picker of another
   * policy. Optional: pickers without such state do not implement it.
   *
   * `same` decides which endpoints are the same one (default: equal ids). Pass e.g. object
   * identity when an endpoint that kept its id but moved to another address must start afresh.
   */
  inherit?(previous: Picker<E>, same?: (before: E, after: E) => boolean): void;
}
