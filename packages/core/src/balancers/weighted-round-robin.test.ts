import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../errors/index.js';
import { countPicks, makeEndpoints, nginxSequence } from './test-support.js';
import { WeightedRoundRobinPicker } from './weighted-round-robin.js';

const weighted = (weights: readonly number[]) =>
  new WeightedRoundRobinPicker(makeEndpoints(weights.length, (i) => weights[i] as number));
const take = (p: WeightedRoundRobinPicker, n: number) => Array.from({ length: n }, () => p.pickIndex());
const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
/** Integer weights, sometimes all alike, sometimes many distinct (exercising both selection paths). */
const weightsArb = fc.oneof(
  fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 12 }),
  fc.array(fc.integer({ min: 1, max: 100 }), { minLength: 1, maxLength: 40 }),
);

describe('WeightedRoundRobinPicker', () => {
  it("produces nginx's classic 5/1/1 sequence, cycle after cycle", () => {
    const p = new WeightedRoundRobinPicker([
      { id: 'a', weight: 5 },
      { id: 'b', weight: 1 },
      { id: 'c', weight: 1 },
    ]);
    const ids = Array.from({ length: 14 }, () => p.pick()?.id).join(' ');
    expect(ids).toBe('a a b a c a a a a b a c a a');
  });

  it('is exactly nginx’s sequence for arbitrary integer weights', () => {
    fc.assert(
      fc.property(weightsArb, (weights) => {
        const picks = 2 * sum(weights) + 3;
        expect(take(weighted(weights), picks)).toEqual(nginxSequence(weights, picks));
      }),
    );
  });

  it('gives exact shares over a full cycle of Σweights picks', () => {
    fc.assert(
      fc.property(weightsArb, fc.integer({ min: 1, max: 3 }), (weights, cycles) => {
        const counts = countPicks(take(weighted(weights), cycles * sum(weights)), weights.length);
        expect(counts).toEqual(weights.map((w) => cycles * w));
      }),
    );
  });

  it('interleaves: no endpoint ever gets a whole pick ahead of its fair share', () => {
    // nginx keeps every `current` above −W (the picked peer's was the maximum, hence > 0, before
    // losing W), i.e. picks_i(t) − t·w_i/W < 1 at every prefix t. A bursty WRR breaks this at once.
    const worstLead = (weights: readonly number[], sequence: readonly number[]): number => {
      const total = sum(weights);
      const counts = new Array<number>(weights.length).fill(0);
      let worst = Number.NEGATIVE_INFINITY;
      sequence.forEach((picked, step) => {
        counts[picked] = (counts[picked] as number) + 1;
        weights.forEach((w, i) => {
          worst = Math.max(worst, (counts[i] as number) - ((step + 1) * w) / total);
        });
      });
      return worst;
    };
    fc.assert(
      fc.property(weightsArb, (weights) => {
        expect(worstLead(weights, take(weighted(weights), 2 * sum(weights)))).toBeLessThan(1);
      }),
    );
    expect(worstLead([5, 1, 1], [0, 0, 0, 0, 0, 1, 2])).toBeGreaterThan(1); // the check can fail
  });

  it('never picks an ejected endpoint and restarts the cycle over the rest', () => {
    fc.assert(
      fc.property(weightsArb, fc.array(fc.nat(), { maxLength: 10 }), (weights, ejectedRaw) => {
        const p = weighted(weights);
        take(p, 5); // mid-cycle
        const ejected = new Set(ejectedRaw.map((e) => e % weights.length));
        for (const e of ejected) p.setEjected(e, true);
        const rest = weights.map((w, i) => (ejected.has(i) ? 0 : w));
        const picks = take(p, sum(rest));
        if (ejected.size === weights.length) {
          expect(p.pickIndex()).toBe(-1);
          expect(p.pick()).toBeUndefined();
        } else {
          expect(countPicks(picks, weights.length)).toEqual(rest);
        }
      }),
    );
  });

  it('stays exactly on nginx’s sequence past 2^24 picks, where its counters are rebased', () => {
    for (const weights of [[3, 2, 1]]) {
      const p = weighted(weights);
      const total = sum(weights);
      // With integer weights nginx's state is back to zero after Σw picks: the sequence is periodic.
      const cycle = nginxSequence(weights, 2 * total);
      expect(cycle.slice(total)).toEqual(cycle.slice(0, total));
      const before = (1 << 24) - 3;
      for (let i = 0; i < before; i++) p.pickIndex();
      expect(take(p, 2 * total)).toEqual(Array.from({ length: 2 * total }, (_, k) => cycle[(before + k) % total]));
    }
  });

  it('honours fractional weights proportionally', () => {
    const counts = countPicks(take(weighted([0.5, 1.5, 2]), 4000), 3);
    expect(counts).toEqual([500, 1500, 2000]);
  });

  it('rejects invalid weights, naming each', () => {
    try {
      weighted([1, -2, Number.POSITIVE_INFINITY]);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidArgumentError);
      expect((err as InvalidArgumentError).issues.map((i) => i.path)).toEqual([
        'endpoints[1].weight',
        'endpoints[2].weight',
      ]);
    }
  });
});
