import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LeastRequestPicker } from './least-request.js';
import { RandomPicker } from './random.js';
import { makeEndpoints, seededRandom } from './test-support.js';

describe('LeastRequestPicker', () => {
  it('prefers the endpoint with fewer requests in flight', () => {
    const p = new LeastRequestPicker(makeEndpoints(2), { random: seededRandom(1) });
    p.onStart(0);
    p.onStart(0);
    for (let k = 0; k < 50; k++) expect(p.pickIndex()).toBe(1);
    p.onEnd(0, 5);
    p.onEnd(0, 5);
    p.onStart(1);
    for (let k = 0; k < 50; k++) expect(p.pickIndex()).toBe(0);
  });

  it('counts in-flight requests and never below zero', () => {
    const p = new LeastRequestPicker(makeEndpoints(3));
    p.onStart(1);
    p.onStart(1);
    p.onEnd(1, 1);
    expect(p.inFlight(1)).toBe(1);
    p.onEnd(2, 1);
    expect(p.inFlight(2)).toBe(0);
    p.onStart(99); // out of range: ignored
    expect(p.inFlight(99)).toBe(0);
  });

  it('compares load per unit of weight', () => {
    const p = new LeastRequestPicker(
      makeEndpoints(2, (i) => (i === 0 ? 4 : 1)),
      { random: seededRandom(2) },
    );
    for (let k = 0; k < 2; k++) p.onStart(0); // (2+1)/4 = 0.75 < (0+1)/1
    for (let k = 0; k < 20; k++) expect(p.pickIndex()).toBe(0);
  });

  it('never picks an ejected endpoint, nor the single most loaded one', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 40 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        fc.integer(),
        (loads, ejectedRaw, seed) => {
          const n = loads.length;
          const p = new LeastRequestPicker(makeEndpoints(n), { random: seededRandom(seed) });
          loads.forEach((load, i) => {
            for (let k = 0; k < load; k++) p.onStart(i);
          });
          const ejected = new Set(ejectedRaw.map((e) => e % n));
          for (const e of ejected) p.setEjected(e, true);
          const eligible = loads.map((_, i) => i).filter((i) => !ejected.has(i));
          const maxLoad = Math.max(...eligible.map((i) => loads[i] as number));
          const heaviest = eligible.filter((i) => loads[i] === maxLoad);
          for (let k = 0; k < 100; k++) {
            const i = p.pickIndex();
            if (eligible.length === 0) {
              expect(i).toBe(-1);
              continue;
            }
            expect(ejected.has(i)).toBe(false);
            if (eligible.length >= 2 && heaviest.length === 1) expect(i).not.toBe(heaviest[0]);
          }
        },
      ),
    );
  });

  it('keeps load far more even than random picks under concurrency', () => {
    // 1 000 requests in flight over 20 endpoints; each step one random request finishes, one starts.
    const spread = (picker: LeastRequestPicker | RandomPicker): number => {
      const random = seededRandom(11);
      const load = new Array<number>(20).fill(0);
      const open: number[] = [];
      for (let step = 0; step < 20_000; step++) {
        if (open.length >= 1000) {
          const done = open.splice(Math.floor(random() * open.length), 1)[0] as number;
          load[done] = (load[done] as number) - 1;
          picker.onEnd(done, 1);
        }
        const i = picker.pickIndex();
        picker.onStart(i);
        load[i] = (load[i] as number) + 1;
        open.push(i);
      }
      return Math.max(...load) - Math.min(...load);
    };
    const p2c = spread(new LeastRequestPicker(makeEndpoints(20), { random: seededRandom(5) }));
    const random = spread(new RandomPicker(makeEndpoints(20), { random: seededRandom(5) }));
    expect(p2c).toBeLessThan(random / 3);
    expect(p2c).toBeLessThanOrEqual(10);
  });
});
