import { describe, expect, it } from 'vitest';
import { compile } from './compile.js';
import type { RuleRequest } from './request.js';

/** A rule set with one route rule guarded by `match`, plus a catch-all, so a request either hits "guarded" or "default". */
function guard(match: unknown, extra: Record<string, unknown> = {}) {
  const set = compile([
    { id: 'guarded', priority: 2, destination: 'svc', match, route: { backends: [{ tags: ['v=guarded'] }] }, ...extra },
    { id: 'default', priority: 1, destination: 'svc', route: { backends: [{ tags: ['v=default'] }] } },
  ]);
  return (request: Omit<RuleRequest, 'destination'>) =>
    set.evaluate({ destination: 'svc', ...request }).rule?.id === 'guarded';
}

describe('match conditions', () => {
  it('headers: an Amalgam8 string is a regex search, names are case-insensitive', () => {
    const m = guard({ headers: { 'X-Canary': 'true|yes' } });
    expect(m({ headers: { 'x-canary': 'yes' } })).toBe(true);
    expect(m({ headers: { 'x-canary': 'not true' } })).toBe(true); // unanchored, like Amalgam8
    expect(m({ headers: { 'x-canary': 'no' } })).toBe(false);
    expect(m({ headers: {} })).toBe(false);
    expect(m({})).toBe(false);
    expect(m({ headers: new Headers({ 'X-CANARY': 'true' }) })).toBe(true);
    expect(m({ headers: new Map([['x-canary', 'true']]) })).toBe(true);
  });

  it('headers: exact, prefix, regex, present, absent', () => {
    const exact = guard({ headers: { 'x-env': { exact: 'prod' } } });
    expect(exact({ headers: { 'x-env': 'prod' } })).toBe(true);
    expect(exact({ headers: { 'x-env': 'prod2' } })).toBe(false);
    const prefix = guard({ headers: { 'user-agent': { prefix: 'Mozilla/' } } });
    expect(prefix({ headers: { 'user-agent': 'Mozilla/5.0' } })).toBe(true);
    expect(prefix({ headers: { 'user-agent': 'curl/8' } })).toBe(false);
    const regex = guard({ headers: { 'user-agent': { regex: '(iPhone|Android)' } } });
    expect(regex({ headers: { 'user-agent': 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0)' } })).toBe(true);
    expect(regex({ headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64)' } })).toBe(false);
    const present = guard({ headers: { 'x-debug': { present: true } } });
    expect(present({ headers: { 'x-debug': '' } })).toBe(true);
    expect(present({ headers: {} })).toBe(false);
    const absent = guard({ headers: { 'x-debug': { absent: true } } });
    expect(absent({ headers: {} })).toBe(true);
    expect(absent({})).toBe(true);
    expect(absent({ headers: { 'x-debug': '1' } })).toBe(false);
  });

  it('headers: repeated values of a record are joined as HTTP joins them', () => {
    const m = guard({ headers: { 'x-tag': { regex: '^a, b$' } } });
    expect(m({ headers: { 'x-tag': ['a', 'b'] } })).toBe(true);
    const c = guard({ headers: { cookie: '(^|; )user=jason(;|$)' } });
    expect(c({ headers: { cookie: ['theme=dark', 'user=jason'] } })).toBe(true);
  });

  it('headers: a leading (?i) makes a pattern case-insensitive', () => {
    const m = guard({ headers: { 'x-env': '(?i)^prod$' } });
    expect(m({ headers: { 'x-env': 'PROD' } })).toBe(true);
    expect(m({ headers: { 'x-env': 'preprod' } })).toBe(false);
  });

  it('cookies: read from the Cookie header lazily, or from pre-parsed cookies', () => {
    const m = guard({ cookies: { user: { exact: 'jason' } } });
    expect(m({ headers: { cookie: 'user=jason' } })).toBe(true);
    expect(m({ headers: { cookie: 'theme=dark; user=jason; lang=en' } })).toBe(true); // "; " separators are fine here
    expect(m({ headers: { cookie: 'user="jason"' } })).toBe(true);
    expect(m({ headers: { cookie: 'xuser=jason; user=bob' } })).toBe(false);
    expect(m({ headers: { cookie: 'user=jasonx' } })).toBe(false);
    expect(m({ headers: {} })).toBe(false);
    expect(m({ cookies: { user: 'jason' } })).toBe(true);
    expect(m({ cookies: {}, headers: { cookie: 'user=jason' } })).toBe(false); // parsed cookies win
    expect(
      guard({ cookies: { session: { regex: '^[0-9a-f]{8}$' } } })({ headers: { cookie: 'session=deadbeef' } }),
    ).toBe(true);
    expect(guard({ cookies: { user: { absent: true } } })({ headers: { cookie: 'a=1' } })).toBe(true);
    expect(guard({ cookies: { user: { present: true } } })({ headers: { cookie: 'user=' } })).toBe(true);
  });

  it('path: exact, prefix, regex — on the path without its query string', () => {
    const exact = guard({ path: { exact: '/api/v1/items' } });
    expect(exact({ path: '/api/v1/items' })).toBe(true);
    expect(exact({ path: '/api/v1/items?page=2' })).toBe(true);
    expect(exact({ path: '/api/v1/items/3' })).toBe(false);
    expect(exact({})).toBe(false);
    const prefix = guard({ path: { prefix: '/api/' } });
    expect(prefix({ path: '/api/v1' })).toBe(true);
    expect(prefix({ path: '/apix' })).toBe(false);
    const regex = guard({ path: { regex: '^/items/[0-9]+$' } });
    expect(regex({ path: '/items/42?x=1' })).toBe(true);
    expect(regex({ path: '/items/abc' })).toBe(false);
  });

  it('route.uri.path and route.uri.prefix restrict the route (Amalgam8)', () => {
    const m = guard(undefined, { route: { backends: [{ tags: ['v=guarded'] }], uri: { prefix: '/reviews/' } } });
    expect(m({ path: '/reviews/1' })).toBe(true);
    expect(m({ path: '/ratings/1' })).toBe(false);
    const p = guard(undefined, { route: { backends: [{ tags: ['v=guarded'] }], uri: { path: '/health' } } });
    expect(p({ path: '/health' })).toBe(true);
    expect(p({ path: '/healthz' })).toBe(false);
  });

  it('method: one or several, case-insensitive', () => {
    const one = guard({ method: 'get' });
    expect(one({ method: 'GET' })).toBe(true);
    expect(one({ method: 'get' })).toBe(true);
    expect(one({ method: 'POST' })).toBe(false);
    expect(one({})).toBe(false);
    const many = guard({ method: ['GET', 'HEAD'] });
    expect(many({ method: 'HEAD' })).toBe(true);
    expect(many({ method: 'DELETE' })).toBe(false);
  });

  it('query: from the path (decoded), or from a parsed query', () => {
    const m = guard({ query: { 'q w': { exact: 'a b' }, lang: { prefix: 'en' } } });
    expect(m({ path: '/search?q%20w=a+b&lang=en-GB' })).toBe(true);
    expect(m({ path: '/search?q w=a%20b&lang=en' })).toBe(true);
    expect(m({ path: '/search?lang=en-GB' })).toBe(false);
    expect(m({ path: '/search?q%20w=a+b&lang=fr' })).toBe(false);
    expect(m({ query: new URLSearchParams('q w=a b&lang=en') })).toBe(true);
    expect(m({ query: { 'q w': ['a b', 'c'], lang: 'en' } })).toBe(true);
    const present = guard({ query: { debug: { present: true } } });
    expect(present({ path: '/x?debug' })).toBe(true);
    expect(present({ path: '/x?debug=' })).toBe(true);
    expect(present({ path: '/x?debugger=1' })).toBe(false);
    expect(present({ path: '/x#debug' })).toBe(false);
    expect(guard({ query: { x: { exact: '%zz' } } })({ path: '/?x=%zz' })).toBe(true); // malformed escapes kept
  });

  it('source: name and tags (all must be carried)', () => {
    const m = guard({ source: { name: 'productpage', tags: ['version=v1', 'zone=a'] } });
    expect(m({ source: { name: 'productpage', tags: ['zone=a', 'version=v1', 'x'] } })).toBe(true);
    expect(m({ source: { name: 'productpage', tags: ['version=v1'] } })).toBe(false);
    expect(m({ source: { name: 'reviews', tags: ['version=v1', 'zone=a'] } })).toBe(false);
    expect(m({})).toBe(false);
    const tagsOnly = guard({ source: { tags: ['version=v2'] } });
    expect(tagsOnly({ source: { name: 'anyone', tags: ['version=v2'] } })).toBe(true);
    expect(tagsOnly({ source: { name: 'anyone' } })).toBe(false);
  });

  it('all conditions must hold', () => {
    const m = guard({
      source: { name: 'web' },
      method: 'GET',
      path: { prefix: '/api' },
      headers: { 'x-env': { exact: 'prod' } },
      cookies: { user: { exact: 'jason' } },
      query: { v: { exact: '2' } },
    });
    const ok: Omit<RuleRequest, 'destination'> = {
      source: { name: 'web' },
      method: 'GET',
      path: '/api/x?v=2',
      headers: { 'x-env': 'prod', cookie: 'user=jason' },
    };
    expect(m(ok)).toBe(true);
    expect(m({ ...ok, source: { name: 'cli' } })).toBe(false);
    expect(m({ ...ok, method: 'PUT' })).toBe(false);
    expect(m({ ...ok, path: '/web?v=2' })).toBe(false);
    expect(m({ ...ok, path: '/api/x?v=3' })).toBe(false);
    expect(m({ ...ok, headers: { 'x-env': 'dev', cookie: 'user=jason' } })).toBe(false);
    expect(m({ ...ok, headers: { 'x-env': 'prod', cookie: 'user=bob' } })).toBe(false);
  });

  it('never reuses a cached attribute or regex result from an earlier request', () => {
    // Both rules test the same header regex (interned, result cached per evaluation).
    const set = compile([
      {
        id: 'a',
        priority: 3,
        destination: 'svc',
        match: { headers: { 'x-u': '^a.*z$' }, method: 'POST' },
        route: { backends: [{ tags: ['a'] }] },
      },
      {
        id: 'b',
        priority: 2,
        destination: 'svc',
        match: { headers: { 'x-u': '^a.*z$' } },
        route: { backends: [{ tags: ['b'] }] },
      },
      { id: 'c', priority: 1, destination: 'svc', route: { backends: [{ tags: ['c'] }] } },
    ]);
    const ids = ['abz', 'xyz', 'abz', 'aaz', 'q'].map(
      (v, i) => set.evaluate({ destination: 'svc', method: i === 3 ? 'POST' : 'GET', headers: { 'x-u': v } }).rule?.id,
    );
    expect(ids).toEqual(['b', 'c', 'b', 'a', 'c']);
  });
});
