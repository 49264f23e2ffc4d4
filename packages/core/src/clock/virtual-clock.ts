import { type Clock, sleepOn, type TimerHandle } from './clock.js';

interface VirtualTimer {
  at: number;
  seq: number;
  interval: number; // 0 for one-shot timers
  callback: () => void;
  cancelled: boolean;
}

/**
 * A clock that only moves when told to. Timers fire in time order (ties in creation order) during
 * {@link VirtualClock.advance} / {@link VirtualClock.advanceAsync}, so tests of TTLs, windows and
 * backoff are exact and take no real time.
 */
export class VirtualClock implements Clock {
  private current: number;
  private seq = 0;
  // A binary min-heap ordered by (at, seq).
  private readonly heap: VirtualTimer[] = [];

  constructor(startMs = 0) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    return this.schedule(callback, Math.max(0, delayMs), 0);
  }

  setInterval(callback: () => void, intervalMs: number): TimerHandle {
    const every = Math.max(1, intervalMs);
    return this.schedule(callback, every, every);
  }

  sleep(delayMs: number, signal?: AbortSignal): Promise<void> {
    return sleepOn(this, delayMs, signal);
  }

  /** Number of timers still scheduled. */
  get pendingTimers(): number {
    let n = 0;
    for (const t of this.heap) if (!t.cancelled) n++;
    return n;
  }

  /** Moves time forward by `ms`, firing due timers synchronously in order. */
  advance(ms: number): void {
    const target = this.current + ms;
    for (let t = this.nextDue(target); t !== undefined; t = this.nextDue(target)) this.fire(t);
    this.current = target;
  }

  /**
   * Moves time forward by `ms`, letting promise callbacks run after each timer fires — use this
   * when the code under test awaits `sleep()` between timers (retries, backoff).
   */
  async advanceAsync(ms: number): Promise<void> {
    const target = this.current + ms;
    await flushMicrotasks();
    for (let t = this.nextDue(target); t !== undefined; t = this.nextDue(target)) {
      this.fire(t);
      await flushMicrotasks();
    }
    this.current = target;
    await flushMicrotasks();
  }

  /** Fires timers until none are left (intervals excluded), up to `limit` timers. */
  runAll(limit = 10_000): void {
    for (let i = 0; i < limit; i++) {
      const t = this.peekLive();
      if (t === undefined || t.interval > 0) return;
      this.advance(t.at - this.current);
    }
  }

  private schedule(callback: () => void, delay: number, interval: number): TimerHandle {
    const timer: VirtualTimer = { at: this.current + delay, seq: this.seq++, interval, callback, cancelled: false };
    this.push(timer);
    return {
      clear: () => {
        timer.cancelled = true;
      },
    };
  }

  private fire(t: VirtualTimer): void {
    this.current = t.at;
    if (t.interval > 0) {
      t.at += t.interval;
      t.seq = this.seq++;
      this.push(t);
    }
    t.callback();
  }

  private nextDue(target: number): VirtualTimer | undefined {
    const t = this.peekLive();
    if (t === undefined || t.at > target) return undefined;
    this.pop();
    return t;
  }

  private peekLive(): VirtualTimer | undefined {
    while (this.heap.length > 0 && this.heap[0]?.cancelled) this.pop();
    return this.heap[0];
  }

  private less(a: VirtualTimer, b: VirtualTimer): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private push(t: VirtualTimer): void {
    const h = this.heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = h[parent] as VirtualTimer;
      if (!this.less(t, p)) break;
      h[i] = p;
      i = parent;
    }
    h[i] = t;
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop();
    if (last === undefined || h.length === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const c = r < h.length && this.less(h[r] as VirtualTimer, h[l] as VirtualTimer) ? r : l;
      if (!this.less(h[c] as VirtualTimer, last)) break;
      h[i] = h[c] as VirtualTimer;
      i = c;
    }
    h[i] = last;
  }
}

/** Lets every queued promise callback run (a macrotask boundary drains the microtask queue). */
function flushMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
