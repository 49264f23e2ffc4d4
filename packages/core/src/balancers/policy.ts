import type { BalancerEndpoint, Picker } from './picker.js';

/**
 * A load-balancing policy: its name and how to build its picker, plus what a caller must do for
 * it. Each balancer file exports one; `BALANCER_POLICIES` (registry.ts) lists them, and the
 * `LbPolicy` names, the rules' `lb_type` values, `createPicker` and the proxy's choices all derive
 * from that list — a new balancer is its file plus one line there.
 */
export interface BalancerPolicy<Name extends string = string, Options extends object = object> {
  /** The name configs and rules use (`lb_type`, `lbPolicy`). */
  readonly name: Name;
  /**
   * Picks by a request key (consistent hashing): a backend's `hash_key` applies, and the caller
   * passes the key to `pickIndex`.
   */
  readonly usesHashKey: boolean;
  /**
   * Learns from response latency: the caller should time each request (to response headers) and
   * pass it to `onEnd`. Others ignore the latency, so callers may skip the clock read.
   */
  readonly wantsLatency: boolean;
  /**
   * Builds the picker over `endpoints` (copied). Reads only its own fields of `options`.
   *
   * @throws InvalidArgumentError naming each bad endpoint weight or option.
   */
  create<E extends BalancerEndpoint>(endpoints: readonly E[], options?: Options): Picker<E>;
}
