import type { Clock } from '../clock/index.js';
import { InvalidArgumentError } from '../errors/index.js';

/**
 * Counters over a sliding time window, kept as a ring of fixed-width buckets on a {@link Clock}.
 * Each bucket holds `slots` counters (say requests and retries); running totals make `sum` O(1)
 * and nothing allocates after construction. The window slides one bucket at a time, so it covers
 * between `windowMs - bucketMs` and `windowMs` of history — the usual trade-off (Finagle,
 * Hystrix, resilience4j) between precision and cost.
 */
export class SlidingWindow {
  private readonly counts: Float64Array;
  private readonly totals: Float64Array;
  private readonly bucketMs: number;
  private readonly buckets: number;
  private readonly slots: number;
  private readonly clock: Clock;
  // Absolute number (now / bucketMs) of the newest bucket.
  private head: number;

  /**
   * @param windowMs - width of the window.
   * @param buckets - number of buckets the window is cut into (its resolution).
   * @param slots - counters per bucket.
   */
  constructor(clock: Clock, windowMs: number, buckets: number, slots: number) {
    if (!(windowMs > 0) || !Number.isInteger(buckets) || buckets < 1 || !Number.isInteger(slots) || slots < 1) {
      throw new InvalidArgumentError('sliding window', [
        { path: '', message: 'needs windowMs > 0 and integer buckets, slots >= 1' },
      ]);
    }
    this.clock = clock;
    this.bucketMs = windowMs / buckets;
    this.buckets = buckets;
    this.slots = slots;
    this.counts = new Float64Array(buckets * slots);
    this.totals = new Float64Array(slots);
    this.head = Math.floor(clock.now() / this.bucketMs);
  }

  /** Adds `n` to counter `slot` in the current bucket. */
  add(slot: number, n = 1): void {
    this.roll();
    const at = (this.head % this.buckets) * this.slots + slot;
    this.counts[at] = (this.counts[at] as number) + n;
    this.totals[slot] = (this.totals[slot] as number) + n;
  }

  /** Total of counter `slot` over the window. */
  sum(slot: number): number {
    this.roll();
    return this.totals[slot] as number;
  }

  /** Forgets everything. */
  clear(): void {
    this.counts.fill(0);
    this.totals.fill(0);
    this.head = Math.floor(this.clock.now() / this.bucketMs);
  }

  private roll(): void {
    const now = Math.floor(this.clock.now() / this.bucketMs);
    const steps = now - this.head;
    if (steps <= 0) return; // same bucket (or a clock that stepped back: keep counting in the newest)
    if (steps >= this.buckets) {
      this.counts.fill(0);
      this.totals.fill(0);
    } else {
      for (let k = 1; k <= steps; k++) {
        const base = ((this.head + k) % this.buckets) * this.slots;
        for (let s = 0; s < this.slots; s++) {
          this.totals[s] = (this.totals[s] as number) - (this.counts[base + s] as number);
          this.counts[base + s] = 0;
        }
      }
    }
    this.head = now;
  }
}
