import { type Clock, systemClock } from '../clock/index.js';
import type { ValidationIssue } from '../errors/index.js';
import { defaultRandom, type RandomSource, randomInt } from '../random/rng.js';
import { EligibleSet } from './eligible.js';
import { forEachSameEndpoint } from './inherit.js';
import type { ClockOptions, RandomOptions } from './options.js';
import type { BalancerEndpoint, Picker } from './picker.js';
import { checkClock, checkFunction, checkNumber, readWeights, throwIfInvalid } from './validate.js';

/** Options of {@link PeakEwmaPicker}. */
export interface PeakEwmaOptions extends RandomOptions, ClockOptions {
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
 */
export class PeakEwmaPicker<E extends BalancerEndpoint = BalancerEndpoint> implements Picker<E> {
  /** Always `peak_ewma`. */
  readonly policy = 'peak_ewma' as const;
  /** The endpoints, in build order. */
  readonly endpoints: readonly E[];
  private readonly eligible: EligibleSet;
  private readonly random: RandomSource;
  private readonly clock: Clock;
  private readonly inverseTau: number;
  private readonly weights: Float64Array;
  private readonly active: Int32Array;
  /** Latency estimate (ms) as of `stamp`. */
  private readonly estimate: Float64Array;
  /** Clock time (ms) of each estimate's last update. */
  private readonly stamp: Float64Array;

  /**
   * @throws InvalidArgumentError naming `endpoints[i].weight`, `decayMs`, `defaultLatencyMs`,
   *   `random` or `clock` when invalid.
   */
  constructor(endpoints: readonly E[], options: PeakEwmaOptions = {}) {
    const issues: ValidationIssue[] = [];
    this.weights = readWeights(endpoints, issues);
    checkNumber(options.decayMs, 'decayMs', issues, { min: 0, exclusive: true });
    checkNumber(options.defaultLatencyMs, 'defaultLatencyMs', issues, { min: 0 });
    checkFunction(options.random, 'random', issues);
    checkClock(options.clock, 'clock', issues);
    throwIfInvalid('peak_ewma picker', issues);
    const n = endpoints.length;
    this.endpoints = endpoints.slice();
    this.eligible = new EligibleSet(n);
    this.random = options.random ?? defaultRandom;
    this.clock = options.clock ?? systemClock;
    this.inverseTau = 1 / (options.decayMs ?? 10_000);
    this.active = new Int32Array(n);
    this.estimate = new Float64Array(n).fill(options.defaultLatencyMs ?? 30);
    this.stamp = new Float64Array(n).fill(this.clock.now());
  }

  /** Index of the cheaper of two random eligible endpoints, or -1 when none is eligible. */
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

  /**
   * Counts a request to `index` as finished and learns its latency. A latency that is negative,
   * NaN or infinite is not learned (the request still stops counting as in flight).
   */
  onEnd(index: number, latencyMs: number): void {
    const n = this.active[index];
    if (n === undefined) return;
    if (n > 0) this.active[index] = n - 1;
    if (!(latencyMs >= 0 && latencyMs < Number.POSITIVE_INFINITY)) return;
    const now = this.clock.now();
    const previous = this.estimate[index] as number;
    if (latencyMs > previous) {
      this.estimate[index] = latencyMs; // peak: take a slowdown at face value, immediately
    } else {
      const elapsed = now - (this.stamp[index] as number);
      const keep = elapsed > 0 ? Math.exp(-elapsed * this.inverseTau) : 1;
      this.estimate[index] = previous * keep + latencyMs * (1 - keep);
    }
    this.stamp[index] = now;
  }

  /** Requests currently in flight to `index` (0 for indices out of range). */
  inFlight(index: number): number {
    return this.active[index] ?? 0;
  }

  /**
   * Takes over the in-flight counts and latency estimates of the peak-EWMA picker this one
   * replaces (by endpoint id); new endpoints keep the default estimate. Both must share a clock.
   */
  inherit(previous: Picker<E>, same?: (before: E, after: E) => boolean): void {
    if (!(previous instanceof PeakEwmaPicker) || previous === this) return;
    forEachSameEndpoint(
      previous.endpoints as readonly E[],
      this.endpoints,
      (i, j) => {
        this.active[i] = previous.active[j] as number;
        this.estimate[i] = previous.estimate[j] as number;
        this.stamp[i] = previous.stamp[j] as number;
      },
      same,
    );
  }

  /** The current (decayed) latency estimate of `index` in ms, NaN for indices out of range. */
  latencyEstimate(index: number): number {
    const e = this.estimate[index];
    if (e === undefined) return Number.NaN;
    const elapsed = this.clock.now() - (this.stamp[index] as number);
    return elapsed > 0 ? e * Math.exp(-elapsed * this.inverseTau) : e;
  }
}
