import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RandomPicker } from './random.js';
import { countPicks, makeEndpoints, seededRandom } from './test-support.js';

/** An RNG that replays `values` in order. */
function replay(values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length] as number;
}

describe('RandomPicker', () => {
  it('maps the injected RNG’s draws onto the endpoints', () => {
    const p = new RandomPicker(makeEndpoints(10), { random: replay([0, 0.999, 0.5, 0.25]) });
    expect([p.pickIndex(), p.pickIndex(), p.pickIndex(), p.pickIndex()]).toEqual([0, 9, 5, 2]);
  });

  it('is reproducible with a seeded RNG', () => {
    const a = new RandomPicker(makeEndpoints(50), { random: seededRandom(7) });
    const b = new RandomPicker(makeEndpoints(50), { random: seededRandom(7) });
    const seq = (p: RandomPicker) => Array.from({ length: 100 }, () => p.pickIndex());
    const first = seq(a);
    expect(seq(b)).toEqual(first);
    expect(new Set(first).size).toBeGreaterThan(30);
  });

  it('weights draws by weight (cumulative search)', () => {
    const p = new RandomPicker(
      makeEndpoints(2, (i) => (i === 0 ? 1 : 3)),
      {
        random: replay([0.2, 0.3, 0.99, 0, 0.25]),
      },
    );
    // Cumulative weights [1, 4]: endpoint 0 owns [0, 1), endpoint 1 owns [1, 4).
    // 0.2·4 = 0.8 → 0; 1.2 → 1; 3.96 → 1; 0 → 0; exactly 1 → 1.
    expect(Array.from({ length: 5 }, () => p.pickIndex())).toEqual([0, 1, 1, 0, 1]);
    const q = new RandomPicker(
      makeEndpoints(3, (i) => i + 1),
      { random: seededRandom(3) },
    );
    const counts = countPicks(
      Array.from({ length: 60_000 }, () => q.pickIndex()),
      3,
    );
    counts.forEach((c, i) => {
      expect(Math.abs(c / 60_000 - (i + 1) / 6)).toBeLessThan(0.01);
    });
  });

  it('never picks an ejected endpoint; -1 when all are', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 30 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        fc.integer(),
        (weights, ejectedRaw, seed) => {
          const p = new RandomPicker(
            makeEndpoints(weights.length, (i) => weights[i] as number),
            {
              random: seededRandom(seed),
            },
          );
          const ejected = new Set(ejectedRaw.map((e) => e % weights.length));
          for (const e of ejected) p.setEjected(e, true);
          for (let k = 0; k < 200; k++) {
            const i = p.pickIndex();
            if (ejected.size === weights.length) expect(i).toBe(-1);
            else expect(i >= 0 && !ejected.has(i)).toBe(true);
          }
        },
      ),
    );
  });

  it('still returns a valid index from a misbehaving RNG', () => {
    for (const bad of [1, -0.5, Number.NaN, 7]) {
      const i = new RandomPicker(makeEndpoints(4), { random: () => bad }).pickIndex();
      expect(i >= 0 && i < 4).toBe(true);
    }
  });
});
