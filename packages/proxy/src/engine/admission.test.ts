import { CircuitBreaker, Outcome, VirtualClock } from '@weft/core';
import { describe, expect, it } from 'vitest';
import { admit, admitAnother, admitRate, NO_ENDPOINT, type PickFrom, pickEndpoint, Refusal } from './admission.js';
import { RateLimits, rateLimitSettings } from './rate-limit.js';
import type { EndpointEntry } from './service-table.js';
import type { Picker } from './types.js';

/** An endpoint as admission sees it: in-flight count and a real breaker. */
function endpoint(name: string, inflight = 0): EndpointEntry {
  return { id: name, inflight, breaker: new CircuitBreaker() } as unknown as EndpointEntry;
}

/** A picker that answers the scripted picks in turn (then the last one), with ejected indexes. */
function subset(endpoints: EndpointEntry[], picks: number[], ejected: number[] = []): PickFrom {
  let n = 0;
  const picker = {
    endpoints,
    pickIndex: () => picks[Math.min(n++, picks.length - 1)] ?? -1,
    isEjected: (i: number) => ejected.includes(i),
  } as unknown as Picker<EndpointEntry>;
  return { picker, panicCursor: 0 };
}

const [a, b, c] = [endpoint('a'), endpoint('b'), endpoint('c')] as [EndpointEntry, EndpointEntry, EndpointEntry];

describe('pickEndpoint', () => {
  const cases: Array<[string, PickFrom, EndpointEntry | undefined, number]> = [
    ['the picker’s choice', subset([a, b, c], [1]), undefined, 1],
    ['the picker’s choice when it is not the one to avoid', subset([a, b, c], [1]), a, 1],
    ['a second pick when the first is the endpoint that just failed', subset([a, b, c], [0, 2]), a, 2],
    ['the next healthy one when the picker insists on the failed one', subset([a, b, c], [0, 0], [1]), a, 2],
    ['the failed one when it is the only endpoint', subset([a], [0]), a, 0],
    ['panic: every endpoint ejected, round robin over all', subset([a, b, c], [-1]), undefined, 0],
    ['no endpoint at all', subset([], [-1]), undefined, NO_ENDPOINT],
  ];
  it.each(cases)('%s', (_name, s, avoid, expected) => {
    expect(pickEndpoint(s, undefined, avoid)).toBe(expected);
  });

  it('panic mode spreads the calls over every endpoint', () => {
    const s = subset([a, b, c], [-1]);
    expect([0, 1, 2, 3].map(() => pickEndpoint(s, undefined, undefined))).toEqual([0, 1, 2, 0]);
  });
});

describe('admit', () => {
  it('gives a breaker token under the cap', () => {
    expect(admit(endpoint('x'), 10)).toBeGreaterThanOrEqual(0);
  });

  it('refuses at the per-endpoint cap, by name', () => {
    expect(admit(endpoint('x', 10), 10)).toBe(Refusal.AtMaxRequests);
  });

  it('refuses while the breaker is open', () => {
    const e = endpoint('x');
    for (let i = 0; i < 5; i++) e.breaker.release(e.breaker.tryAcquire(), Outcome.ConnectFailure);
    expect(admit(e, 10)).toBe(Refusal.CircuitOpen);
  });

  it('admitAnother skips ejected and refusing endpoints, and says when none admits', () => {
    const busy = endpoint('busy', 10);
    const s = subset([a, busy, b, c], [0], [2]);
    expect(admitAnother(s.picker, 0, 10)).toMatchObject({ index: 3 });
    expect(admitAnother(subset([a, busy], [0]).picker, 0, 10)).toBeUndefined();
  });
});

describe('admitRate', () => {
  it('admits while the bucket has tokens, then says how long until the next one', () => {
    const limits = new RateLimits(new VirtualClock());
    const limit = rateLimitSettings({ ratePerSecond: 2, burst: 2, perSource: 'service' });
    const takes = ['a', 'a', 'a', 'b'].map((source) => admitRate(limits, limit, 'svc', source, undefined));
    expect(takes).toEqual([0, 0, 500, 0]);
    // Buckets are per destination service too.
    expect(admitRate(limits, limit, 'other', 'a', undefined)).toBe(0);
  });
});
