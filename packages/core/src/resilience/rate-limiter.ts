import { type Clock, systemClock, type TimerHandle } from '../clock/index.js';
import { InvalidArgumentError, type ValidationIssue } from '../errors/index.js';
import { invoke, LinkedAbort } from './abort.js';
import { RateLimitedError } from './errors.js';
import type { Policy, PolicyFn } from './policy.js';

/** Options of a {@link RateLimiter}. */
export interface RateLimiterOptions {
  /** Tokens added per second, > 0. */
  ratePerSecond: number;
  /** Bucket size: the largest burst allowed after a quiet period. Default `max(1, ratePerSecond)`. */
  burst?: number;
  /**
   * How long `execute` may wait for a token before refusing with {@link RateLimitedError}.
   * Default 0: refuse at once (a server shedding load); a client pacing itself sets a wait.
   */
  maxWaitMs?: number;
  /** Default {@link systemClock}. */
  clock?: Clock;
}

interface Waiter {
  n: number;
  resolve: () => void;
  reject: (reason: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

// Floating-point refill can land a hair under a whole token exactly when the timer fires.
const EPSILON = 1e-9;

/**
 * A token bucket on a {@link Clock}: `ratePerSecond` tokens a second, at most `burst` saved up.
 * Refill is computed from elapsed time on each call, so an idle limiter costs nothing.
 * `tryTake()` never waits; `take(signal)` waits in FIFO order (a waiter is never overtaken by a
 * later `tryTake`), and an aborted waiter leaves the queue at once.
 */
export class RateLimiter implements Policy {
  /** Tokens per second. */
  readonly ratePerSecond: number;
  /** Bucket size. */
  readonly burst: number;
  private readonly maxWaitMs: number;
  private readonly clock: Clock;
  private tokens: number;
  private last: number;
  private readonly queue: Waiter[] = [];
  private timer: TimerHandle | undefined;

  constructor(options: RateLimiterOptions) {
    const issues: ValidationIssue[] = [];
    const burst = options.burst ?? Math.max(1, options.ratePerSecond);
    if (!(options.ratePerSecond > 0)) issues.push({ path: 'ratePerSecond', message: 'must be > 0' });
    if (!(burst >= 1)) issues.push({ path: 'burst', message: 'must be >= 1' });
    if (!((options.maxWaitMs ?? 0) >= 0)) issues.push({ path: 'maxWaitMs', message: 'must be >= 0' });
    if (issues.length > 0) throw new InvalidArgumentError('rate limiter options', issues);
    this.ratePerSecond = options.ratePerSecond;
    this.burst = burst;
    this.maxWaitMs = options.maxWaitMs ?? 0;
    this.clock = options.clock ?? systemClock;
    this.tokens = burst;
    this.last = this.clock.now();
  }

  /** Tokens available now (fractional). */
  get available(): number {
    this.refill();
    return this.tokens;
  }

  /** Callers waiting in `take`. */
  get waiting(): number {
    return this.queue.length;
  }

  /** Takes `n` tokens if they are there and nobody is waiting; never waits. */
  tryTake(n = 1): boolean {
    if (this.queue.length > 0) return false;
    this.refill();
    if (this.tokens + EPSILON < n) return false;
    this.tokens -= n;
    return true;
  }

  /** Milliseconds until `n` tokens could be taken, counting the callers already waiting. */
  retryAfterMs(n = 1): number {
    this.refill();
    let need = n - this.tokens;
    for (const w of this.queue) need += w.n;
    // Less a nanosecond: floating-point refill leaves a hair over whole milliseconds (1.0000000000000009).
    return need <= EPSILON ? 0 : Math.ceil((need / this.ratePerSecond) * 1000 - 1e-6);
  }

  /** Waits for `n` tokens (FIFO). Rejects with the signal's reason when it aborts. */
  take(signal?: AbortSignal, n = 1): Promise<void> {
    if (!(n > 0) || n > this.burst) {
      return Promise.reject(
        new InvalidArgumentError('token request', [{ path: 'n', message: `must be in (0, ${this.burst}]` }]),
      );
    }
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.tryTake(n)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const w: Waiter = { n, resolve, reject, signal, onAbort: undefined };
      if (signal !== undefined) {
        w.onAbort = () => {
          const i = this.queue.indexOf(w);
          if (i < 0) return;
          this.queue.splice(i, 1);
          reject(signal.reason);
          // The head left: the next waiter may fit now, or needs a different timer.
          if (i === 0) this.pump();
        };
        signal.addEventListener('abort', w.onAbort, { once: true });
      }
      this.queue.push(w);
      if (this.queue.length === 1) this.pump();
    });
  }

  /**
   * Runs `fn` if a token is available (waiting up to `maxWaitMs`); otherwise rejects with
   * {@link RateLimitedError}, whose `retryAfterMs` a server can send as `Retry-After`.
   */
  async execute<T>(fn: PolicyFn<T>, signal?: AbortSignal): Promise<T> {
    signal?.throwIfAborted();
    if (!this.tryTake()) {
      const retryAfter = this.retryAfterMs();
      if (retryAfter > this.maxWaitMs) throw new RateLimitedError(retryAfter);
      const wait = new LinkedAbort(signal);
      const timer = this.clock.setTimeout(() => wait.abort(new RateLimitedError(this.retryAfterMs())), this.maxWaitMs);
      try {
        await this.take(wait.signal);
      } finally {
        timer.clear();
        wait.dispose();
      }
    }
    return invoke(fn, { signal: signal ?? new AbortController().signal });
  }

  private refill(): void {
    const now = this.clock.now();
    if (now > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.ratePerSecond) / 1000);
      this.last = now;
    }
  }

  private pump(): void {
    this.timer?.clear();
    this.timer = undefined;
    this.refill();
    for (let w = this.queue[0]; w !== undefined && this.tokens + EPSILON >= w.n; w = this.queue[0]) {
      this.tokens -= w.n;
      this.queue.shift();
      if (w.onAbort !== undefined) w.signal?.removeEventListener('abort', w.onAbort);
      w.resolve();
    }
    const head = this.queue[0];
    if (head !== undefined) {
      const waitMs = Math.max(1, Math.ceil(((head.n - this.tokens) / this.ratePerSecond) * 1000));
      this.timer = this.clock.setTimeout(() => this.pump(), waitMs);
    }
  }
}
