import { describe, expect, it } from 'vitest';
import { compile } from './compile.js';
import type { RuleRequest } from './request.js';

/**
 * Members of `Object.prototype`. Header names are read lower-cased, so for headers only
 * `constructor` (and `__proto__`, below) can collide; cookie and query names are case-sensitive.
 */
const INHERITED = ['constructor', 'toString', 'hasOwnProperty', 'valueOf'] as const;

/** A route on header `name` (any value), cookie `name` and query `name`, each with a catch-all after it. */
function rulesOn(name: string) {
  const backends = [{ tags: ['v2'] }];
  return compile([
    { id: 'header', priority: 3, destination: 'h', match: { headers: { [name]: '.*' } }, route: { backends } },
    { id: 'default', destination: 'h', route: { backends: [{ tags: ['v1'] }] } },
    {
      id: 'cookie',
      priority: 3,
      destination: 'c',
      match: { cookies: { [name]: { present: true } } },
      route: { backends },
    },
    { id: 'default', destination: 'c', route: { backends: [{ tags: ['v1'] }] } },
    {
      id: 'query',
      priority: 3,
      destination: 'q',
      match: { query: { [name]: { present: true } } },
      route: { backends },
    },
    { id: 'default', destination: 'q', route: { backends: [{ tags: ['v1'] }] } },
    {
      id: 'hash',
      destination: 'k',
      route: { backends: [{ tags: ['v1'], lb_type: 'ring_hash', hash_key: { header: name } }] },
    },
  ]);
}

/** A plain object holding `value` under `name` as an own property, whatever the name (even `__proto__`). */
function own(name: string, value: unknown): Record<string, never> {
  return JSON.parse(JSON.stringify({ [name]: value })) as Record<string, never>;
}

describe('header, cookie and query records: own properties only', () => {
  it.each(INHERITED)('a rule on %s does not match a plain object that lacks it', (name) => {
    const rules = rulesOn(name);
    const explain = (request: RuleRequest) => rules.explain(request).decision.rule?.id;
    expect(rules.evaluate({ destination: 'h', headers: {} }).rule?.id).toBe('default');
    expect(explain({ destination: 'h', headers: { accept: 'text/html' } })).toBe('default');
    expect(rules.evaluate({ destination: 'c', cookies: {} }).rule?.id).toBe('default');
    expect(rules.evaluate({ destination: 'c', headers: { cookie: 'a=1' } }).rule?.id).toBe('default');
    expect(rules.evaluate({ destination: 'q', query: {} }).rule?.id).toBe('default');
    expect(rules.evaluate({ destination: 'k', headers: {} }).hashKey).toBeUndefined();
  });

  it.each(INHERITED)('a rule on %s matches when the header is there', (name) => {
    const rules = rulesOn(name);
    const header = name.toLowerCase(); // records carry lower-case names (node:http's req.headers)
    expect(rules.evaluate({ destination: 'h', headers: own(header, 'x') }).rule?.id).toBe('header');
    expect(rules.explain({ destination: 'h', headers: own(header, ['x', 'y']) }).decision.rule?.id).toBe('header');
    expect(rules.evaluate({ destination: 'h', headers: new Headers([[name, 'x']]) }).rule?.id).toBe('header');
    expect(rules.evaluate({ destination: 'c', cookies: own(name, 'x') }).rule?.id).toBe('cookie');
    expect(rules.evaluate({ destination: 'c', headers: { cookie: `${name}=x` } }).rule?.id).toBe('cookie');
    expect(rules.evaluate({ destination: 'q', query: own(name, ['x']) }).rule?.id).toBe('query');
    expect(rules.evaluate({ destination: 'q', path: `/p?${name}=x` }).rule?.id).toBe('query');
    expect(rules.evaluate({ destination: 'k', headers: own(header, 'x') }).hashKey).toBe('x');
  });

  it('never reads __proto__ from a record, and refuses conditions named __proto__', () => {
    const rules = compile([
      {
        destination: 'k',
        route: { backends: [{ tags: ['v1'], lb_type: 'ring_hash', hash_key: { header: '__proto__' } }] },
      },
      {
        destination: 'c',
        route: { backends: [{ tags: ['v1'], lb_type: 'maglev', hash_key: { cookie: '__proto__' } }] },
      },
    ]);
    expect(rules.evaluate({ destination: 'k', headers: {} }).hashKey).toBeUndefined();
    expect(rules.evaluate({ destination: 'k', headers: own('__proto__', 'x') }).hashKey).toBe('x');
    expect(rules.evaluate({ destination: 'c', cookies: {} }).hashKey).toBeUndefined();
    expect(rules.evaluate({ destination: 'c', cookies: own('__proto__', 'x') }).hashKey).toBe('x');
    // Parsing a record assigns `__proto__` as the prototype: the condition would vanish and the rule match everything.
    for (const match of [{ headers: own('__proto__', '.*') }, { cookies: own('__proto__', { present: true }) }])
      expect(() => compile([{ destination: 'h', match, route: { backends: [{ tags: ['v2'] }] } }])).toThrow(
        /rules\[0\]\.match\.(headers|cookies)\.__proto__: the name __proto__ is not supported/,
      );
  });

  it('reads Headers-like objects and null-prototype records the same way', () => {
    const rules = rulesOn('constructor');
    const bare = Object.create(null) as Record<string, string>;
    expect(rules.evaluate({ destination: 'h', headers: bare }).rule?.id).toBe('default');
    Object.defineProperty(bare, 'constructor', { value: 'x', enumerable: true });
    expect(rules.evaluate({ destination: 'h', headers: bare }).rule?.id).toBe('header');
    expect(rules.evaluate({ destination: 'h', headers: new Headers() }).rule?.id).toBe('default');
    expect(rules.evaluate({ destination: 'h', headers: new Map<string, string>() }).rule?.id).toBe('default');
    expect(rules.evaluate({ destination: 'q', query: new URLSearchParams('constructor=1') }).rule?.id).toBe('query');
  });

  it('treats values of the wrong type as absent instead of failing the request', () => {
    const rules = rulesOn('length');
    // An array where a record belongs: its own `length` is a number, not a header value.
    const request = { destination: 'h', headers: ['length', 'x'] } as unknown as RuleRequest;
    expect(rules.evaluate(request).rule?.id).toBe('default');
    const numeric = { destination: 'h', headers: { length: 5 } } as unknown as RuleRequest;
    expect(rules.evaluate(numeric).rule?.id).toBe('default');
  });
});
