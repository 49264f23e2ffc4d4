import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../errors/index.js';
import { RoundRobinPicker } from './round-robin.js';
import { countPicks, makeEndpoints } from './test-support.js';

const first = () => 0;

describe('RoundRobinPicker', () => {
  it('cycles through the endpoints in order', () => {
    const p = new RoundRobinPicker(makeEndpoints(3), { random: first });
    expect(Array.from({ length: 7 }, () => p.pickIndex())).toEqual([0, 1, 2, 0, 1, 2, 0]);
    expect(p.pick()).toBe(p.endpoints[1]);
  });

  it('starts at a position drawn from the injected RNG', () => {
    const p = new RoundRobinPicker(makeEndpoints(4), { random: () => 0.5 });
    expect([p.pickIndex(), p.pickIndex(), p.pickIndex()]).toEqual([2, 3, 0]);
  });

  it('skips ejected endpoints and continues the rotation where it was', () => {
    const p = new RoundRobinPicker(makeEndpoints(5), { random: first });
    expect([p.pickIndex(), p.pickIndex()]).toEqual([0, 1]);
    p.setEjected(2, true);
    expect(p.isEjected(2)).toBe(true);
    expect([p.pickIndex(), p.pickIndex(), p.pickIndex(), p.pickIndex()]).toEqual([3, 4, 0, 1]);
    p.setEjected(2, false);
    expect([p.pickIndex(), p.pickIndex()]).toEqual([2, 3]);
  });

  it('returns -1 / undefined when every endpoint is ejected, and recovers', () => {
    const p = new RoundRobinPicker(makeEndpoints(2), { random: first });
    p.setEjected(0, true);
    p.setEjected(1, true);
    expect(p.pickIndex()).toBe(-1);
    expect(p.pick()).toBeUndefined();
    p.setEjected(1, false);
    expect(p.pickIndex()).toBe(1);
  });

  it('gives every eligible endpoint exactly the same number of picks, and ejected ones none', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        fc.array(fc.nat(), { maxLength: 60 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.integer({ min: 1, max: 4 }),
        (n, ejectedRaw, start, rounds) => {
          const p = new RoundRobinPicker(makeEndpoints(n), { random: () => start });
          const ejected = new Set(ejectedRaw.map((e) => e % n));
          for (const e of ejected) p.setEjected(e, true);
          const eligible = n - ejected.size;
          const picks = Array.from({ length: rounds * eligible }, () => p.pickIndex());
          if (eligible === 0) {
            expect(p.pickIndex()).toBe(-1);
            return;
          }
          const counts = countPicks(picks, n);
          for (let i = 0; i < n; i++) expect(counts[i]).toBe(ejected.has(i) ? 0 : rounds);
        },
      ),
    );
  });

  it('rejects invalid weights (naming each one) and options', () => {
    try {
      new RoundRobinPicker([{ id: 'a' }, { id: 'b', weight: 0 }, { id: 'c', weight: Number.NaN }]);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidArgumentError);
      expect((err as InvalidArgumentError).issues.map((i) => i.path)).toEqual([
        'endpoints[1].weight',
        'endpoints[2].weight',
      ]);
    }
    expect(() => new RoundRobinPicker([], { random: 5 as unknown as () => number })).toThrow(/random/);
  });

  it('rejects setEjected on an index that is not an endpoint', () => {
    const p = new RoundRobinPicker(makeEndpoints(2));
    expect(() => p.setEjected(2, true)).toThrow(InvalidArgumentError);
    expect(() => p.setEjected(-1, true)).toThrow(/index/);
    expect(p.isEjected(7)).toBe(false);
  });
});
