import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../clock/index.js';
import { isRateLimitedError, type RateLimitedError } from './errors.js';
import { RateLimiter } from './rate-limiter.js';

describe('RateLimiter', () => {
  it('allows a burst, then refills at the rate on the clock', () => {
    const clock = new VirtualClock();
    const rl = new RateLimiter({ clock, ratePerSecond: 10, burst: 5 });
    let taken = 0;
    while (rl.tryTake()) taken++;
    expect(taken).toBe(5);
    expect(rl.retryAfterMs()).toBe(100);
    clock.advance(99);
    expect(rl.tryTake()).toBe(false);
    clock.advance(1);
    expect(rl.tryTake()).toBe(true);
    clock.advance(60_000); // a long idle period saves up no more than the burst
    expect(rl.available).toBe(5);
  });

  it('serves waiters in FIFO order at the rate, and an aborted waiter leaves the queue', async () => {
    const clock = new VirtualClock();
    const rl = new RateLimiter({ clock, ratePerSecond: 10, burst: 1 });
    expect(rl.tryTake()).toBe(true);
    const served: string[] = [];
    const ac = new AbortController();
    const take = (name: string, signal?: AbortSignal) =>
      rl.take(signal).then(
        () => served.push(`${name}@${clock.now()}`),
        (e: unknown) => served.push(`${name} aborted: ${String(e)}`),
      );
    const all = [take('a'), take('b', ac.signal), take('c'), take('d')];
    expect(rl.waiting).toBe(4);
    expect(rl.tryTake()).toBe(false); // cannot overtake the queue even when a token appears
    await clock.advanceAsync(50);
    ac.abort('changed my mind');
    await clock.advanceAsync(1_000);
    await Promise.all(all);
    expect(served).toEqual(['b aborted: changed my mind', 'a@100', 'c@200', 'd@300']);
    expect(rl.waiting).toBe(0);
  });

  it('never lets tryTake overtake a waiter, even when some tokens are there', async () => {
    const clock = new VirtualClock();
    const rl = new RateLimiter({ clock, ratePerSecond: 1, burst: 3 });
    while (rl.tryTake()) {}
    clock.advance(1_000); // 1 token saved up
    const big = rl.take(undefined, 3); // needs 2 more
    expect(rl.available).toBeCloseTo(1);
    expect(rl.tryTake()).toBe(false);
    expect(rl.retryAfterMs()).toBe(3_000); // 2 s for the waiter, then 1 s for this call
    await clock.advanceAsync(2_000);
    await big;
    expect(rl.waiting).toBe(0);
  });

  it('re-times the queue when its head leaves', async () => {
    const clock = new VirtualClock();
    const rl = new RateLimiter({ clock, ratePerSecond: 1, burst: 3 });
    while (rl.tryTake()) {}
    const ac = new AbortController();
    const big = rl.take(ac.signal, 3).catch(() => 'gone');
    let smallAt = -1;
    const small = rl.take(undefined, 1).then(() => {
      smallAt = clock.now();
    });
    await clock.advanceAsync(500);
    ac.abort();
    await clock.advanceAsync(2_000);
    await Promise.all([big, small]);
    expect(smallAt).toBe(1_000);
  });

  it('execute refuses with a Retry-After hint, or waits up to maxWaitMs', async () => {
    const clock = new VirtualClock();
    const strict = new RateLimiter({ clock, ratePerSecond: 2, burst: 1 });
    await expect(strict.execute(() => 'ok')).resolves.toBe('ok');
    const err = await strict.execute(() => 'ok').catch((e: unknown) => e);
    expect(isRateLimitedError(err)).toBe(true);
    expect([(err as RateLimitedError).status, (err as RateLimitedError).retryAfterMs]).toEqual([429, 500]);

    const patient = new RateLimiter({ clock, ratePerSecond: 2, burst: 1, maxWaitMs: 600 });
    patient.tryTake();
    const waited = patient.execute(() => clock.now());
    await clock.advanceAsync(1_000);
    await expect(waited).resolves.toBe(500);
    expect(clock.pendingTimers).toBe(0);
  });

  it('rejects impossible requests and bad options', async () => {
    const rl = new RateLimiter({ ratePerSecond: 5, burst: 2 });
    await expect(rl.take(undefined, 3)).rejects.toThrow(/must be in \(0, 2\]/);
    expect(() => new RateLimiter({ ratePerSecond: 0 })).toThrow(/ratePerSecond/);
  });
});
