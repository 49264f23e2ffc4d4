import { describe, expect, it } from 'vitest';
import { lint } from './lint.js';

const codes = (findings: ReturnType<typeof lint>) => findings.map((f) => `${f.severity} ${f.code} ${f.path}`);

describe('lint', () => {
  it('reports invalid input as findings instead of throwing', () => {
    expect(codes(lint([{ destination: 'a', route: { backends: [{ weight: 3 }] } }]))).toEqual([
      'error invalid rules[0].route.backends[0].weight',
    ]);
  });

  it('finds duplicate ids', () => {
    const f = lint([
      { id: 'x', destination: 'a', route: { backends: [{}] } },
      { id: 'x', destination: 'b', route: { backends: [{}] } },
    ]);
    expect(f[0]).toMatchObject({
      code: 'duplicate_id',
      severity: 'error',
      path: 'rules[1].id',
      message: 'duplicate id "x" (also rules[0])',
    });
  });

  it('finds rules shadowed by a catch-all or by a less specific rule that comes first', () => {
    const f = lint([
      { id: 'default', priority: 5, destination: 'a', route: { backends: [{ tags: ['v1'] }] } },
      {
        id: 'jason',
        priority: 1,
        destination: 'a',
        match: { headers: { cookie: 'user=jason' } },
        route: { backends: [{ tags: ['v2'] }] },
      },
      {
        id: 'b-canary',
        priority: 9,
        destination: 'b',
        match: { headers: { 'x-c': { exact: '1' } } },
        route: { backends: [{}] },
      },
      {
        id: 'b-canary-get',
        priority: 8,
        destination: 'b',
        match: { method: 'GET', headers: { 'X-C': { exact: '1' } } },
        route: { backends: [{}] },
      },
      { id: 'b-other', priority: 7, destination: 'b', match: { method: 'GET' }, route: { backends: [{}] } },
    ]);
    const shadowed = f.filter((x) => x.code === 'shadowed_rule');
    expect(shadowed.map((x) => x.rule?.id)).toEqual(['jason', 'b-canary-get']);
    expect(shadowed[0]?.message).toBe(
      'never applies: the catch-all rule "default" (rules[0]) comes first and matches every request this rule matches',
    );
  });

  it('reports equal priorities (ordered by id) and destinations without a default route', () => {
    const f = lint([
      { id: 'b', destination: 'a', match: { method: 'GET' }, route: { backends: [{}] } },
      { id: 'a', destination: 'a', match: { method: 'POST' }, route: { backends: [{}] } },
    ]);
    expect(codes(f)).toEqual(['info no_default_route rules[0]', 'info equal_priority rules[1].priority']);
    expect(f[1]?.message).toBe(
      '2 route rules of "a" have priority 0; they are tried by id, then input order: "a" (rules[1]), "b" (rules[0])',
    );
  });

  it('finds weights and probabilities that do nothing', () => {
    const f = lint([
      { destination: 'a', route: { backends: [{ tags: ['v1'], weight: 0 }, { tags: ['v2'] }] } },
      {
        destination: 'b',
        route: { backends: [{ tags: ['v1'], weight: 0.7 }, { tags: ['v2'], weight: 0.6 }, { tags: ['v3'] }] },
      },
      {
        destination: 'c',
        route: {
          backends: [
            { tags: ['v1'], weight: 0.2 },
            { tags: ['v2'], weight: 0.2 },
          ],
        },
      },
      { destination: 'd', actions: [{ action: 'abort', return_code: 500, probability: 0 }] },
    ]);
    expect(codes(f)).toEqual([
      'warning zero_weight_backend rules[0].route.backends[0].weight',
      'warning weights_normalised rules[1].route.backends',
      'warning starved_backend rules[1].route.backends[2]',
      'warning zero_probability_action rules[3].actions[0].probability',
      'info weights_normalised rules[2].route.backends',
    ]);
  });

  it('finds hashing policies without a key, hopeless per-try timeouts and the Amalgam8 cookie pitfall', () => {
    const f = lint([
      {
        destination: 'a',
        match: { headers: { Cookie: '^(.*?;)?(user=jason)(;.*)?$' } },
        route: {
          backends: [{ lb_type: 'ring_hash' }],
          http_req_timeout: 1,
          retries: { attempts: 2, per_try_timeout: 1 },
        },
      },
    ]);
    expect(codes(f)).toEqual([
      'warning hash_key_missing rules[0].route.backends[0].lb_type',
      'warning per_try_timeout_not_below_timeout rules[0].route.retries.per_try_timeout',
      'info no_default_route rules[0]',
      'info cookie_regex_needs_space rules[0].match.headers.Cookie',
    ]);
    expect(f.find((x) => x.code === 'cookie_regex_needs_space')?.message).toContain(
      'match.cookies: {"user": {exact: "jason"}}',
    );
  });

  it('checks tags against known instances', () => {
    const instances = [
      { service: 'reviews', tags: ['version=v1'] },
      { service: 'reviews', tags: ['version=v2', 'zone=a'] },
      { service: 'productpage', tags: [] },
    ];
    const f = lint(
      [
        {
          destination: 'reviews',
          match: { source: { name: 'gateway' } },
          route: {
            backends: [{ tags: ['version=v2', 'zone=a'], weight: 0.5 }, { tags: ['version=v3'] }],
            mirror: { tags: ['version=v9'] },
          },
        },
        { destination: 'reviews', priority: -1, route: { backends: [{ tags: ['version=v1'] }] } },
        { destination: 'reviews', actions: [{ action: 'delay', duration: 1, tags: ['version=v4'] }] },
        { destination: 'ratings', route: { backends: [{}] } },
      ],
      { instances },
    );
    expect(codes(f)).toEqual([
      'warning unmatched_backend rules[0].route.backends[1].tags',
      'warning unmatched_mirror rules[0].route.mirror.tags',
      'warning unmatched_action rules[2].actions[0].tags',
      'warning unknown_destination rules[3].destination',
      'info unknown_source rules[0].match.source.name',
    ]);
  });

  it('is quiet about good rules', () => {
    const f = lint(
      [
        {
          id: 'jason',
          priority: 2,
          destination: 'reviews',
          match: { cookies: { user: { exact: 'jason' } } },
          route: { backends: [{ tags: ['v2'] }] },
        },
        {
          id: 'default',
          priority: 1,
          destination: 'reviews',
          route: { backends: [{ tags: ['v1'], weight: 0.9 }, { tags: ['v2'] }] },
        },
      ],
      {
        instances: [
          { service: 'reviews', tags: ['v1'] },
          { service: 'reviews', tags: ['v2'] },
        ],
      },
    );
    expect(f).toEqual([]);
  });
});
