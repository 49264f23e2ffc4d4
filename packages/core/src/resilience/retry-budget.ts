import { type Clock, systemClock } from '../clock/index.js';
import { InvalidArgumentError, type ValidationIssue } from '../errors/index.js';
import { SlidingWindow } from './sliding-window.js';

/** Options of a {@link RetryBudget}. The defaults are Finagle's and Linkerd's. */
export interface RetryBudgetOptions {
  /** Retries allowed as a share of requests in the window. Default 0.2 (20 %). */
  ratio?: number;
  /**
   * Retries per second allowed regardless of the ratio, so a quiet service can still retry.
   * Default 10. Over the window this is a reserve of `minRetriesPerSecond × windowMs / 1000`.
   */
  minRetriesPerSecond?: number;
  /** Width of the sliding window. Default 10 000 ms. */
  windowMs?: number;
  /** Resolution of the window. Default 10 buckets. */
  buckets?: number;
  /** Default {@link systemClock}. */
  clock?: Clock;
}

const REQUESTS = 0;
const RETRIES = 1;
/**
 * Requests counted without reading the clock before they are flushed into the window. Reading
 * the clock is most of the cost of `onRequest`; batching makes it ~1/16th. The price: up to 15
 * requests may land in a later bucket than the one they happened in — at most 3 retries of slack
 * at the default ratio, well inside the reserve.
 */
const FLUSH_EVERY = 16;

/**
 * A retry budget: over a sliding window, retries may not exceed `ratio` × requests plus a fixed
 * reserve. Unlike a per-request retry count, it bounds the *extra load* retries put on an
 * upstream that is failing for everyone, so retries cannot turn an outage into a retry storm.
 *
 * Hot-path API for a proxy: call {@link RetryBudget.onRequest} once per original request and
 * {@link RetryBudget.tryWithdraw} before each retry. Both are allocation-free, and `onRequest`
 * reads the clock only once per 16 calls.
 */
export class RetryBudget {
  /** Retries allowed as a share of requests. */
  readonly ratio: number;
  /** The fixed reserve of retries in any window. */
  readonly reserve: number;
  private readonly window: SlidingWindow;
  private pending = 0;

  constructor(options: RetryBudgetOptions = {}) {
    const ratio = options.ratio ?? 0.2;
    const minPerSecond = options.minRetriesPerSecond ?? 10;
    const windowMs = options.windowMs ?? 10_000;
    const buckets = options.buckets ?? 10;
    const issues: ValidationIssue[] = [];
    if (!(ratio >= 0)) issues.push({ path: 'ratio', message: 'must be >= 0' });
    if (!(minPerSecond >= 0)) issues.push({ path: 'minRetriesPerSecond', message: 'must be >= 0' });
    if (!(windowMs > 0)) issues.push({ path: 'windowMs', message: 'must be > 0' });
    if (!Number.isInteger(buckets) || buckets < 1) issues.push({ path: 'buckets', message: 'must be an integer >= 1' });
    if (issues.length > 0) throw new InvalidArgumentError('retry budget options', issues);
    this.ratio = ratio;
    this.reserve = (minPerSecond * windowMs) / 1000;
    this.window = new SlidingWindow(options.clock ?? systemClock, windowMs, buckets, 2);
  }

  /** Records an original request (not a retry): each one earns `ratio` of a retry. */
  onRequest(): void {
    if (++this.pending >= FLUSH_EVERY) this.flush();
  }

  /** Whether a retry is allowed now (does not spend it). */
  canRetry(): boolean {
    this.flush();
    return this.window.sum(RETRIES) + 1 <= this.allowance() + 1e-9;
  }

  /** Spends one retry if the budget allows it; returns whether it did. */
  tryWithdraw(): boolean {
    if (!this.canRetry()) return false;
    this.window.add(RETRIES);
    return true;
  }

  /** Retries still allowed in the current window (may be fractional). */
  get available(): number {
    this.flush();
    return Math.max(0, this.allowance() - this.window.sum(RETRIES));
  }

  /** Requests and retries counted in the current window. */
  get counts(): { requests: number; retries: number } {
    this.flush();
    return { requests: this.window.sum(REQUESTS), retries: this.window.sum(RETRIES) };
  }

  private flush(): void {
    if (this.pending === 0) return;
    this.window.add(REQUESTS, this.pending);
    this.pending = 0;
  }

  private allowance(): number {
    return this.ratio * this.window.sum(REQUESTS) + this.reserve;
  }
}
