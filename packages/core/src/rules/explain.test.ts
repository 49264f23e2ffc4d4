import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRng } from '../random/rng.js';
import { compile } from './compile.js';
import { formatExplanation } from './explain.js';

const RULES = [
  {
    id: 'jason',
    priority: 3,
    destination: 'reviews',
    match: { headers: { Cookie: '^(.*?;)?(user=jason)(;.*)?$' }, source: { name: 'productpage' } },
    route: { backends: [{ tags: ['version=v2'] }] },
  },
  {
    id: 'canary',
    priority: 2,
    destination: 'reviews',
    match: { method: ['GET'], headers: { 'x-canary': { exact: 'yes' } } },
    route: { backends: [{ name: 'v3', tags: ['version=v3'], weight: 0.3 }, { tags: ['version=v1'] }] },
  },
  { id: 'default', priority: 1, destination: 'reviews', route: { backends: [{ tags: ['version=v1'] }] } },
  {
    id: 'slow',
    destination: 'reviews',
    match: { headers: { 'x-canary': { exact: 'yes' } } },
    actions: [{ action: 'delay', duration: 1, probability: 0.5, tags: ['version=v3'] }],
  },
  {
    id: 'other',
    destination: 'reviews',
    match: { source: { name: 'web' } },
    actions: [{ action: 'trace', log_value: 't' }],
  },
];

describe('RuleSet.explain', () => {
  const set = compile({ rules: RULES, revision: 12 });

  it('lists the rules tried in order, the failed conditions, the weights and the draw', () => {
    const e = set.explain(
      {
        destination: 'reviews',
        method: 'GET',
        source: { name: 'productpage' },
        headers: { cookie: 'user=bob', 'x-canary': 'yes' },
      },
      () => 0.1,
    );
    expect(e.status).toBe('route');
    expect(e.revision).toBe(12);
    expect(e.routeRules.map((t) => [t.rule.id, t.outcome])).toEqual([
      ['jason', 'not_matched'],
      ['canary', 'matched'],
      ['default', 'not_evaluated'],
    ]);
    expect(e.routeRules[0]?.failures).toEqual([
      { condition: 'match.headers.Cookie', expected: 'matches /^(.*?;)?(user=jason)(;.*)?$/', actual: 'user=bob' },
    ]);
    expect(e.choice).toMatchObject({
      backends: [
        { name: 'v3', tags: ['version=v3'], weight: 0.3 },
        { name: undefined, tags: ['version=v1'], weight: undefined },
      ],
      adjustment: 'none',
      roll: 0.1,
      chosen: 0,
    });
    expect(e.actionRules.map((t) => [t.rule.id, t.outcome])).toEqual([
      ['other', 'not_matched'],
      ['slow', 'matched'],
    ]);
    expect(e.decision.backend?.name).toBe('v3');
    expect(e.decision.actions.map((a) => a.rule.id)).toEqual(['slow']);
  });

  it('reports every failed condition of a rule, not only the first', () => {
    const e = set.explain({ destination: 'reviews', method: 'POST', headers: {} });
    expect(e.routeRules[0]?.failures.map((f) => f.condition)).toEqual(['match.source.name', 'match.headers.Cookie']);
    expect(e.routeRules[1]?.failures).toEqual([
      { condition: 'match.method', expected: 'one of GET', actual: 'POST' },
      { condition: 'match.headers.x-canary', expected: '= "yes"', actual: undefined },
    ]);
  });

  it('formats as readable text', () => {
    const text = formatExplanation(
      set.explain({ destination: 'reviews', method: 'GET', headers: { 'x-canary': 'yes' } }, () => 0.5),
    );
    expect(text).toBe(
      [
        'destination "reviews": route',
        '  route "jason" rules[0] priority 3: not matched',
        '    match.source.name = "productpage", got nothing',
        '    match.headers.Cookie matches /^(.*?;)?(user=jason)(;.*)?$/, got nothing',
        '  route "canary" rules[1] priority 2: matched',
        '    backend 0 v3: weight 0.3, share 0.3',
        '    backend 1 version=v1: unweighted, share 0.7  <- chosen',
        '    draw 0.5',
        '  route "default" rules[2] priority 1: not evaluated',
        '  actions "other" rules[4] priority 0: not matched',
        '    match.source.name = "web", got nothing',
        '  actions "slow" rules[3] priority 0: matched',
        '  fault delay 1000 ms with probability 0.5 on version=v3',
      ].join('\n'),
    );
    expect(formatExplanation(set.explain({ destination: 'nobody' }))).toBe(
      'destination "nobody": no_rules\n  no route rules: balance across every instance',
    );
  });

  it('always agrees with evaluate for the same draws (property)', () => {
    const request = fc.record({
      destination: fc.constantFrom('reviews', 'ratings'),
      method: fc.constantFrom('GET', 'POST'),
      source: fc.option(fc.record({ name: fc.constantFrom('productpage', 'web') }), { nil: undefined }),
      headers: fc.record({
        cookie: fc.constantFrom('user=jason', 'a=1;user=jason', 'user=bob'),
        'x-canary': fc.constantFrom('yes', 'no'),
      }),
    });
    fc.assert(
      fc.property(request, fc.integer(), (req, seed) => {
        const evaluated = set.evaluate(req, createRng(seed));
        const explained = set.explain(req, createRng(seed));
        expect(explained.decision).toEqual(evaluated);
        const matched = explained.routeRules.filter((t) => t.outcome === 'matched').map((t) => t.rule.id);
        expect(matched).toEqual(evaluated.rule === undefined ? [] : [evaluated.rule.id]);
      }),
    );
  });
});
