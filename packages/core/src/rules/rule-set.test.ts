import { describe, expect, it } from 'vitest';
import { isWeftError } from '../errors/index.js';
import { createRng } from '../random/rng.js';
import { compile } from './compile.js';
import { NoRouteError } from './no-route-error.js';
import { expectBinomial } from './test-support.js';

const route = (backends: unknown[], extra: Record<string, unknown> = {}) => ({ backends, ...extra });

describe('RuleSet.evaluate', () => {
  it('distinguishes no_rules (unknown destination, or action rules only) from no_match', () => {
    const set = compile([
      { destination: 'reviews', match: { headers: { 'x-a': { present: true } } }, route: route([{ tags: ['v2'] }]) },
      { destination: 'ratings', actions: [{ action: 'abort', return_code: 503 }] },
    ]);
    const unknown = set.evaluate({ destination: 'details' });
    expect(unknown).toMatchObject({
      status: 'no_rules',
      rule: undefined,
      backend: { tags: [], lbType: 'round_robin' },
    });
    expect(set.evaluate({ destination: 'details' })).toBe(unknown); // shared, nothing allocated
    expect(set.evaluate({ destination: 'ratings' })).toMatchObject({
      status: 'no_rules',
      actions: [{ kind: 'abort', status: 503 }],
    });
    const none = set.evaluate({ destination: 'reviews' });
    expect(none).toMatchObject({ status: 'no_match', backend: undefined, actions: [] });
    const err = new NoRouteError('reviews', set.revision);
    expect(isWeftError(err, 'WEFT_ERR_NO_ROUTE')).toBe(true);
    expect(err.status).toBe(412);
  });

  it('orders equal priorities by id, ids before no id, then input order', () => {
    const rule = (id: string | undefined, tag: string) => ({
      ...(id === undefined ? {} : { id }),
      priority: 5,
      destination: 's',
      route: route([{ tags: [tag] }]),
    });
    const set = compile([
      rule(undefined, 'first-no-id'),
      rule('b', 'b'),
      rule(undefined, 'second-no-id'),
      rule('a', 'a'),
    ]);
    expect(set.rules.map((r) => r.id ?? r.route?.backends[0]?.tags?.[0])).toEqual([
      'a',
      'b',
      'first-no-id',
      'second-no-id',
    ]);
    expect(set.evaluate({ destination: 's' }).backend?.tags).toEqual(['a']);
    const higher = compile([rule('a', 'a'), { ...rule('z', 'z'), priority: 6 }]);
    expect(higher.evaluate({ destination: 's' }).rule?.id).toBe('z');
  });

  it('resolves timeouts, retries and lb settings, with Amalgam8 defaults', () => {
    const set = compile([
      { id: 'a8', destination: 'a', route: route([{ tags: ['v1'] }], { http_req_timeout: 2, http_req_retries: 3 }) },
      {
        id: 'weft',
        destination: 'b',
        route: route([{ tags: ['v1'], lb_type: 'least_request' }], {
          http_req_timeout: '1m30s',
          retries: { attempts: 2, per_try_timeout: '250ms', retriable_status_codes: [409], backoff: { base: 0.01 } },
        }),
      },
      { id: 'plain', destination: 'c', route: route([{}]) },
    ]);
    expect(set.evaluate({ destination: 'a' })).toMatchObject({
      timeoutMs: 2000,
      retries: { maxRetries: 3, retryOn: ['5xx', 'connect-failure', 'reset'], perTryTimeoutMs: undefined },
    });
    expect(set.evaluate({ destination: 'b' })).toMatchObject({
      timeoutMs: 90_000,
      backend: { lbType: 'least_request' },
      retries: {
        maxRetries: 2,
        perTryTimeoutMs: 250,
        retryOn: ['5xx', 'connect-failure', 'reset', 'retriable-status-codes'],
        retriableStatusCodes: [409],
        backoff: { baseMs: 10, maxMs: 100 },
      },
    });
    expect(set.evaluate({ destination: 'c' })).toMatchObject({ timeoutMs: 15_000, retries: { maxRetries: 0 } });
    const custom = compile([{ destination: 'c', route: route([{}]) }], {
      defaultTimeoutMs: 3000,
      defaultLbType: 'peak_ewma',
    });
    expect(custom.evaluate({ destination: 'c' })).toMatchObject({ timeoutMs: 3000, backend: { lbType: 'peak_ewma' } });
    expect(custom.evaluate({ destination: 'x' })).toMatchObject({ timeoutMs: 3000, backend: { lbType: 'peak_ewma' } });
  });

  it('maps Amalgam8 resilience names to circuit-breaker and outlier settings', () => {
    const set = compile([
      {
        destination: 'a',
        route: route([
          {
            tags: ['v1'],
            resilience: {
              max_connections: 100,
              sleep_window: 15,
              consecutive_errors: 3,
              max_requests_per_connection: 50,
            },
          },
        ]),
      },
    ]);
    expect(set.evaluate({ destination: 'a' }).backend?.resilience).toEqual({
      circuitBreaker: {
        maxConnections: 100,
        maxPendingRequests: 1024,
        maxRequests: 1024,
        maxRequestsPerConnection: 50,
      },
      outlier: { consecutiveErrors: 3, intervalMs: 10_000, baseEjectionMs: 15_000 },
    });
  });

  it('reads the hash key of ring_hash / maglev backends from header, cookie, query or source ip', () => {
    const mk = (hash_key: unknown) =>
      compile([{ destination: 'a', route: route([{ lb_type: 'maglev', hash_key }]) }]).evaluate({
        destination: 'a',
        path: '/x?user=q1',
        headers: { 'x-user': 'h1', cookie: 'sid=c1' },
        source: { name: 'web', ip: '10.0.0.9' },
      });
    expect(mk({ header: 'X-User' })).toMatchObject({
      hashKey: 'h1',
      backend: { hashKeySource: { kind: 'header', name: 'x-user' } },
    });
    expect(mk({ cookie: 'sid' }).hashKey).toBe('c1');
    expect(mk({ query: 'user' }).hashKey).toBe('q1');
    expect(mk({ source_ip: true }).hashKey).toBe('10.0.0.9');
    expect(mk({ header: 'x-missing' }).hashKey).toBeUndefined();
  });

  it('rewrites the matched prefix, keeping the query string', () => {
    const set = compile([
      { destination: 'a', route: route([{}], { uri: { prefix: '/reviews/', prefix_rewrite: '/' } }) },
      {
        destination: 'b',
        match: { path: { prefix: '/v1' } },
        route: route([{}], { uri: { prefix_rewrite: '/api/v1' } }),
      },
      { destination: 'c', route: route([{}], { uri: { path: '/old', prefix_rewrite: '/new' } }) },
      { destination: 'd', route: route([{}]) },
    ]);
    expect(set.evaluate({ destination: 'a', path: '/reviews/1?x=2' }).rewritePath).toBe('/1?x=2');
    expect(set.evaluate({ destination: 'b', path: '/v1/items' }).rewritePath).toBe('/api/v1/items');
    expect(set.evaluate({ destination: 'c', path: '/old?q' }).rewritePath).toBe('/new?q');
    expect(set.evaluate({ destination: 'd', path: '/x' }).rewritePath).toBeUndefined();
  });

  it('normalises weights (see weights.ts) and picks within binomial bounds', () => {
    const set = compile([
      {
        destination: 'over',
        route: route([{ tags: ['a'], weight: 0.9 }, { tags: ['b'], weight: 0.6 }, { tags: ['c'] }]),
      },
      {
        destination: 'under',
        route: route([
          { tags: ['a'], weight: 0.2 },
          { tags: ['b'], weight: 0.2 },
        ]),
      },
      { destination: 'rest', route: route([{ tags: ['a'], weight: 0.4 }, { tags: ['b'] }, { tags: ['c'] }]) },
      { destination: 'zero', route: route([{ tags: ['a'], weight: 0 }, { tags: ['b'] }]) },
    ]);
    const shares = (d: string) =>
      set.explain({ destination: d }, createRng(0)).choice?.backends.map((b) => Math.round(b.share * 1e12) / 1e12);
    expect(shares('over')).toEqual([0.6, 0.4, 0]);
    expect(shares('under')).toEqual([0.5, 0.5]);
    expect(shares('rest')).toEqual([0.4, 0.3, 0.3]);
    expect(shares('zero')).toEqual([0, 1]);
    const rng = createRng(99);
    const n = 10_000;
    const counts = { a: 0, b: 0, c: 0 };
    for (let i = 0; i < n; i++) {
      const tag = set.evaluate({ destination: 'rest' }, rng).backend?.tags[0] as 'a' | 'b' | 'c';
      counts[tag]++;
    }
    expectBinomial(counts.a, n, 0.4);
    expectBinomial(counts.b, n, 0.3);
    expectBinomial(counts.c, n, 0.3);
    for (let i = 0; i < 1000; i++) {
      expect(set.evaluate({ destination: 'over' }, rng).backend?.tags[0]).not.toBe('c');
      expect(set.evaluate({ destination: 'zero' }, rng).backend?.tags[0]).toBe('b');
    }
  });

  it('does not draw a random number when one backend gets all the traffic', () => {
    let draws = 0;
    const rng = () => {
      draws++;
      return 0.5;
    };
    const set = compile([{ destination: 'a', route: route([{ tags: ['x'], weight: 0 }, { tags: ['y'] }]) }]);
    expect(set.evaluate({ destination: 'a' }, rng).backend?.tags).toEqual(['y']);
    expect(draws).toBe(0);
  });

  it('mirrors the configured share of requests', () => {
    const set = compile([
      { destination: 'a', route: route([{ tags: ['v1'] }], { mirror: { tags: ['v2'], percentage: 20 } }) },
      { destination: 'b', route: route([{ tags: ['v1'] }], { mirror: { tags: ['v2'] } }) },
    ]);
    expect(set.evaluate({ destination: 'b' }).mirror).toEqual({ tags: ['v2'], percentage: 100 });
    const rng = createRng(5);
    const n = 10_000;
    let mirrored = 0;
    for (let i = 0; i < n; i++) if (set.evaluate({ destination: 'a' }, rng).mirror !== undefined) mirrored++;
    expectBinomial(mirrored, n, 0.2);
  });

  it('collects the actions of every matching action rule, in rule order', () => {
    const set = compile([
      { id: 'b', priority: 1, destination: 'r', actions: [{ action: 'trace', log_value: 'second' }] },
      { id: 'a', priority: 1, destination: 'r', actions: [{ action: 'trace', log_value: 'first' }] },
      {
        id: 'z',
        priority: 9,
        destination: 'r',
        match: { headers: { 'x-t': { present: true } } },
        actions: [{ action: 'abort', return_code: -1 }],
      },
    ]);
    expect(set.evaluate({ destination: 'r' }).actions.map((a) => (a.kind === 'trace' ? a.value : a.kind))).toEqual([
      'first',
      'second',
    ]);
    const all = set.evaluate({ destination: 'r', headers: { 'x-t': '1' } }).actions;
    expect(all.map((a) => a.rule.id)).toEqual(['z', 'a', 'b']);
    expect(all[0]).toMatchObject({ kind: 'abort', reset: true, status: undefined, returnCode: -1 });
  });

  it('takes the revision from the document unless the options give one', () => {
    expect(compile({ rules: [], revision: 7 }).revision).toBe(7);
    expect(compile({ rules: [], revision: 7 }, { revision: 8 }).revision).toBe(8);
    expect(compile([]).revision).toBeUndefined();
    expect(() => compile([], { defaultTimeoutMs: -1, revision: 1.5 })).toThrow(
      'Invalid compile options: defaultTimeoutMs: must be a positive number of milliseconds; revision: must be a non-negative integer',
    );
  });

  it('indexes by destination: lists rules per destination', () => {
    const set = compile([
      { id: 'x', destination: 'a', route: route([{}]) },
      { id: 'y', destination: 'a', actions: [{ action: 'delay', duration: '1s' }] },
    ]);
    expect(set.rulesFor('a')).toMatchObject({
      routes: [{ id: 'x', kind: 'route' }],
      actions: [{ id: 'y', kind: 'actions' }],
    });
    expect(set.rulesFor('b')).toEqual({ routes: [], actions: [] });
  });
});
