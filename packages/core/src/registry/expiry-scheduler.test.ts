import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../clock/index.js';
import type { Expiring } from './expiry-queue.js';
import { ExpiryScheduler } from './expiry-scheduler.js';

const item = (expiresAt: number): Expiring => ({ expiresAt, heapKey: 0, heapIndex: -1 });

describe('ExpiryScheduler', () => {
  it('keeps one timer for any number of items and re-arms it once per drain', () => {
    const clock = new VirtualClock();
    const expired: number[] = [];
    let drains = 0;
    const s = new ExpiryScheduler<Expiring>(
      clock,
      (i) => {
        expired.push(clock.now());
        s.remove(i); // allowed, and a no-op
      },
      () => drains++,
    );
    for (let k = 0; k < 1000; k++) s.schedule(item(100 + (k % 10)));
    expect(clock.pendingTimers).toBe(1);
    clock.advance(99);
    expect(expired).toEqual([]);
    clock.advance(1);
    expect(expired).toHaveLength(100);
    expect(drains).toBe(1);
    clock.advance(100);
    expect(expired).toHaveLength(1000);
    expect(expired.at(-1)).toBe(109);
    expect(s.armed).toBe(false);
    expect(clock.pendingTimers).toBe(0);
  });

  it('re-files a moved deadline instead of expiring it, disarms when emptied, and stops for good', () => {
    const clock = new VirtualClock();
    const expired: Expiring[] = [];
    const s = new ExpiryScheduler<Expiring>(
      clock,
      (i) => expired.push(i),
      () => {},
    );
    const a = item(10);
    s.schedule(a);
    a.expiresAt = 50; // renewed
    clock.advance(10);
    expect(expired).toEqual([]);
    expect(s.armed).toBe(true);
    clock.advance(40);
    expect(expired).toEqual([a]);
    const b = item(100);
    s.schedule(b);
    s.remove(b);
    expect(s.armed).toBe(false);
    s.schedule(item(200));
    s.stop();
    s.schedule(item(300));
    expect(clock.pendingTimers).toBe(0);
  });

  it('expires on demand when the timer is late', () => {
    // A clock whose timers never fire, as under a blocked event loop.
    let now = 0;
    const clock = {
      now: () => now,
      setTimeout: () => ({ clear() {} }),
      setInterval: () => ({ clear() {} }),
      sleep: async () => {},
    };
    const expired: Expiring[] = [];
    const s = new ExpiryScheduler<Expiring>(
      clock,
      (i) => expired.push(i),
      () => {},
    );
    s.schedule(item(10));
    now = 9;
    expect(s.expireDue()).toBe(9);
    expect(expired).toHaveLength(0);
    now = 10;
    expect(s.expireDue()).toBe(10);
    expect(expired).toHaveLength(1);
  });
});
