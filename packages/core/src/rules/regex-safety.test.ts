import { describe, expect, it } from 'vitest';
import { compile } from './compile.js';
import { compilePattern } from './regex.js';
import { exponentialBacktracking } from './regex-safety.js';

describe('exponentialBacktracking', () => {
  it.each([
    '(a+)+',
    '^(a+)+$',
    '(a*)*b',
    '(\\w+\\s?)*$',
    '(a|a+)*',
    '((ab)*)+',
    '(x+x+)+y',
    '(?:[a-z]+)+@',
    '((a+))+',
    '(a+){2,}',
    '(?<word>\\w+)*!',
    '(a?)+b',
  ])('flags %s', (pattern) => {
    expect(exponentialBacktracking(pattern)).toMatch(/exponential time/);
  });

  it.each([
    'abc',
    '^(.*?;)?(user=jason)(;.*)?$',
    '(\\w+\\.)*\\w+',
    '(a+){3}',
    '.*foo.*',
    '[(+*]+',
    '\\(a+\\)+',
    '(ab)+',
    '(a|b)*c',
    '(?=a+)+',
    '^v[0-9]+(\\.[0-9]+)*$',
    '\\d+\\d+',
  ])('accepts %s', (pattern) => {
    expect(exponentialBacktracking(pattern)).toBeUndefined();
  });
});

describe('rule patterns', () => {
  it('refuses an exponential pattern with the JSON path and the offending part', () => {
    expect(compilePattern('(a+)+$')).toMatchObject({ ok: false, message: expect.stringContaining('"(a+)+"') });
    expect(() =>
      compile([
        {
          destination: 'reviews',
          match: { headers: { 'x-user': '^(\\w+\\s?)*$' } },
          route: { backends: [{ tags: ['v1'] }] },
        },
      ]),
    ).toThrow(/rules\[0\]\.match\.headers\.x-user.*unsafe regular expression/);
  });

  it('keeps accepting Amalgam8’s own examples', () => {
    expect(compilePattern('^(.*?;)?(user=jason)(;.*)?$').ok).toBe(true);
    expect(compilePattern('(?i)^mozilla').ok).toBe(true);
  });
});
