import { type Clock, sleepOn, type TimerHandle } from './clock.js';

/**
 * The real clock. `now()` is derived from the monotonic `performance.now()` anchored at process
 * start, so NTP steps cannot make TTLs expire early or late.
 */
export class SystemClock implements Clock {
  private readonly origin = performance.timeOrigin;

  now(): number {
    return this.origin + performance.now();
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const t = setTimeout(callback, Math.max(0, delayMs));
    t.unref();
    return { clear: () => clearTimeout(t) };
  }

  setInterval(callback: () => void, intervalMs: number): TimerHandle {
    const t = setInterval(callback, Math.max(1, intervalMs));
    t.unref();
    return { clear: () => clearInterval(t) };
  }

  sleep(delayMs: number, signal?: AbortSignal): Promise<void> {
    return sleepOn(this, delayMs, signal);
  }
}

/** The process-wide real clock, used when no clock is given. */
export const systemClock: Clock = new SystemClock();
