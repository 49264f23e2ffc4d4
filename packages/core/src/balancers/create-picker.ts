import type { BalancerEndpoint, Picker } from './picker.js';
import type { BalancerPolicy } from './policy.js';
import { type BALANCER_POLICIES, balancerPolicy, type LbPolicy } from './registry.js';

/** The options type of a {@link BalancerPolicy}. */
type OptionsOf<P> = P extends BalancerPolicy<string, infer O> ? O : never;
type Intersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;

/**
 * Options for {@link createPicker}: the union of every policy's options. Each picker reads only
 * its own fields, so one options bag can follow an endpoint set through policy changes.
 */
export type PickerOptions = Intersection<OptionsOf<(typeof BALANCER_POLICIES)[number]>>;

/**
 * Builds the picker for `policy` over `endpoints`.
 *
 * @example
 * ```ts
 * import { createPicker, Discovery, MemoryRegistry } from '@weft/core';
 *
 * const discovery = new Discovery({ sources: [new MemoryRegistry().asSource()] });
 * const picker = createPicker('least_request', discovery.endpoints('reviews').instances);
 * const target = picker.pick(); // a ServiceInstance, or undefined when there is none
 * ```
 *
 * @throws InvalidArgumentError naming `policy` when it is not an {@link LbPolicy}, or the bad
 *   endpoint weight / option otherwise.
 */
export function createPicker<E extends BalancerEndpoint>(
  policy: LbPolicy,
  endpoints: readonly E[],
  options: PickerOptions = {},
): Picker<E> {
  return balancerPolicy(policy).create(endpoints, options);
}
