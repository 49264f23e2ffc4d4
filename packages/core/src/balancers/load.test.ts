import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../clock/index.js';
import { InvalidArgumentError } from '../errors/index.js';
import { createPicker } from './create-picker.js';
import { EndpointLoad, EndpointLoads } from './load.js';
import { PeakEwmaPicker } from './peak-ewma.js';
import type { BalancerEndpoint, Picker } from './picker.js';
import { seededRandom } from './test-support.js';

/** An endpoint that outlives pickers and carries its own load (as the proxy's endpoint entry). */
interface Entry extends BalancerEndpoint {
  readonly load: EndpointLoad;
}
const entry = (id: string): Entry => ({ id, load: new EndpointLoad() });

type Policy = 'least_request' | 'peak_ewma';
/** Builds a picker over the endpoints named `ids`, keeping load the keeper's way. */
type Build = (policy: Policy, ids: string[], seed: number, clock?: VirtualClock) => Picker;

/** How a caller keeps load across rebuilds: on the endpoint, in an EndpointLoads, or not at all. */
const keepers: { name: string; carries: boolean; make: () => Build }[] = [
  {
    name: 'endpoint.load (one object per endpoint, reused)',
    carries: true,
    make: () => {
      const entries = new Map<string, Entry>();
      const of = (id: string): Entry => {
        const known = entries.get(id);
        if (known !== undefined) return known;
        const e = entry(id);
        entries.set(id, e);
        return e;
      };
      return (policy, ids, seed, clock) => createPicker(policy, ids.map(of), { random: seededRandom(seed), clock });
    },
  },
  {
    name: 'EndpointLoads (by id)',
    carries: true,
    make: () => {
      const loads = new EndpointLoads();
      return (policy, ids, seed, clock) =>
        createPicker(
          policy,
          ids.map((id) => ({ id })),
          { random: seededRandom(seed), clock, loads },
        );
    },
  },
  {
    // The failure mode the two above exist to avoid: it shows the tests below can fail.
    name: 'nothing (fresh loads every build)',
    carries: false,
    make: () => (policy, ids, seed, clock) =>
      createPicker(
        policy,
        ids.map((id) => ({ id })),
        { random: seededRandom(seed), clock },
      ),
  },
];

/** Starts `n` requests on `picker`'s endpoint `id` (they stay in flight). */
function load(picker: Picker, id: string, n: number): void {
  const i = picker.endpoints.findIndex((e) => e.id === id);
  for (let k = 0; k < n; k++) picker.onStart(i);
}

const inFlight = (picker: Picker, id: string): number =>
  (picker as unknown as { inFlight(i: number): number }).inFlight(picker.endpoints.findIndex((e) => e.id === id));

describe.each(keepers)('load across picker rebuilds, kept by $name', ({ make, carries }) => {
  it.each(['least_request', 'peak_ewma'] as const)(
    '%s keeps avoiding a busy endpoint after another joins',
    (policy) => {
      const build = make();
      const clock = new VirtualClock(0);
      const before = build(policy, ['busy', 'idle'], 1, clock);
      load(before, 'busy', 20);
      // A third endpoint joins, in another order: the rebuilt picker is a plain new build.
      const after = build(policy, ['new', 'idle', 'busy'], 2, clock);
      expect(inFlight(after, 'busy')).toBe(carries ? 20 : 0);
      let picksOfBusy = 0;
      for (let k = 0; k < 30; k++) {
        const i = after.pickIndex();
        after.onStart(i); // the picks pile up too
        if (after.endpoints[i]?.id === 'busy') picksOfBusy++;
      }
      if (carries) expect(picksOfBusy).toBe(0);
      else expect(picksOfBusy).toBeGreaterThan(0);
    },
  );

  it.each(['least_request', 'peak_ewma'] as const)('%s: a new endpoint starts with zero load', (policy) => {
    const build = make();
    const before = build(policy, ['a'], 3);
    load(before, 'a', 5);
    const after = build(policy, ['a', 'b'], 4);
    expect(inFlight(after, 'b')).toBe(0);
    expect(inFlight(after, 'a')).toBe(carries ? 5 : 0);
  });

  it.each(['least_request', 'peak_ewma'] as const)(
    '%s: a request started before the rebuild ends on the old picker and the new one sees it',
    (policy) => {
      const build = make();
      const before = build(policy, ['a', 'b'], 5);
      load(before, 'a', 2);
      const after = build(policy, ['b', 'a'], 6);
      before.onEnd(0, 1); // index 0 of the old picker: 'a'
      expect(inFlight(after, 'a')).toBe(carries ? 1 : 0);
      after.onEnd(1, 1);
      after.onEnd(1, 1); // one too many: never below zero
      expect(inFlight(after, 'a')).toBe(0);
    },
  );
});

describe('shared endpoint load', () => {
  it('peak_ewma keeps latency estimates by endpoint; a new endpoint gets the prior', () => {
    const clock = new VirtualClock(1000);
    const slow = entry('slow');
    const fast = entry('fast');
    const before = new PeakEwmaPicker([slow, fast], { clock });
    before.onStart(0);
    before.onEnd(0, 500); // a slowdown is taken at once
    before.onStart(1);
    before.onEnd(1, 2);
    const after = new PeakEwmaPicker([fast, entry('new'), slow], { clock, defaultLatencyMs: 30 });
    expect(after.latencyEstimate(2)).toBe(before.latencyEstimate(0));
    expect(after.latencyEstimate(2)).toBe(500);
    expect(after.latencyEstimate(0)).toBe(before.latencyEstimate(1));
    expect(after.latencyEstimate(1)).toBe(30);
  });

  it('an estimate survives a least_request picker built over the endpoint in between', () => {
    const clock = new VirtualClock(0);
    const a = entry('a');
    const first = new PeakEwmaPicker([a], { clock });
    first.onStart(0);
    first.onEnd(0, 400);
    createPicker('least_request', [a]);
    expect(new PeakEwmaPicker([a], { clock }).latencyEstimate(0)).toBe(400);
  });

  it('two pickers in use over the same endpoints both read and update the same counts', () => {
    const [a, b] = [entry('a'), entry('b')];
    const older = createPicker('least_request', [a, b], { random: seededRandom(7) });
    const newer = createPicker('least_request', [b, a], { random: seededRandom(8) });
    older.onStart(0); // a, counted where the newer picker reads it
    older.onStart(0);
    expect(a.load.inFlight).toBe(2);
    expect(inFlight(newer, 'a')).toBe(2);
    newer.onStart(0); // b
    expect(inFlight(older, 'b')).toBe(1);
    // The older picker still picks by the current counts: b (1 in flight) over a (2).
    for (let k = 0; k < 20; k++) expect(older.pick()?.id).toBe('b');
    // Ejection still applies to it.
    older.setEjected(1, true);
    for (let k = 0; k < 5; k++) expect(older.pick()?.id).toBe('a');
  });

  it('peak_ewma: a latency learned by a replaced picker reaches the newer one', () => {
    const clock = new VirtualClock(0);
    const [a, b] = [entry('a'), entry('b')];
    const older = new PeakEwmaPicker([a, b], { clock });
    older.onStart(0);
    const newer = new PeakEwmaPicker([b, a], { clock });
    expect(newer.inFlight(1)).toBe(1);
    older.onEnd(0, 900); // the request started before the rebuild ends, slow
    expect(newer.inFlight(1)).toBe(0);
    expect(newer.latencyEstimate(1)).toBe(900);
    expect(older.latencyEstimate(0)).toBe(900);
  });

  it('another load object for the same id (an endpoint that moved) starts idle', () => {
    const before = createPicker('least_request', [entry('pod-1')]);
    before.onStart(0);
    const after = createPicker('least_request', [entry('pod-1')]);
    expect(inFlight(after, 'pod-1')).toBe(0);
  });

  it('EndpointLoads.retain forgets endpoints that left', () => {
    const loads = new EndpointLoads();
    const p = createPicker('least_request', [{ id: 'a' }, { id: 'b' }], { loads });
    p.onStart(0);
    loads.retain([{ id: 'b' }]);
    expect(loads.size).toBe(1);
    expect(inFlight(createPicker('least_request', [{ id: 'a' }], { loads }), 'a')).toBe(0);
  });

  it('rejects a load that is not an EndpointLoad, and a bad loads option, naming them', () => {
    const bad = [{ id: 'a', load: { inFlight: 0 } as unknown as EndpointLoad }];
    for (const policy of ['least_request', 'peak_ewma'] as const) {
      expect(() => createPicker(policy, bad)).toThrow(InvalidArgumentError);
      expect(() => createPicker(policy, bad)).toThrow(/endpoints\[0\]\.load/);
      expect(() => createPicker(policy, [], { loads: {} as EndpointLoads })).toThrow(/loads/);
    }
  });
});
