import type { ValidationIssue } from '../errors/index.js';
import { BasePicker } from './base-picker.js';
import type { BalancerEndpoint } from './picker.js';
import type { BalancerPolicy } from './policy.js';
import { SmoothSchedule } from './smooth-schedule.js';
import { readWeights, throwIfInvalid } from './validate.js';

/**
 * nginx's smooth weighted round robin: over any window of W = Σweights picks each endpoint gets
 * exactly its weight's worth, and picks of a heavy endpoint are spread out rather than sent in a
 * burst (weights 5/1/1 give `a a b a c a a`, not `a a a a a b c`).
 *
 * The sequence is exactly nginx's (ties go to the lower index), but a pick costs O(number of
 * distinct weights) — or O(log of it) when there are many — instead of nginx's O(n); see
 * `smooth-schedule.ts`. Ejected endpoints take no part, as nginx's down peers; any ejection
 * change restarts the cycle over the new eligible set.
 */
export class WeightedRoundRobinPicker<E extends BalancerEndpoint = BalancerEndpoint> extends BasePicker<E> {
  /** Always `weighted_round_robin`. */
  readonly policy = 'weighted_round_robin' as const;
  private readonly schedule: SmoothSchedule;

  /**
   * @throws InvalidArgumentError naming each `endpoints[i].weight` that is not a finite number > 0.
   */
  constructor(endpoints: readonly E[]) {
    const issues: ValidationIssue[] = [];
    const weights = readWeights(endpoints, issues);
    throwIfInvalid('weighted_round_robin picker', issues);
    super(endpoints);
    this.schedule = new SmoothSchedule(weights);
    this.schedule.load(this.eligible.list, this.eligible.size);
  }

  /** Index of the next endpoint in the weighted cycle, or -1 when none is eligible. */
  pickIndex(_hashKey?: string): number {
    const eligible = this.eligible;
    if (eligible.dirty) {
      eligible.refresh();
      this.schedule.load(eligible.list, eligible.size);
    }
    return eligible.size === 0 ? -1 : this.schedule.next();
  }

  /** The next endpoint in the weighted cycle, or undefined when none is eligible. */
  pick(hashKey?: string): E | undefined {
    const i = this.pickIndex(hashKey);
    return i < 0 ? undefined : this.endpoints[i];
  }
}

/** `weighted_round_robin`: {@link WeightedRoundRobinPicker} (takes no options). */
export const weightedRoundRobinPolicy: BalancerPolicy<'weighted_round_robin'> = {
  name: 'weighted_round_robin',
  usesHashKey: false,
  wantsLatency: false,
  create: (endpoints) => new WeightedRoundRobinPicker(endpoints),
};
