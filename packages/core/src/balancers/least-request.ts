import type { ValidationIssue } from '../errors/index.js';
import { defaultRandom, type RandomSource, randomInt } from '../random/rng.js';
import { BasePicker } from './base-picker.js';
import { type EndpointLoad, type LoadOptions, PickerLoads } from './load.js';
import type { RandomOptions } from './options.js';
import type { BalancerEndpoint } from './picker.js';
import type { BalancerPolicy } from './policy.js';
import { checkFunction, checkLoads, readWeights, throwIfInvalid } from './validate.js';

/** Options of {@link LeastRequestPicker}. */
export interface LeastRequestOptions extends RandomOptions, LoadOptions {}

/**
 * Least request by the power of two choices: draw two distinct eligible endpoints at random and
 * take the one with fewer requests in flight per unit of weight. Unlike a global least-loaded
 * scan this is O(1), and unlike it, many clients with stale views do not all stampede onto the one
 * endpoint that looks idle (Mitzenmacher; Envoy's default least-request). Ties go to the first draw.
 *
 * The caller reports each request with {@link LeastRequestPicker.onStart} /
 * {@link LeastRequestPicker.onEnd}. The counts are the endpoints' ({@link EndpointLoad}): a picker
 * rebuilt over the same endpoints carries on with them.
 */
export class LeastRequestPicker<E extends BalancerEndpoint = BalancerEndpoint> extends BasePicker<E> {
  /** Always `least_request`. */
  readonly policy = 'least_request' as const;
  private readonly random: RandomSource;
  private readonly weights: Float64Array;
  /** The endpoints' loads, homed in this picker's arrays until a newer picker adopts them. */
  private readonly loads: PickerLoads;
  /**
   * A newer picker adopted some of the loads: this one (still in use by someone) reads and
   * writes them through their objects. Its picks then always take the `dirty` branch.
   */
  private stale = false;
  /** `loads.active`, one field read away on the hot path. */
  private readonly active: Int32Array;

  /**
   * @throws InvalidArgumentError naming `endpoints[i].weight`, `endpoints[i].load`, `random` or
   *   `loads` when invalid.
   */
  constructor(endpoints: readonly E[], options: LeastRequestOptions = {}) {
    const issues: ValidationIssue[] = [];
    const weights = readWeights(endpoints, issues);
    checkFunction(options.random, 'random', issues);
    checkLoads(endpoints, options.loads, issues);
    throwIfInvalid('least_request picker', issues);
    super(endpoints);
    this.weights = weights;
    this.random = options.random ?? defaultRandom;
    this.loads = new PickerLoads(endpoints, options.loads, () => {
      this.stale = true;
      this.eligible.pin();
    });
    this.active = this.loads.active;
  }

  /** Index of the less loaded of two random eligible endpoints, or -1 when none is eligible. */
  pickIndex(_hashKey?: string): number {
    const eligible = this.eligible;
    if (eligible.dirty) {
      if (this.stale) return this.pickThroughLoads();
      eligible.refresh();
    }
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

  /** Counts a request to `index` as in flight (indices out of range are ignored). */
  override onStart(index: number): void {
    if (this.stale) {
      this.loads.loads[index]?.start();
      return;
    }
    const n = this.active[index];
    if (n !== undefined) this.active[index] = n + 1;
  }

  /** Counts a request to `index` as finished; never goes below zero. */
  override onEnd(index: number, _latencyMs: number): void {
    if (this.stale) {
      this.loads.loads[index]?.end();
      return;
    }
    const n = this.active[index];
    if (n !== undefined && n > 0) this.active[index] = n - 1;
  }

  /** Requests currently in flight to `index` (0 for indices out of range). */
  inFlight(index: number): number {
    return this.loads.loads[index]?.inFlight ?? 0;
  }

  /**
   * The pick of a picker whose loads a newer picker adopted (two live pickers over the same
   * endpoints): the same choice, with the counts read where they now live.
   */
  private pickThroughLoads(): number {
    const eligible = this.eligible;
    if (eligible.changed) eligible.refresh();
    const size = eligible.size;
    const list = eligible.list;
    if (size < 2) return size === 0 ? -1 : (list[0] as number);
    const x = randomInt(this.random, size);
    let y = randomInt(this.random, size - 1);
    if (y >= x) y++;
    const a = list[x] as number;
    const b = list[y] as number;
    const loads = this.loads.loads;
    const weights = this.weights;
    return ((loads[b] as EndpointLoad).inFlight + 1) * (weights[a] as number) <
      ((loads[a] as EndpointLoad).inFlight + 1) * (weights[b] as number)
      ? b
      : a;
  }
}

/** `least_request`: {@link LeastRequestPicker}. */
export const leastRequestPolicy: BalancerPolicy<'least_request', LeastRequestOptions> = {
  name: 'least_request',
  usesHashKey: false,
  wantsLatency: false,
  create: (endpoints, options) => new LeastRequestPicker(endpoints, options),
};
