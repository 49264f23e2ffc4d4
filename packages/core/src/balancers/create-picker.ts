import { InvalidArgumentError } from '../errors/index.js';
import { type LeastRequestOptions, LeastRequestPicker } from './least-request.js';
import { type MaglevOptions, MaglevPicker } from './maglev.js';
import { type PeakEwmaOptions, PeakEwmaPicker } from './peak-ewma.js';
import type { BalancerEndpoint, LbPolicy, Picker } from './picker.js';
import { RandomPicker, type RandomPickerOptions } from './random.js';
import { type RingHashOptions, RingHashPicker } from './ring-hash.js';
import { type RoundRobinOptions, RoundRobinPicker } from './round-robin.js';
import { WeightedRoundRobinPicker } from './weighted-round-robin.js';

/**
 * Options for {@link createPicker}: the union of every policy's options. Each picker reads only
 * its own fields, so one options bag can follow an endpoint set through policy changes.
 */
export type PickerOptions = RoundRobinOptions &
  RandomPickerOptions &
  LeastRequestOptions &
  PeakEwmaOptions &
  RingHashOptions &
  MaglevOptions;

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
  switch (policy) {
    case 'round_robin':
      return new RoundRobinPicker(endpoints, options);
    case 'weighted_round_robin':
      return new WeightedRoundRobinPicker(endpoints);
    case 'random':
      return new RandomPicker(endpoints, options);
    case 'least_request':
      return new LeastRequestPicker(endpoints, options);
    case 'peak_ewma':
      return new PeakEwmaPicker(endpoints, options);
    case 'ring_hash':
      return new RingHashPicker(endpoints, options);
    case 'maglev':
      return new MaglevPicker(endpoints, options);
    default:
      // Reachable from untyped callers (config files); `policy` is `never` for typed ones.
      throw new InvalidArgumentError('picker policy', [
        { path: 'policy', message: `unknown load-balancing policy ${JSON.stringify(policy as unknown)}` },
      ]);
  }
}
