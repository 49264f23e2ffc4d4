import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../clock/index.js';
import { InvalidArgumentError } from '../errors/index.js';
import { PeakEwmaPicker } from './peak-ewma.js';
import { makeEndpoints, seededRandom } from './test-support.js';

/** Sends one request to `i` that takes `latencyMs` of virtual time. */
function request(p: PeakEwmaPicker, clock: VirtualClock, i: number, latencyMs: number): void {
  p.onStart(i);
  clock.advance(latencyMs);
  p.onEnd(i, latencyMs);
}

describe('PeakEwmaPicker', () => {
  it('prefers the faster endpoint', () => {
    const clock = new VirtualClock(1_000);
    const p = new PeakEwmaPicker(makeEndpoints(2), { clock, random: seededRandom(1) });
    const latency = [10, 100];
    const picks = [0, 0];
    for (let k = 0; k < 200; k++) {
      const i = p.pickIndex();
      picks[i] = (picks[i] as number) + 1;
      request(p, clock, i, latency[i] as number);
    }
    expect(picks[0]).toBeGreaterThanOrEqual(198);
    expect(p.latencyEstimate(1)).toBeGreaterThan(50);
  });

  it('weighs the estimate by requests in flight: a busy fast endpoint loses to an idle slower one', () => {
    const clock = new VirtualClock();
    const p = new PeakEwmaPicker(makeEndpoints(2), { clock, defaultLatencyMs: 0 });
    request(p, clock, 0, 10);
    request(p, clock, 1, 40);
    expect(p.pickIndex()).toBe(0);
    for (let k = 0; k < 4; k++) p.onStart(0); // 10 × 5 = 50 > 40 × 1
    expect(p.pickIndex()).toBe(1);
  });

  it('reacts to a latency spike at once, then forgets it over time', () => {
    const clock = new VirtualClock();
    const p = new PeakEwmaPicker(makeEndpoints(2), { clock, defaultLatencyMs: 10 });
    for (let k = 0; k < 10; k++) {
      request(p, clock, 0, 10);
      request(p, clock, 1, 10);
    }
    request(p, clock, 1, 1_000); // spike
    expect(p.latencyEstimate(1)).toBeGreaterThan(900);
    for (let k = 0; k < 3; k++) p.onStart(0); // endpoint 0: 10 × 4 = 40
    expect(p.pickIndex()).toBe(0);
    // A minute of normal 10 ms responses from both (one every 100 ms) brings the estimate back.
    for (let t = 0; t < 600; t++) {
      clock.advance(90);
      p.onStart(1);
      p.onEnd(1, 10);
      p.onStart(0);
      p.onEnd(0, 10);
    }
    expect(p.latencyEstimate(1)).toBeLessThan(15);
    for (let k = 0; k < 20; k++) expect(p.pickIndex()).toBe(1);
  });

  it('decays an idle endpoint’s estimate so it is probed again', () => {
    const clock = new VirtualClock();
    const p = new PeakEwmaPicker(makeEndpoints(2), { clock, decayMs: 1_000 });
    request(p, clock, 1, 500);
    request(p, clock, 0, 20);
    expect(p.pickIndex()).toBe(0);
    // Endpoint 0 keeps answering in 20 ms; endpoint 1 gets nothing and decays toward zero.
    for (let t = 0; t < 10; t++) {
      clock.advance(1_000);
      request(p, clock, 0, 20);
    }
    expect(p.latencyEstimate(1)).toBeLessThan(1);
    // Both draw orders (which candidate comes first) must reach the same verdict.
    for (let k = 0; k < 20; k++) expect(p.pickIndex()).toBe(1);
  });

  it('forgets faster with a shorter decay time', () => {
    const estimateAfter = (decayMs: number) => {
      const clock = new VirtualClock();
      const p = new PeakEwmaPicker(makeEndpoints(1), { clock, decayMs });
      request(p, clock, 0, 1_000);
      clock.advance(5_000);
      return p.latencyEstimate(0);
    };
    expect(estimateAfter(1_000)).toBeLessThan(10); // e^-5 ≈ 0.7 %
    expect(estimateAfter(10_000)).toBeGreaterThan(500); // e^-0.5 ≈ 61 %
  });

  it('ignores an unusable latency but still ends the request', () => {
    const clock = new VirtualClock();
    const p = new PeakEwmaPicker(makeEndpoints(1), { clock, defaultLatencyMs: 7 });
    p.onStart(0);
    p.onEnd(0, Number.NaN);
    p.onStart(0);
    p.onEnd(0, -3);
    expect(p.inFlight(0)).toBe(0);
    expect(p.latencyEstimate(0)).toBe(7);
    expect(Number.isNaN(p.latencyEstimate(5))).toBe(true);
  });

  it('never picks an ejected endpoint', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 500 }), fc.integer({ min: 0, max: 8 })), {
          minLength: 1,
          maxLength: 40,
        }),
        fc.array(fc.nat(), { maxLength: 40 }),
        fc.integer(),
        (stats, ejectedRaw, seed) => {
          const clock = new VirtualClock();
          const n = stats.length;
          const p = new PeakEwmaPicker(makeEndpoints(n), { clock, random: seededRandom(seed) });
          stats.forEach(([latency, busy], i) => {
            request(p, clock, i, latency);
            for (let k = 0; k < busy; k++) p.onStart(i);
          });
          const ejected = new Set(ejectedRaw.map((e) => e % n));
          for (const e of ejected) p.setEjected(e, true);
          for (let k = 0; k < 100; k++) {
            const i = p.pickIndex();
            if (ejected.size === n) expect(i).toBe(-1);
            else expect(i >= 0 && !ejected.has(i)).toBe(true);
          }
        },
      ),
    );
  });

  it('rejects invalid options, naming each field', () => {
    try {
      new PeakEwmaPicker(makeEndpoints(1), {
        decayMs: 0,
        defaultLatencyMs: -1,
        clock: {} as VirtualClock,
      });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidArgumentError);
      expect((err as InvalidArgumentError).issues.map((i) => i.path)).toEqual(['decayMs', 'defaultLatencyMs', 'clock']);
    }
  });
});
