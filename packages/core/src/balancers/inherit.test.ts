import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../clock/index.js';
import { createPicker } from './create-picker.js';
import { LeastRequestPicker } from './least-request.js';
import { PeakEwmaPicker } from './peak-ewma.js';
import type { BalancerEndpoint } from './picker.js';
import { RoundRobinPicker } from './round-robin.js';
import { seededRandom } from './test-support.js';

const ep = (id: string): BalancerEndpoint => ({ id });

describe('picker rebuilds keep per-endpoint state (inherit)', () => {
  it('least_request: counts follow the endpoint id to its new index; new endpoints start idle', () => {
    const before = new LeastRequestPicker([ep('a'), ep('b'), ep('c')]);
    for (let k = 0; k < 5; k++) before.onStart(0); // a: 5
    before.onStart(2); // c: 1
    const after = new LeastRequestPicker([ep('d'), ep('c'), ep('a')]); // b left, d came, order changed
    after.inherit(before);
    expect([after.inFlight(0), after.inFlight(1), after.inFlight(2)]).toEqual([0, 1, 5]);
    // Requests that started before the rebuild end on the new picker.
    after.onEnd(2, 1);
    expect(after.inFlight(2)).toBe(4);
  });

  it('least_request: a busy endpoint is not taken for idle after the set grew', () => {
    const before = new LeastRequestPicker([ep('busy')]);
    for (let k = 0; k < 20; k++) before.onStart(0);
    const fresh = new LeastRequestPicker([ep('busy'), ep('new')], { random: seededRandom(3) });
    const rebuilt = new LeastRequestPicker([ep('busy'), ep('new')], { random: seededRandom(3) });
    rebuilt.inherit(before);
    const picksOfBusy = (p: LeastRequestPicker) => {
      let n = 0;
      for (let k = 0; k < 10; k++) {
        const i = p.pickIndex();
        p.onStart(i);
        if (i === 0) n++;
      }
      return n;
    };
    expect(picksOfBusy(fresh)).toBeGreaterThan(0); // the failure mode: forgets the 20 in flight
    expect(picksOfBusy(rebuilt)).toBe(0);
  });

  it('peak_ewma: keeps latency estimates and in-flight counts by id', () => {
    const clock = new VirtualClock(1000);
    const before = new PeakEwmaPicker([ep('slow'), ep('fast')], { clock });
    before.onStart(0);
    before.onEnd(0, 500); // a slowdown is taken at once
    before.onStart(0);
    before.onStart(1);
    before.onEnd(1, 2);
    const after = new PeakEwmaPicker([ep('fast'), ep('new'), ep('slow')], { clock, defaultLatencyMs: 30 });
    after.inherit(before);
    expect(after.latencyEstimate(2)).toBe(before.latencyEstimate(0));
    expect(after.latencyEstimate(0)).toBe(before.latencyEstimate(1));
    expect(after.latencyEstimate(1)).toBe(30);
    expect([after.inFlight(0), after.inFlight(1), after.inFlight(2)]).toEqual([0, 0, 1]);
  });

  it('`same` narrows the match: an endpoint that kept its id but is another object starts afresh', () => {
    const moved = ep('a');
    const kept = ep('b');
    const before = new LeastRequestPicker([ep('a'), kept]);
    before.onStart(0);
    before.onStart(1);
    const after = new LeastRequestPicker([moved, kept]);
    after.inherit(before, (x, y) => x === y);
    expect([after.inFlight(0), after.inFlight(1)]).toEqual([0, 1]);
  });

  it('ignores a picker of another policy, and itself', () => {
    const rr = new RoundRobinPicker([ep('a')]);
    const lr = new LeastRequestPicker([ep('a')]);
    lr.onStart(0);
    lr.inherit(rr as never);
    lr.inherit(lr);
    expect(lr.inFlight(0)).toBe(1);
    const ewma = new PeakEwmaPicker([ep('a')]);
    ewma.inherit(lr as never);
    expect(ewma.inFlight(0)).toBe(0);
  });

  it('stateless policies do not implement it', () => {
    for (const policy of ['round_robin', 'weighted_round_robin', 'random', 'ring_hash', 'maglev'] as const)
      expect(createPicker(policy, [ep('a')]).inherit).toBeUndefined();
    for (const policy of ['least_request', 'peak_ewma'] as const)
      expect(typeof createPicker(policy, [ep('a')]).inherit).toBe('function');
  });
});
