import { describe, expect, it } from 'vitest';
import { SystemClock } from './system-clock.js';
import { VirtualClock } from './virtual-clock.js';

describe('VirtualClock', () => {
  it('fires timers in time order, ties in creation order, only when time reaches them', () => {
    const clock = new VirtualClock(100);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`b@${clock.now()}`), 20);
    clock.setTimeout(() => fired.push(`a@${clock.now()}`), 10);
    clock.setTimeout(() => fired.push(`c@${clock.now()}`), 20);
    clock.advance(9);
    expect(fired).toEqual([]);
    clock.advance(1);
    expect(fired).toEqual(['a@110']);
    clock.advance(100);
    expect(fired).toEqual(['a@110', 'b@120', 'c@120']);
    expect(clock.now()).toBe(210);
  });

  it('lets a timer schedule another one inside the same advance', () => {
    const clock = new VirtualClock();
    const fired: number[] = [];
    clock.setTimeout(() => {
      fired.push(clock.now());
      clock.setTimeout(() => fired.push(clock.now()), 5);
    }, 5);
    clock.advance(10);
    expect(fired).toEqual([5, 10]);
  });

  it('repeats intervals and stops them when cleared', () => {
    const clock = new VirtualClock();
    let n = 0;
    const h = clock.setInterval(() => n++, 10);
    clock.advance(35);
    expect(n).toBe(3);
    h.clear();
    clock.advance(100);
    expect(n).toBe(3);
    expect(clock.pendingTimers).toBe(0);
  });

  it('does not fire cleared timers', () => {
    const clock = new VirtualClock();
    let fired = false;
    clock.setTimeout(() => (fired = true), 1).clear();
    clock.advance(10);
    expect(fired).toBe(false);
  });

  it('resolves sleeps with advanceAsync, and rejects them on abort', async () => {
    const clock = new VirtualClock();
    const order: string[] = [];
    const run = (async () => {
      await clock.sleep(100);
      order.push(`first@${clock.now()}`);
      await clock.sleep(50);
      order.push(`second@${clock.now()}`);
    })();
    await clock.advanceAsync(149);
    expect(order).toEqual(['first@100']);
    await clock.advanceAsync(1);
    await run;
    expect(order).toEqual(['first@100', 'second@150']);

    const ac = new AbortController();
    const pending = clock.sleep(1_000, ac.signal);
    ac.abort(new Error('stop'));
    await expect(pending).rejects.toThrow('stop');
    expect(clock.pendingTimers).toBe(0);
  });

  it('runAll drains one-shot timers', () => {
    const clock = new VirtualClock();
    let n = 0;
    clock.setTimeout(() => n++, 1_000);
    clock.setTimeout(() => n++, 5_000);
    clock.runAll();
    expect(n).toBe(2);
    expect(clock.now()).toBe(5_000);
  });
});

describe('SystemClock', () => {
  it('reads epoch milliseconds close to Date.now()', () => {
    expect(Math.abs(new SystemClock().now() - Date.now())).toBeLessThan(1_000);
  });

  it('sleeps for real, briefly', async () => {
    const clock = new SystemClock();
    const start = performance.now();
    await clock.sleep(15);
    expect(performance.now() - start).toBeGreaterThanOrEqual(14);
  });
});
