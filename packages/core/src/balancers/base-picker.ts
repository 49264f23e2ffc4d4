import { EligibleSet } from './eligible.js';
import type { BalancerEndpoint, Picker } from './picker.js';

/**
 * What every picker shares: its copy of the endpoints, the ejection flags with the eligible list,
 * and no-op load feedback (load-aware pickers override it).
 *
 * `pick()` is deliberately left to each picker, though it is the same three lines everywhere: one
 * shared method would share V8's type feedback for its `this.pickIndex()` call across all seven
 * classes, turn it megamorphic, and stop it being inlined — a measurable cost on the hot path.
 */
export abstract class BasePicker<E extends BalancerEndpoint> implements Picker<E> {
  /** The policy this picker implements. */
  abstract readonly policy: string;
  /** The endpoints, in build order (a copy: later changes to the caller's array do not matter). */
  readonly endpoints: readonly E[];
  /** Which endpoints may be picked. */
  protected readonly eligible: EligibleSet;

  protected constructor(endpoints: readonly E[]) {
    this.endpoints = endpoints.slice();
    this.eligible = new EligibleSet(endpoints.length);
  }

  abstract pickIndex(hashKey?: string): number;
  abstract pick(hashKey?: string): E | undefined;

  /** Takes `index` out of (or back into) rotation. */
  setEjected(index: number, ejected: boolean): void {
    this.eligible.set(index, ejected);
  }

  /** True when `index` is ejected. */
  isEjected(index: number): boolean {
    return this.eligible.isEjected(index);
  }

  /** No-op: this policy ignores load. */
  onStart(_index: number): void {}

  /** No-op: this policy ignores load and latency. */
  onEnd(_index: number, _latencyMs: number): void {}
}
