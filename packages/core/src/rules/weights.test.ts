import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cumulativeBounds, pickByBounds, planWeights } from './weights.js';

describe('planWeights', () => {
  it('keeps explicit weights and shares the remainder among unweighted backends', () => {
    expect(planWeights([0.25, undefined])).toMatchObject({ shares: [0.25, 0.75], adjustment: 'none' });
    expect(planWeights([0.5, undefined, undefined]).shares).toEqual([0.5, 0.25, 0.25]);
    expect(planWeights([undefined, undefined]).shares).toEqual([0.5, 0.5]);
  });

  it('gives unweighted backends nothing when explicit weights already sum to 1 (within 1e-9)', () => {
    expect(planWeights([0.1, 0.2, 0.7, undefined])).toMatchObject({ adjustment: 'none' });
    expect(planWeights([0.1, 0.2, 0.7, undefined]).shares[3]).toBe(0);
  });

  it('scales explicit weights summing above 1 down to 1; unweighted get 0', () => {
    const p = planWeights([0.8, 0.8, undefined]);
    expect(p.adjustment).toBe('scaled_down');
    expect(p.shares).toEqual([0.5, 0.5, 0]);
  });

  it('scales explicit weights summing below 1 up when nothing is unweighted', () => {
    const p = planWeights([0.1, 0.3]);
    expect(p.adjustment).toBe('scaled_up');
    expect(p.shares[0]).toBeCloseTo(0.25, 12);
    expect(p.shares[1]).toBeCloseTo(0.75, 12);
  });

  it('gives a single backend everything whatever its weight', () => {
    expect(planWeights([0.3]).shares).toEqual([1]);
    expect(planWeights([0]).shares).toEqual([1]);
  });

  it('always yields non-negative shares summing to 1 (property)', () => {
    const weight = fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined });
    fc.assert(
      fc.property(fc.array(weight, { minLength: 1, maxLength: 8 }), (ws) => {
        fc.pre(ws.length === 1 || ws.some((w) => w === undefined || w > 1e-6));
        const { shares } = planWeights(ws);
        expect(shares.every((s) => s >= 0)).toBe(true);
        expect(shares.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 8);
      }),
    );
  });
});

describe('cumulativeBounds / pickByBounds', () => {
  it('never picks a zero-share backend, even at the edges of [0, 1)', () => {
    const bounds = cumulativeBounds([0, 0.5, 0, 0.5, 0]);
    for (const r of [0, 1e-12, 0.4999999, 0.5, 0.75, 1 - 1e-16]) expect([1, 3]).toContain(pickByBounds(bounds, r));
    expect(pickByBounds(bounds, 0)).toBe(1);
    expect(pickByBounds(bounds, 0.5)).toBe(3);
  });

  it('clamps a misbehaving RNG instead of picking a zero-share backend', () => {
    const bounds = cumulativeBounds([0.5, 0.5, 0]);
    for (const r of [1, 2, -1, Number.NaN]) expect([0, 1]).toContain(pickByBounds(bounds, r));
  });

  it('covers [0, 1) without a gap when rounding leaves the sum below 1', () => {
    const bounds = cumulativeBounds([0.1, 0.2, 0.7 - 1e-15]);
    expect(bounds[2]).toBe(1);
    expect(pickByBounds(bounds, 0.9999999999999999)).toBe(2);
  });
});
