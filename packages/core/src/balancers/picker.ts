import type { EndpointLoad } from './load.js';

/** An endpoint as a balancer sees it. Anything with a stable id (and optionally a weight) works. */
export interface BalancerEndpoint {
  /** Stable identity; consistent-hash pickers hash it, so it must not change between rebuilds. */
  readonly id: string;
  /** Relative weight, > 0. Defaults to 1. Pickers that ignore weights say so. */
  readonly weight?: number;
  /**
   * The endpoint's load (in-flight requests, latency estimate), read and updated by
   * `least_request` and `peak_ewma`. An endpoint object that outlives pickers (the proxy's
   * endpoint entry) carries its own, so a picker rebuilt over it carries on where the previous
   * one left off. Without it, the picker takes it from its `loads` option or starts it idle.
   */
  readonly load?: EndpointLoad | undefined;
}

/**
 * Chooses an endpoint for each request. Built once per endpoint set (Discovery rebuilds only
 * when the set really changed); `pick` is the hot path and allocates nothing.
 *
 * Endpoints are addressed by their index in {@link Picker.endpoints} for feedback calls, so the
 * caller never needs a Map lookup on the hot path. Per-endpoint load is not the picker's: it
 * lives on the endpoint ({@link BalancerEndpoint.load}), so rebuilding the picker after the set
 * changed loses nothing, and a request may report its end to the picker that started it even
 * after that picker was replaced.
 */
export interface Picker<E extends BalancerEndpoint = BalancerEndpoint> {
  /**
   * The policy this picker implements: one of the `LbPolicy` names for the built-in ones. Typed as
   * a string so this interface stays below the registry that lists the policies (which imports
   * every picker), and a third party's picker can name its own.
   */
  readonly policy: string;
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
}
