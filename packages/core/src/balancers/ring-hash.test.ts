import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../errors/index.js';
import { hashString } from './hash.js';
import type { BalancerEndpoint } from './picker.js';
import { RingHashPicker } from './ring-hash.js';
import { countPicks, makeEndpoints, randomKeys, seededRandom, shuffled } from './test-support.js';

describe('RingHashPicker', () => {
  it('maps a key to the same endpoint every time, and on every rebuild', () => {
    const eps = makeEndpoints(20);
    const a = new RingHashPicker(eps);
    const b = new RingHashPicker(eps);
    for (const key of randomKeys(1, 500)) {
      expect(a.pickIndex(key)).toBe(a.pickIndex(key));
      expect(b.pickIndex(key)).toBe(a.pickIndex(key));
    }
  });

  it('gives each key the owner of the first point at or after its hash, wrapping past the top', () => {
    // One point per endpoint, at murmur3(id, seed 0): small enough to compute by hand.
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.integer(), (n, seed) => {
        const eps = makeEndpoints(n);
        const p = new RingHashPicker(eps, { replicasPerWeight: 1, minRingSize: 1 });
        expect(p.ringSize).toBe(n);
        const points = eps.map((e, i) => ({ point: hashString(e.id, 0), i })).sort((a, b) => a.point - b.point);
        // An endpoint's own id hashes exactly onto its point: the boundary case (point = hash).
        for (const key of [...randomKeys(seed, 300), ...eps.map((e) => e.id)]) {
          const h = hashString(key);
          const next = points.find((q) => q.point >= h) ?? points[0];
          expect(p.pickIndex(key)).toBe(next?.i);
        }
      }),
      { numRuns: 60 },
    );
    // Keys past the highest point exist and wrap to the lowest one.
    const eps = makeEndpoints(2);
    const p = new RingHashPicker(eps, { replicasPerWeight: 1, minRingSize: 1 });
    const top = Math.max(...eps.map((e) => hashString(e.id, 0)));
    const lowest = eps.findIndex((e) => hashString(e.id, 0) !== top);
    const beyond = randomKeys(8, 5000).filter((k) => hashString(k) > top);
    expect(beyond.length).toBeGreaterThan(0);
    for (const key of beyond) expect(p.pickIndex(key)).toBe(lowest);
  });

  it('does not depend on the order the endpoints come in', () => {
    const eps = makeEndpoints(30);
    const reordered = shuffled(eps, seededRandom(4));
    expect(reordered.map((e) => e.id)).not.toEqual(eps.map((e) => e.id));
    const a = new RingHashPicker(eps);
    const b = new RingHashPicker(reordered);
    for (const key of randomKeys(2, 1000)) expect(b.pick(key)?.id).toBe(a.pick(key)?.id);
  });

  it('moves about 1/N of the keys when one of N endpoints is removed, and no others', () => {
    fc.assert(
      fc.property(fc.integer({ min: 3, max: 50 }), fc.nat(), fc.integer(), (n, victimRaw, seed) => {
        const eps = makeEndpoints(n);
        const victim = eps[victimRaw % n] as BalancerEndpoint;
        const before = new RingHashPicker(eps);
        const after = new RingHashPicker(eps.filter((e) => e !== victim));
        const keys = randomKeys(seed, 4000);
        let moved = 0;
        for (const key of keys) {
          const was = before.pick(key)?.id;
          const now = after.pick(key)?.id;
          if (was === now) continue;
          moved++;
          expect(was).toBe(victim.id); // keys of surviving endpoints stay put
        }
        expect(moved / keys.length).toBeLessThanOrEqual(1 / n + 0.05);
      }),
      { numRuns: 40 },
    );
  });

  it('balances equal weights and follows unequal ones', () => {
    const keys = randomKeys(3, 60_000);
    const equal = new RingHashPicker(makeEndpoints(10));
    for (const c of countPicks(
      keys.map((k) => equal.pickIndex(k)),
      10,
    )) {
      expect(Math.abs(c / keys.length - 0.1)).toBeLessThan(0.025);
    }
    const weighted = new RingHashPicker(makeEndpoints(3, (i) => i + 1));
    const counts = countPicks(
      keys.map((k) => weighted.pickIndex(k)),
      3,
    );
    counts.forEach((c, i) => {
      expect(Math.abs(c / keys.length - (i + 1) / 6)).toBeLessThan(0.04);
    });
  });

  it('sends an ejected endpoint’s keys where removing it would, and only those', () => {
    const eps = makeEndpoints(12);
    const p = new RingHashPicker(eps);
    const without = new RingHashPicker(eps.filter((_, i) => i !== 5));
    const keys = randomKeys(5, 2000);
    const owners = keys.map((k) => p.pick(k)?.id);
    p.setEjected(5, true);
    keys.forEach((key, k) => {
      expect(p.pick(key)?.id).toBe(without.pick(key)?.id);
      if (owners[k] !== eps[5]?.id) expect(p.pick(key)?.id).toBe(owners[k]);
    });
    for (let i = 0; i < 12; i++) p.setEjected(i, true);
    expect(p.pickIndex('k')).toBe(-1);
  });

  it('picks at random among eligible endpoints when there is no key', () => {
    const p = new RingHashPicker(makeEndpoints(4), { random: () => 0.6 });
    expect(p.pickIndex()).toBe(2);
    p.setEjected(0, true);
    expect(p.pickIndex()).toBe(2); // eligible [1, 2, 3], index ⌊0.6·3⌋ = 1
  });

  it('sizes the ring by weight, within its minimum and maximum', () => {
    expect(new RingHashPicker(makeEndpoints(10)).ringSize).toBe(2560);
    expect(new RingHashPicker(makeEndpoints(10, (i) => (i < 5 ? 1 : 2))).ringSize).toBe(3840);
    expect(new RingHashPicker(makeEndpoints(1)).ringSize).toBe(512);
    expect(new RingHashPicker(makeEndpoints(4), { replicasPerWeight: 10, minRingSize: 1 }).ringSize).toBe(40);
    expect(new RingHashPicker(makeEndpoints(100), { maxRingSize: 1000 }).ringSize).toBe(1000);
    expect(new RingHashPicker(makeEndpoints(3), { maxRingSize: 30 }).ringSize).toBe(30);
  });

  it('rejects invalid options and ids, naming each field', () => {
    try {
      new RingHashPicker([{ id: 7 as unknown as string }], { replicasPerWeight: 0, minRingSize: 1.5, maxRingSize: -1 });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidArgumentError);
      expect((err as InvalidArgumentError).issues.map((i) => i.path)).toEqual([
        'endpoints[0].id',
        'replicasPerWeight',
        'minRingSize',
        'maxRingSize',
      ]);
    }
  });
});
