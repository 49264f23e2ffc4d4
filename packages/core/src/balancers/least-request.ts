import type { ValidationIssue } from '../errors/index.js';
import { defaultRandom, type RandomSource, randomInt } from '../random/rng.js';
import { EligibleSet } from './eligible.js';
import { forEachSameEndpoint } from './inherit.js';
import type { RandomOptions } from './options.js';
import type { BalancerEndpoint, Picker } from './picker.js';
import { checkFunction, readWeights, throwIfInvalid } from './validate.js';

/** Options of {@link LeastRequestPicker}. */
export interface LeastRequestOptions extends RandomOptions {}

/**
 * Least request by the power of two choices: draw two distinct eligible endpoints at random and
 * take the one with fewer requests in flight per unit of weight. Unlike a global least-loaded
 * scan this is O(1), and unlike it, many clients with stale views do not all stampede onto the one
 * endpoint that looks idle (Mitzenmacher; Envoy's default least-request). Ties go to the first draw.
 *
 * The caller reports each request with {@link LeastRequestPicker.onStart} /
 * {@link LeastRequestPicker.onEnd}; counts live in an `Int32Array`.
 */
export class LeastRequestPicker<E extends BalancerEndpoint = BalancerEndpoint> implements Picker<E> {
  /** Always `least_request`. */
  readonly policy = 'least_request' as const;
  /** The endpoints, in build order. */
  readonly endpoints: readonly E[];
  private readonly eligible: EligibleSet;
  private readonly random: RandomSource;
  private readonly weights: Float64Array;
  private readonly active: Int32Array;

  /**
   * @throws InvalidArgumentError naming `endpoints[i].weight` or `random` when invalid.
   */
  constructor(endpoints: readonly E[], options: LeastRequestOptions = {}) {
    const issues: ValidationIssue[] = [];
    this.weights = readWeights(endpoints, issues);
    checkFunction(options.random, 'random', issues);
    throwIfInvalid('least_request picker', issues);
    this.endpoints = endpoints.slice();
    this.eligible = new EligibleSet(endpoints.length);
    this.random = options.random ?? defaultRandom;
    this.active = new Int32Array(endpoints.length);
  }

  /** Index of the less loaded of two random eligible endpoints, or -1 when none is eligible. */
  pickIndex(_hashKey?: string): number {
    const eligible = this.eligible;
    if (eligible.dirty) eligible.refresh();
    const size = eligible.size;
    const list = eligible.list;
    if (size < 2) return size === 0 ? -1 : (list[0] as number);
    const x = randomInt(this.random, size);
    let y = randomInt(this.random, size - 1);
    if (y >= x) y++; // a second, distinct candidate
    const a = list[x] as number;
    const b = list[y] as number;
    const { active, weights } = this;
    // (inFlight + 1) / weight, compared by cross-multiplying to avoid two divisions.
    return ((active[b] as number) + 1) * (weights[a] as number) < ((active[a] as number) + 1) * (weights[b] as number)
      ? b
      : a;
  }

  /** The less loaded of two random eligible endpoints, or undefined when none is eligible. */
  pick(hashKey?: string): E | undefined {
    const i = this.pickIndex(hashKey);
    return i < 0 ? undefined : this.endpoints[i];
  }

  /** Takes `index` out of (or back into) the draw. */
  setEjected(index: number, ejected: boolean): void {
    this.eligible.set(index, ejected);
  }

  /** True when `index` is ejected. */
  isEjected(index: number): boolean {
    return this.eligible.has(index);
  }

  /** Counts a request to `index` as in flight (indices out of range are ignored). */
  onStart(index: number): void {
    const n = this.active[index];
    if (n !== undefined) this.active[index] = n + 1;
  }

  /** Counts a request to `index` as finished; never goes below zero. */
  onEnd(index: number, _latencyMs: number): void {
    const n = this.active[index];
    if (n !== undefined && n > 0) this.active[index] = n - 1;
  }

  /** Requests currently in flight to `index` (0 for indices out of range). */
  inFlight(index: number): number {
    return this.active[index] ?? 0;
  }

  /** Takes over the in-flight counts of the least-request picker this one replaces (by endpoint id). */
  inherit(previous: Picker<E>, same?: (before: E, after: E) => boolean): void {
    if (!(previous instanceof LeastRequestPicker) || previous === this) return;
    const from = previous.active;
    forEachSameEndpoint(
      previous.endpoints as readonly E[],
      this.endpoints,
      (i, j) => {
        this.active[i] = from[j] as number;
      },
      same,
    );
  }
}
