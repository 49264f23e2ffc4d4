import { type Clock, systemClock } from '../clock/index.js';
import type { ValidationIssue } from '../errors/index.js';
import { defaultRandom, type RandomSource, randomInt } from '../random/rng.js';
import { BasePicker } from './base-picker.js';
import { type LoadOptions, PickerLoads } from './load.js';
import type { ClockOptions, RandomOptions } from './options.js';
import type { BalancerEndpoint } from './picker.js';
import type { BalancerPolicy } from './policy.js';
import { checkClock, checkFunction, checkLoads, checkNumber, readWeights, throwIfInvalid } from './validate.js';

/** Options of {@link PeakEwmaPicker}. */
export interface PeakEwmaOptions extends RandomOptions, ClockOptions, LoadOptions {
  /**
   * Decay time τ in ms (default 10 000, as Linkerd): a latency observed `t` ms ago weighs
   * `e^(−t/τ)`. Shorter forgets spikes sooner; longer is steadier.
   */
  decayMs?: number | undefined;
  /** Estimate before an endpoint's first response, in ms (default 30, Linkerd's prior). */
  defaultLatencyMs?: number | undefined;
}

/**
 * Latency-aware power of two choices (Finagle's and Linkerd's peak EWMA): of two random eligible
 * endpoints take the one with the lower `latency estimate × (in flight + 1) / weight`.
 *
 * The estimate is a time-weighted moving average of response latencies that is *peak-sensitive*:
 * a response slower than the estimate replaces it at once, so a slowing endpoint is shed
 * immediately, while faster responses pull it down only as time passes (weight `1 − e^(−Δt/τ)`).
 * While no response arrives the estimate decays toward zero, so an endpoint avoided after a spike
 * is probed again instead of being starved forever.
 *
 * Finagle and Linkerd apply that decay by rewriting the estimate on every read. Here a read does
 * not write: since every estimate decays at the same rate, comparing two costs only needs the
 * difference of their last-update stamps, so a pick needs neither the clock nor a store — one
 * `Math.exp` at most. Only {@link PeakEwmaPicker.onEnd} reads the clock.
 *
 * Counts and estimates are the endpoints' ({@link EndpointLoad}): a picker rebuilt over the same
 * endpoints carries on with them. Pickers sharing endpoints must share a clock.
 */
export class PeakEwmaPicker<E extends BalancerEndpoint = BalancerEndpoint> extends BasePicker<E> {
  /** Always `peak_ewma`. */
  readonly policy = 'peak_ewma' as const;
  private readonly random: RandomSource;
  private readonly clock: Clock;
  private readonly inverseTau: number;
  private readonly weights: Float64Array;
  /** The endpoints' loads, homed in this picker's arrays until a newer picker adopts them. */
  private readonly loads: PickerLoads;
  /**
   * A newer picker adopted some of the loads: this one (still in use by someone) reads and
   * writes them through their objects. Its picks then always take the `dirty` branch.
   */
  private stale = false;
  /** `loads`' arrays, one field read away on the hot path. */
  private readonly active: Int32Array;
  private readonly estimate: Float64Array;
  private readonly stamp: Float64Array;

  /**
   * @throws InvalidArgumentError naming `endpoints[i].weight`, `endpoints[i].load`, `decayMs`,
   *   `defaultLatencyMs`, `random`, `clock` or `loads` when invalid.
   */
  constructor(endpoints: readonly E[], options: PeakEwmaOptions = {}) {
    const issues: ValidationIssue[] = [];
    const weights = readWeights(endpoints, issues);
    checkNumber(options.decayMs, 'decayMs', issues, { min: 0, exclusive: true });
    checkNumber(options.defaultLatencyMs, 'defaultLatencyMs', issues, { min: 0 });
    checkFunction(options.random, 'random', issues);
    checkClock(options.clock, 'clock', issues);
    checkLoads(endpoints, options.loads, issues);
    throwIfInvalid('peak_ewma picker', issues);
    super(endpoints);
    this.weights = weights;
    this.random = options.random ?? defaultRandom;
    this.clock = options.clock ?? systemClock;
    this.inverseTau = 1 / (options.decayMs ?? 10_000);
    this.loads = new PickerLoads(endpoints, options.loads, () => {
      this.stale = true;
      this.eligible.pin();
    });
    this.active = this.loads.active;
    this.estimate = this.loads.estimate;
    this.stamp = this.loads.stamp;
    // Endpoints no latency-aware picker has seen yet start from the prior, as of now.
    const prior = options.defaultLatencyMs ?? 30;
    const now = this.clock.now();
    for (let i = 0; i < this.estimate.length; i++) {
      if (Number.isNaN(this.estimate[i])) {
        this.estimate[i] = prior;
        this.stamp[i] = now;
      }
    }
  }

  /** Index of the cheaper of two random eligible endpoints, or -1 when none is eligible. */
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
    const { active, weights, estimate, stamp } = this;
    // cost = estimate·e^(−(now−stamp)/τ)·(active+1)/weight; `now` cancels out of the comparison.
    let costA = (estimate[a] as number) * ((active[a] as number) + 1) * (weights[b] as number);
    let costB = (estimate[b] as number) * ((active[b] as number) + 1) * (weights[a] as number);
    const newer = (stamp[a] as number) - (stamp[b] as number);
    // Decay the older estimate by the gap, so the exponent is never positive (no overflow).
    if (newer > 0) costB *= Math.exp(-newer * this.inverseTau);
    else if (newer < 0) costA *= Math.exp(newer * this.inverseTau);
    return costB < costA ? b : a;
  }

  /** The cheaper of two random eligible endpoints, or undefined when none is eligible. */
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

  /**
   * Counts a request to `index` as finished and learns its latency. A latency that is negative,
   * NaN or infinite is not learned (the request still stops counting as in flight).
   */
  override onEnd(index: number, latencyMs: number): void {
    if (this.stale) {
      // A newer picker adopted the loads: update them where they now live.
      const load = this.loads.loads[index];
      const home = load?.home;
      if (load !== undefined && home !== undefined)
        this.learn(home.active, home.estimate, home.stamp, load.at, latencyMs);
      return;
    }
    this.learn(this.active, this.estimate, this.stamp, index, latencyMs);
  }

  /** Ends a request at index `at` of the arrays and learns its latency (see {@link PeakEwmaPicker.onEnd}). */
  private learn(active: Int32Array, estimate: Float64Array, stamp: Float64Array, at: number, latencyMs: number): void {
    const n = active[at];
    if (n === undefined) return;
    if (n > 0) active[at] = n - 1;
    if (!(latencyMs >= 0 && latencyMs < Number.POSITIVE_INFINITY)) return;
    const now = this.clock.now();
    const previous = estimate[at] as number;
    if (latencyMs > previous) {
      estimate[at] = latencyMs; // peak: take a slowdown at face value, immediately
    } else {
      const elapsed = now - (stamp[at] as number);
      const keep = elapsed > 0 ? Math.exp(-elapsed * this.inverseTau) : 1;
      estimate[at] = previous * keep + latencyMs * (1 - keep);
    }
    stamp[at] = now;
  }

  /** Requests currently in flight to `index` (0 for indices out of range). */
  inFlight(index: number): number {
    return this.loads.loads[index]?.inFlight ?? 0;
  }

  /** The current (decayed) latency estimate of `index` in ms, NaN for indices out of range. */
  latencyEstimate(index: number): number {
    const load = this.loads.loads[index];
    if (load === undefined) return Number.NaN;
    const e = load.latencyMs;
    const elapsed = this.clock.now() - load.latencyAt;
    return elapsed > 0 ? e * Math.exp(-elapsed * this.inverseTau) : e;
  }

  /**
   * The pick of a picker whose loads a newer picker adopted (two live pickers over the same
   * endpoints): the same choice, with the numbers read where they now live.
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
    const la = this.loads.loads[a];
    const lb = this.loads.loads[b];
    if (la === undefined || lb === undefined) return a;
    const weights = this.weights;
    let costA = la.latencyMs * (la.inFlight + 1) * (weights[b] as number);
    let costB = lb.latencyMs * (lb.inFlight + 1) * (weights[a] as number);
    const newer = la.latencyAt - lb.latencyAt;
    if (newer > 0) costB *= Math.exp(-newer * this.inverseTau);
    else if (newer < 0) costA *= Math.exp(newer * this.inverseTau);
    return costB < costA ? b : a;
  }
}

/** `peak_ewma`: {@link PeakEwmaPicker}. Wants each request's latency in `onEnd`. */
export const peakEwmaPolicy: BalancerPolicy<'peak_ewma', PeakEwmaOptions> = {
  name: 'peak_ewma',
  usesHashKey: false,
  wantsLatency: true,
  create: (endpoints, options) => new PeakEwmaPicker(endpoints, options),
};
