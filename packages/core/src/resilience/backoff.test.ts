import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelay, resolveBackoff } from './backoff.js';

describe('backoff', () => {
  it("defaults to Envoy's 25 ms base, 250 ms cap, full jitter", () => {
    expect(resolveBackoff()).toEqual({ baseMs: 25, maxMs: 250, jitter: 'full' });
  });

  it('doubles without jitter up to the cap', () => {
    const b = resolveBackoff({ baseMs: 100, maxMs: 1_000, jitter: 'none' });
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(b, n, 0, Math.random))).toEqual([100, 200, 400, 800, 1_000]);
  });

  it('full jitter spans [0, min(max, base·2ⁿ⁻¹))', () => {
    const b = resolveBackoff({ baseMs: 100, maxMs: 1_000 });
    expect(backoffDelay(b, 3, 0, () => 0)).toBe(0);
    expect(backoffDelay(b, 3, 0, () => 0.5)).toBe(200);
    expect(backoffDelay(b, 10, 0, () => 0.5)).toBe(500);
  });

  it('decorrelated jitter stays within [base, min(max, 3·previous)]', () => {
    const b = resolveBackoff({ baseMs: 10, maxMs: 5_000, jitter: 'decorrelated' });
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 0.999_999, noNaN: true }),
        fc.integer({ min: 0, max: 10_000 }),
        (r, prev) => {
          const d = backoffDelay(b, 1, prev, () => r);
          return d >= 10 && d <= Math.min(5_000, Math.max(10, 3 * (prev || 10)));
        },
      ),
    );
  });

  it('never exceeds the cap or goes negative, whatever the attempt', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('full' as const, 'decorrelated' as const, 'none' as const),
        fc.integer({ min: 1, max: 2_000 }),
        fc.double({ min: 0, max: 0.999_999, noNaN: true }),
        (jitter, n, r) => {
          const d = backoffDelay(resolveBackoff({ baseMs: 25, maxMs: 250, jitter }), n, 100, () => r);
          return d >= 0 && d <= 250;
        },
      ),
    );
  });
});
