import type { ValidationIssue } from '../errors/index.js';
import { EligibleSet } from './eligible.js';
import type { BalancerEndpoint, Picker } from './picker.js';
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
export class WeightedRoundRobinPicker<E extends BalancerEndpoint = BalancerEndpoint> implements Picker<E> {
  /** Always `weighted_round_robin`. */
  readonly policy = 'weighted_round_robin' as const;
  /** The endpoints, in build order. */
  readonly endpoints: readonly E[];
  private readonly eligible: EligibleSet;
  private readonly schedule: SmoothSchedule;

  /**
   * @throws InvalidArgumentError naming each `endpoints[i].weight` that is not a finite number > 0.
   */
  constructor(endpoints: readonly E[]) {
    const issues: ValidationIssue[] = [];
    const weights = readWeights(endpoints, issues);
    throwIfInvalid('weighted_round_robin picker', issues);
    this.endpoints = endpoints.slice();
    this.eligible = new EligibleSet(endpoints.length);
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

  /** Takes `index` out of (or back into) the cycle. */
  setEjected(index: number, ejected: boolean): void {
    this.eligible.set(index, ejected);
  }

  /** True when `index` is ejected. */
  isEjected(index: number): boolean {
    return this.eligible.has(index);
  }

  /** No-op: weighted round robin ignores load. */
  onStart(_index: number): void {}

  /** No-op: weighted round robin ignores latency. */
  onEnd(_index: number, _latencyMs: number): void {}
}
