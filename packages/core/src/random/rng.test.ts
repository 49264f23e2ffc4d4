import { describe, expect, it } from 'vitest';
import { RandomPicker } from '../balancers/random.js';
import { makeEndpoints } from '../balancers/test-support.js';
import { fastRandom, randomIndex, randomInt } from './rng.js';

describe('fastRandom (the default generator)', () => {
  it('draws uniformly from [0, 1)', () => {
    const buckets = new Array<number>(50).fill(0);
    const n = 200_000;
    let outside = 0;
    for (let i = 0; i < n; i++) {
      const r = fastRandom();
      if (!(r >= 0 && r < 1)) outside++;
      const b = Math.floor(r * 50);
      buckets[b] = (buckets[b] as number) + 1;
    }
    expect(outside).toBe(0);
    const chiSquare = buckets.reduce((s, c) => s + (c - n / 50) ** 2 / (n / 50), 0);
    // 49 degrees of freedom. The generator is unseeded, so the bound must hold for nearly every
    // run: 112 is about the 99.9999th percentile (the 99.9th, 85.4, failed one CI run in a
    // thousand, as it should). A skewed generator is still far above it at this n.
    expect(chiSquare).toBeLessThan(112);
  });

  it('does not repeat itself over short stretches', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 10_000; i++) seen.add(fastRandom());
    expect(seen.size).toBeGreaterThan(9_990);
  });

  it('drives pickers that are given no RNG', () => {
    const p = new RandomPicker(makeEndpoints(20));
    const seen = new Set(Array.from({ length: 1_000 }, () => p.pickIndex()));
    expect(seen.size).toBe(20);
  });
});

describe('randomInt', () => {
  it('covers [0, size) uniformly with the default generator', () => {
    const counts = new Array<number>(7).fill(0);
    for (let i = 0; i < 70_000; i++) {
      const k = randomInt(fastRandom, 7);
      counts[k] = (counts[k] as number) + 1;
    }
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500);
    expect(randomInt(fastRandom, 1)).toBe(0);
  });

  it('uses an injected source as given', () => {
    expect(randomInt(() => 0.5, 10)).toBe(5);
    expect(randomInt(() => 0.999, 10)).toBe(9);
  });
});

describe('randomIndex', () => {
  it('keeps a misbehaving draw inside [0, size)', () => {
    expect(randomIndex(1, 4)).toBe(3);
    expect(randomIndex(-0.5, 4)).toBe(3);
    expect(randomIndex(Number.NaN, 4)).toBe(0);
    expect(randomIndex(0.26, 4)).toBe(1);
  });
});
