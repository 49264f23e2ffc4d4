import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findCookie, findQueryParam, pathOnly, readValue } from './request.js';

describe('findCookie', () => {
  it('finds a cookie anywhere in the header, exactly by name', () => {
    expect(findCookie('user=jason', 'user')).toBe('jason');
    expect(findCookie('a=1; user=jason; b=2', 'user')).toBe('jason');
    expect(findCookie('a=1;user=jason', 'user')).toBe('jason');
    expect(findCookie('xuser=1; user=2', 'user')).toBe('2');
    expect(findCookie('user2=1', 'user')).toBeUndefined();
    expect(findCookie('user', 'user')).toBeUndefined();
    expect(findCookie('user=', 'user')).toBe('');
    expect(findCookie('user="quoted value" ', 'user')).toBe('quoted value');
    expect(findCookie('user=a=b', 'user')).toBe('a=b');
    expect(findCookie('user=first; user=second', 'user')).toBe('first');
    expect(findCookie('', 'user')).toBeUndefined();
  });

  it('agrees with a naive split-based parser (property)', () => {
    const token = fc.string({ unit: fc.constantFrom('a', 'b', 'u', '1', '_'), minLength: 1, maxLength: 4 });
    const value = fc.string({ unit: fc.constantFrom('a', 'b', '1', '=', '-'), maxLength: 4 });
    fc.assert(
      fc.property(
        fc.array(fc.tuple(token, value), { maxLength: 5 }),
        token,
        fc.constantFrom(';', '; '),
        (pairs, name, sep) => {
          const header = pairs.map(([k, v]) => `${k}=${v}`).join(sep);
          const naive = pairs.find(([k]) => k === name)?.[1];
          expect(findCookie(header, name)).toBe(naive);
        },
      ),
    );
  });
});

describe('findQueryParam', () => {
  it('decodes like URLSearchParams and takes the first value', () => {
    expect(findQueryParam('/p?a=1&b=2', 'b', 'b')).toBe('2');
    expect(findQueryParam('/p?a=1&a=2', 'a', 'a')).toBe('1');
    expect(findQueryParam('/p?a', 'a', 'a')).toBe('');
    expect(findQueryParam('/p?ab=1', 'a', 'a')).toBeUndefined();
    expect(findQueryParam('/p', 'a', 'a')).toBeUndefined();
    expect(findQueryParam('/p?q=a+b%21', 'q', 'q')).toBe('a b!');
    expect(findQueryParam('/p?x=1#a=2', 'a', 'a')).toBeUndefined();
    expect(findQueryParam('/p?%C3%A9t%C3%A9=1', 'été', encodeURIComponent('été'))).toBe('1');
    // A name with `%` or `+` never matches a raw key: there they are an escape and a space.
    expect(findQueryParam('/x?%20=', '%20', '%2520')).toBeUndefined();
    expect(findQueryParam('/x?%2520=1', '%20', '%2520')).toBe('1');
  });

  it('agrees with URLSearchParams on simple queries (property)', () => {
    const part = fc.string({ unit: fc.constantFrom('a', 'b', '1', ' ', '+', '%20', 'é'), maxLength: 4 });
    fc.assert(
      fc.property(fc.array(fc.tuple(part, part), { maxLength: 5 }), part, (pairs, name) => {
        fc.pre(name !== '');
        const qs = pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
        const expected = new URLSearchParams(qs).get(name) ?? undefined;
        expect(findQueryParam(`/x?${qs}`, name, encodeURIComponent(name))).toBe(expected);
      }),
    );
  });
});

describe('readValue / pathOnly', () => {
  it('reads getters and lower-cased records', () => {
    expect(readValue(new Headers({ 'X-A': '1' }), 'x-a')).toBe('1');
    expect(readValue({ 'x-a': '1' }, 'x-a')).toBe('1');
    expect(readValue({ 'x-a': ['1', '2'] }, 'x-a')).toBe('1, 2');
    expect(readValue({ get: 'not a function' }, 'get')).toBe('not a function');
    expect(readValue(undefined, 'x')).toBeUndefined();
    expect(readValue(new Headers(), 'x')).toBeUndefined();
  });

  it('strips the query string', () => {
    expect(pathOnly('/a?b')).toBe('/a');
    expect(pathOnly('/a')).toBe('/a');
  });
});
