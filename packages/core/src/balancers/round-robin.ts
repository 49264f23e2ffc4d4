import type { ValidationIssue } from '../errors/index.js';
import { defaultRandom, randomInt } from '../random/rng.js';
import { BasePicker } from './base-picker.js';
import type { RandomOptions } from './options.js';
import type { BalancerEndpoint } from './picker.js';
import type { BalancerPolicy } from './policy.js';
import { checkFunction, readWeights, throwIfInvalid } from './validate.js';

/** Options of {@link RoundRobinPicker}. */
export interface RoundRobinOptions extends RandomOptions {}

/**
 * Plain round robin over the eligible endpoints, in index order. Ignores weights (use
 * `weighted_round_robin` for those) but still rejects invalid ones, so a bad endpoint set fails
 * the same way under every policy.
 *
 * The rotation starts at a random position: pickers are rebuilt whenever the endpoint set changes,
 * and if every client restarted at index 0 they would all hit the same endpoint first, in lockstep.
 */
export class RoundRobinPicker<E extends BalancerEndpoint = BalancerEndpoint> extends BasePicker<E> {
  /** Always `round_robin`. */
  readonly policy = 'round_robin' as const;
  /** Position in the eligible list of the next pick (may equal its size: wraps on use). */
  private cursor: number;

  /**
   * @throws InvalidArgumentError naming `endpoints[i].weight` or `random` when invalid.
   */
  constructor(endpoints: readonly E[], options: RoundRobinOptions = {}) {
    const issues: ValidationIssue[] = [];
    readWeights(endpoints, issues);
    checkFunction(options.random, 'random', issues);
    throwIfInvalid('round_robin picker', issues);
    super(endpoints);
    this.cursor = endpoints.length === 0 ? 0 : randomInt(options.random ?? defaultRandom, endpoints.length);
  }

  /** Index of the next eligible endpoint in rotation, or -1 when none is eligible. */
  pickIndex(_hashKey?: string): number {
    const eligible = this.eligible;
    if (eligible.dirty) this.resync();
    const size = eligible.size;
    if (size === 0) return -1;
    let c = this.cursor;
    if (c >= size) c = 0;
    this.cursor = c + 1;
    return eligible.list[c] as number;
  }

  /** The next eligible endpoint in rotation, or undefined when none is eligible. */
  pick(hashKey?: string): E | undefined {
    const i = this.pickIndex(hashKey);
    return i < 0 ? undefined : this.endpoints[i];
  }

  /**
   * Rebuilds the eligible list and keeps the rotation going from the endpoint after the last one
   * picked, so ejecting or restoring an endpoint neither restarts nor skips the cycle.
   */
  private resync(): void {
    const eligible = this.eligible;
    const last = this.cursor > 0 && this.cursor <= eligible.size ? (eligible.list[this.cursor - 1] as number) : -1;
    eligible.refresh();
    // The list is ascending: find the first eligible index after `last`.
    let lo = 0;
    let hi = eligible.size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((eligible.list[mid] as number) <= last) lo = mid + 1;
      else hi = mid;
    }
    this.cursor = lo;
  }
}

/** `round_robin`: {@link RoundRobinPicker}. */
export const roundRobinPolicy: BalancerPolicy<'round_robin', RoundRobinOptions> = {
  name: 'round_robin',
  usesHashKey: false,
  wantsLatency: false,
  create: (endpoints, options) => new RoundRobinPicker(endpoints, options),
};
