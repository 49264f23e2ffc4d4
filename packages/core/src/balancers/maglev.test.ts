import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../errors/index.js';
import { MaglevPicker } from './maglev.js';
import type { BalancerEndpoint } from './picker.js';
import { makeEndpoints, randomKeys, seededRandom, shuffled } from './test-support.js';

describe('MaglevPicker', () => {
  it('gives each of N equal endpoints ⌊M/N⌋ or ⌈M/N⌉ slots', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), (n) => {
        const p = new MaglevPicker(makeEndpoints(n));
        const lo = Math.floor(p.tableSize / n);
        for (const c of p.slotCounts()) expect(c === lo || c === lo + 1).toBe(true);
        // So each share is within a few % of 1/N (1.5 % at N = 300).
        for (const c of p.slotCounts()) expect(Math.abs((c / p.tableSize) * n - 1)).toBeLessThan(0.05);
      }),
      { numRuns: 30 },
    );
  });

  it('gives slots in proportion to weight', () => {
    const p = new MaglevPicker(makeEndpoints(4, (i) => i + 1));
    const counts = p.slotCounts();
    counts.forEach((c, i) => {
      expect(Math.abs(c / p.tableSize - (i + 1) / 10)).toBeLessThan(0.002);
    });
  });

  it('moves about 1/N of the keys when one of N endpoints is removed; the rest mostly stay', () => {
    fc.assert(
      fc.property(fc.integer({ min: 3, max: 50 }), fc.nat(), fc.integer(), (n, victimRaw, seed) => {
        const eps = makeEndpoints(n);
        const victim = eps[victimRaw % n] as BalancerEndpoint;
        const before = new MaglevPicker(eps);
        const after = new MaglevPicker(eps.filter((e) => e !== victim));
        const keys = randomKeys(seed, 4000);
        let moved = 0;
        let strayed = 0;
        for (const key of keys) {
          const was = before.pick(key)?.id;
          if (was === after.pick(key)?.id) continue;
          moved++;
          if (was !== victim.id) strayed++;
        }
        expect(moved / keys.length).toBeLessThanOrEqual(1 / n + 0.05);
        expect(strayed / keys.length).toBeLessThan(0.03);
      }),
      { numRuns: 40 },
    );
  });

  it('does not depend on the order the endpoints come in', () => {
    const eps = makeEndpoints(40);
    const reordered = shuffled(eps, seededRandom(9));
    expect(reordered.map((e) => e.id)).not.toEqual(eps.map((e) => e.id));
    const a = new MaglevPicker(eps);
    const b = new MaglevPicker(reordered);
    for (const key of randomKeys(6, 2000)) expect(b.pick(key)?.id).toBe(a.pick(key)?.id);
  });

  it('passes an ejected endpoint’s keys to other endpoints and leaves the rest alone', () => {
    const p = new MaglevPicker(makeEndpoints(8), { tableSize: 251 });
    const keys = randomKeys(7, 3000);
    const owners = keys.map((k) => p.pickIndex(k));
    p.setEjected(3, true);
    p.setEjected(6, true);
    keys.forEach((key, k) => {
      const now = p.pickIndex(key);
      expect(now === 3 || now === 6).toBe(false);
      if (owners[k] !== 3 && owners[k] !== 6) expect(now).toBe(owners[k]);
    });
    for (let i = 0; i < 8; i++) p.setEjected(i, true);
    expect(p.pickIndex('k')).toBe(-1);
    p.setEjected(6, false);
    expect(p.pickIndex('k')).toBe(6);
  });

  it('picks at random among eligible endpoints when there is no key', () => {
    const p = new MaglevPicker(makeEndpoints(5), { random: () => 0.99 });
    expect(p.pickIndex()).toBe(4);
    p.setEjected(4, true);
    expect(p.pickIndex()).toBe(3);
  });

  it('sizes the table: 65 537 by default, ≥ 10 slots per endpoint for large sets, or as given', () => {
    expect(new MaglevPicker(makeEndpoints(3)).tableSize).toBe(65_537);
    expect(new MaglevPicker(makeEndpoints(7_000)).tableSize).toBe(70_001);
    expect(new MaglevPicker(makeEndpoints(3), { tableSize: 13 }).tableSize).toBe(13);
  });

  it('rejects a table size that is not a prime ≥ the number of endpoints', () => {
    for (const tableSize of [12, 1.5, 7]) {
      try {
        new MaglevPicker(makeEndpoints(10), { tableSize });
        expect.unreachable();
      } catch (err) {
        expect(err).toBeInstanceOf(InvalidArgumentError);
        expect((err as InvalidArgumentError).issues.map((i) => i.path)).toEqual(['tableSize']);
      }
    }
  });
});
