/** A scheduled callback that can be cancelled. */
export interface TimerHandle {
  /** Cancels the timer; safe to call more than once or after it fired. */
  clear(): void;
}

/**
 * Time as Weft sees it. Every timer in Weft goes through a Clock so that behaviour over time
 * (TTL expiry, breaker windows, backoff) is testable on a {@link VirtualClock} without sleeping.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. Never goes backwards on the real clock. */
  now(): number;
  /** Runs `callback` once after `delayMs`. Real timers are unref'd: a Clock never keeps a process alive. */
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  /** Runs `callback` every `intervalMs` until cleared. */
  setInterval(callback: () => void, intervalMs: number): TimerHandle;
  /** Resolves after `delayMs`; rejects with the signal's reason when `signal` aborts first. */
  sleep(delayMs: number, signal?: AbortSignal): Promise<void>;
}

/** Shared implementation of `sleep` on top of any clock's `setTimeout`. */
export function sleepOn(clock: Pick<Clock, 'setTimeout'>, delayMs: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      timer.clear();
      reject(signal?.reason);
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, delayMs);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
