import { describe, expect, it } from 'vitest';
import { createRng } from './rng.js';

describe('createRng', () => {
  it('is deterministic per seed and differs between seeds', () => {
    const a = createRng(42);
    const b = createRng(42);
    const c = createRng(43);
    const xs = Array.from({ length: 5 }, () => a());
    expect(Array.from({ length: 5 }, () => b())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c())).not.toEqual(xs);
  });

  it('stays in [0, 1) and is roughly uniform', () => {
    const rng = createRng(0);
    const buckets = new Array<number>(10).fill(0);
    const n = 100_000;
    let outside = 0;
    for (let i = 0; i < n; i++) {
      const x = rng();
      if (!(x >= 0 && x < 1)) outside++;
      else buckets[Math.floor(x * 10)] = (buckets[Math.floor(x * 10)] ?? 0) + 1;
    }
    expect(outside).toBe(0);
    // Each bucket is Binomial(n, 0.1): mean 10 000, σ ≈ 94.9; allow 4.5 σ.
    const sigma = Math.sqrt(n * 0.1 * 0.9);
    for (const count of buckets) expect(Math.abs(count - n / 10)).toBeLessThanOrEqual(4.5 * sigma);
  });
});
