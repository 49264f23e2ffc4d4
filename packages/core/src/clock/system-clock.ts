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
    return new RealTimer(setTimeout(callback, Math.max(0, delayMs)).unref());
  }

  setInterval(callback: () => void, intervalMs: number): TimerHandle {
    return new RealTimer(setInterval(callback, Math.max(1, intervalMs)).unref());
  }

  sleep(delayMs: number, signal?: AbortSignal): Promise<void> {
    return sleepOn(this, delayMs, signal);
  }
}

/**
 * A handle over a Node timer. A class rather than a closure: policies arm a timer per call, and
 * one small object with a shared method is cheaper than a closure plus its context.
 */
class RealTimer implements TimerHandle {
  constructor(private readonly timeout: NodeJS.Timeout) {}
  clear(): void {
    // clearTimeout and clearInterval are interchangeable in Node.
    clearTimeout(this.timeout);
  }
}

/** The process-wide real clock, used when no clock is given. */
export const systemClock: Clock = new SystemClock();
