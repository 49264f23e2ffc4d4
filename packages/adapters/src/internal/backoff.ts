import { type Backoff, type BackoffOptions, backoffDelay, resolveBackoff } from '@weft/core';

/** Default reconnect backoff of the adapters' watches: 100 ms, doubling, capped at 5 s, full jitter. */
export const WATCH_BACKOFF: Required<BackoffOptions> = { baseMs: 100, maxMs: 5_000, jitter: 'full' };

/** Consecutive-failure counter over core's backoff: `next()` gives the next delay, `reset()` after a success. */
export class BackoffState {
  private readonly backoff: Backoff;
  private failures = 0;
  private previous = 0;

  constructor(
    options: BackoffOptions = {},
    private readonly random: () => number = Math.random,
  ) {
    this.backoff = resolveBackoff({ ...WATCH_BACKOFF, ...options });
  }

  /** Failures since the last success. */
  get attempts(): number {
    return this.failures;
  }

  next(): number {
    this.failures++;
    // Full jitter can draw 0; keep a floor so a server that fails instantly is never hammered.
    const delay = Math.max(
      this.backoff.baseMs / 4,
      backoffDelay(this.backoff, this.failures, this.previous, this.random),
    );
    this.previous = delay;
    return delay;
  }

  reset(): void {
    this.failures = 0;
    this.previous = 0;
  }
}
