import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SmoothSchedule } from './smooth-schedule.js';
import { nginxSequence } from './test-support.js';

/** A schedule over all of `weights`, forced onto the scan (limit ∞) or the tournament (limit 0). */
function schedule(weights: readonly number[], scanLimit: number): SmoothSchedule {
  const s = new SmoothSchedule(Float64Array.from(weights), scanLimit);
  s.load(Int32Array.from(weights.keys()), weights.length);
  return s;
}
const take = (s: SmoothSchedule, n: number) => Array.from({ length: n }, () => s.next());
const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
const weightsArb = fc.oneof(
  fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 30 }),
  fc.array(fc.integer({ min: 1, max: 60 }), { minLength: 1, maxLength: 70 }),
);

describe.each([
  ['scan', Number.POSITIVE_INFINITY],
  ['tournament', 0],
])('SmoothSchedule (%s)', (_mode, scanLimit) => {
  it('replays nginx’s sequence exactly, ties included', () => {
    fc.assert(
      fc.property(weightsArb, (weights) => {
        const picks = 2 * sum(weights) + 5;
        expect(take(schedule(weights, scanLimit), picks)).toEqual(nginxSequence(weights, picks));
      }),
      { numRuns: 150 },
    );
  });

  it('restarts from scratch on load(), over the given endpoints only', () => {
    fc.assert(
      fc.property(weightsArb, fc.array(fc.boolean(), { maxLength: 70 }), (weights, keep) => {
        const s = schedule(weights, scanLimit);
        take(s, 7);
        const kept = [...weights.keys()].filter((i) => keep[i] ?? true);
        if (kept.length === 0) return;
        s.load(Int32Array.from(kept), kept.length);
        const sub = kept.map((i) => weights[i] as number);
        const picks = 2 * sum(sub) + 3;
        expect(take(s, picks)).toEqual(nginxSequence(sub, picks).map((k) => kept[k]));
      }),
      { numRuns: 100 },
    );
  });

  it('stays on nginx’s sequence across the rebase after 2^24 steps', () => {
    const weights = [9, 7, 7, 4, 3, 3, 2, 1];
    const total = sum(weights);
    const cycle = nginxSequence(weights, total); // periodic: the state is zero again after Σw picks
    const s = schedule(weights, scanLimit);
    const before = (1 << 24) - 5;
    for (let i = 0; i < before; i++) s.next();
    expect(take(s, 3 * total)).toEqual(Array.from({ length: 3 * total }, (_, k) => cycle[(before + k) % total]));
  });
});
