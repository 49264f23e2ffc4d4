import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../clock/index.js';
import { SlidingWindow } from './sliding-window.js';

describe('SlidingWindow', () => {
  it('forgets counts bucket by bucket as time passes', () => {
    const clock = new VirtualClock();
    const w = new SlidingWindow(clock, 10_000, 10, 2);
    w.add(0, 3);
    clock.advance(5_000);
    w.add(0);
    w.add(1, 2);
    expect([w.sum(0), w.sum(1)]).toEqual([4, 2]);
    clock.advance(5_000); // the first bucket (t=0..1s) has left the window
    expect(w.sum(0)).toBe(1);
    clock.advance(4_999); // t=14.999 s: the bucket of t=5 s is the oldest one still in
    expect(w.sum(0)).toBe(1);
    clock.advance(1);
    expect([w.sum(0), w.sum(1)]).toEqual([0, 0]);
  });

  it('clears everything after a jump longer than the window', () => {
    const clock = new VirtualClock();
    const w = new SlidingWindow(clock, 1_000, 4, 1);
    w.add(0, 10);
    clock.advance(60_000);
    expect(w.sum(0)).toBe(0);
    w.add(0);
    expect(w.sum(0)).toBe(1);
  });

  it('agrees with a naive model: the sum is the adds in the last `buckets` bucket periods', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ dt: fc.integer({ min: 0, max: 700 }), n: fc.integer({ min: 1, max: 5 }) }), {
          maxLength: 200,
        }),
        (ops) => {
          const clock = new VirtualClock(1_000_000);
          const w = new SlidingWindow(clock, 1_000, 5, 1); // 200 ms buckets
          const adds: { bucket: number; n: number }[] = [];
          for (const op of ops) {
            clock.advance(op.dt);
            w.add(0, op.n);
            const bucket = Math.floor(clock.now() / 200);
            adds.push({ bucket, n: op.n });
            const expected = adds.filter((a) => a.bucket > bucket - 5).reduce((s, a) => s + a.n, 0);
            if (w.sum(0) !== expected) return false;
          }
          return true;
        },
      ),
    );
  });
});
