import type { ValidationIssue } from '../errors/index.js';
import { defaultRandom, type RandomSource, randomInt } from '../random/rng.js';
import { BasePicker } from './base-picker.js';
import type { RandomOptions } from './options.js';
import type { BalancerEndpoint } from './picker.js';
import type { BalancerPolicy } from './policy.js';
import { checkFunction, readWeights, throwIfInvalid } from './validate.js';

/** Resolution of a weighted draw. */
const UNIT = 2 ** 30;

/** Options of {@link RandomPicker}. */
export interface RandomPickerOptions extends RandomOptions {}

/**
 * A uniformly random eligible endpoint — or, when weights differ, one chosen with probability
 * proportional to its weight (one draw plus a binary search over cumulative weights).
 * Stateless between picks, so it needs no coordination and suits very large endpoint sets.
 */
export class RandomPicker<E extends BalancerEndpoint = BalancerEndpoint> extends BasePicker<E> {
  /** Always `random`. */
  readonly policy = 'random' as const;
  private readonly random: RandomSource;
  private readonly weights: Float64Array;
  /** Running sums of the eligible endpoints' weights; empty when all weights are equal. */
  private readonly cumulative: Float64Array;
  private readonly weighted: boolean;

  /**
   * @throws InvalidArgumentError naming `endpoints[i].weight` or `random` when invalid.
   */
  constructor(endpoints: readonly E[], options: RandomPickerOptions = {}) {
    const issues: ValidationIssue[] = [];
    const weights = readWeights(endpoints, issues);
    checkFunction(options.random, 'random', issues);
    throwIfInvalid('random picker', issues);
    super(endpoints);
    this.weights = weights;
    this.random = options.random ?? defaultRandom;
    this.weighted = this.weights.some((w) => w !== this.weights[0]);
    this.cumulative = new Float64Array(this.weighted ? endpoints.length : 0);
    if (this.weighted) this.accumulate();
  }

  /** Index of a random eligible endpoint (weighted when weights differ), or -1 when none is eligible. */
  pickIndex(_hashKey?: string): number {
    const eligible = this.eligible;
    if (eligible.dirty) {
      eligible.refresh();
      if (this.weighted) this.accumulate();
    }
    const size = eligible.size;
    if (size === 0) return -1;
    if (!this.weighted) return eligible.list[randomInt(this.random, size)] as number;
    const cumulative = this.cumulative;
    // 30 bits of resolution over the total weight: ample, and the draw stays an integer.
    const target = randomInt(this.random, UNIT) * (1 / UNIT) * (cumulative[size - 1] as number);
    // First position whose running sum exceeds the target.
    let lo = 0;
    let hi = size - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((cumulative[mid] as number) > target) hi = mid;
      else lo = mid + 1;
    }
    return eligible.list[lo] as number;
  }

  /** A random eligible endpoint, or undefined when none is eligible. */
  pick(hashKey?: string): E | undefined {
    const i = this.pickIndex(hashKey);
    return i < 0 ? undefined : this.endpoints[i];
  }

  private accumulate(): void {
    const { list, size } = this.eligible;
    let sum = 0;
    for (let k = 0; k < size; k++) {
      sum += this.weights[list[k] as number] as number;
      this.cumulative[k] = sum;
    }
  }
}

/** `random`: {@link RandomPicker}. */
export const randomPolicy: BalancerPolicy<'random', RandomPickerOptions> = {
  name: 'random',
  usesHashKey: false,
  wantsLatency: false,
  create: (endpoints, options) => new RandomPicker(endpoints, options),
};
