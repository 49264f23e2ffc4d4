import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../errors/index.js';
import { compile } from './compile.js';
import { compilePattern, type RegexEngine } from './regex.js';

function engineOf(source: string): RegexEngine {
  const result = compilePattern(source);
  if (!result.ok) throw new Error(result.message);
  return result.pattern.engine;
}

/** A rule set whose only regex is `pattern` on header `x-user`, with a catch-all after it. */
function rulesOn(pattern: string) {
  return compile([
    {
      id: 'crafted',
      priority: 2,
      destination: 'reviews',
      match: { headers: { 'x-user': pattern } },
      route: { backends: [{ tags: ['v2'] }] },
    },
    { id: 'default', priority: 1, destination: 'reviews', route: { backends: [{ tags: ['v1'] }] } },
  ]);
}

function thrown(f: () => unknown): InvalidArgumentError {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidArgumentError);
    return err as InvalidArgumentError;
  }
  throw new Error('did not throw');
}

describe('rule regexes and catastrophic backtracking', () => {
  // Each value makes V8's backtracking engine take about a second or more on these patterns
  // (exponentially or polynomially many ways to split the value); sizes chosen so that the old
  // behaviour failed the time bound without hanging the suite.
  it.each([
    ['^(a|a)*$', `${'a'.repeat(26)}!`, 'aaaa'],
    ['^(a|aa)*$', `${'a'.repeat(38)}!`, 'aaaa'],
    ['^(a|b|ab)*$', `${'ab'.repeat(23)}!`, 'abab'],
    ['^\\s*(.*?)\\s*,\\s*(.*?)\\s*$', `${' '.repeat(1200)}x${' '.repeat(1200)}`, ' a , b '],
  ])('evaluates %s on a crafted header in linear time', (pattern, crafted, matching) => {
    const rules = rulesOn(pattern);
    const start = performance.now();
    const decision = rules.evaluate({ destination: 'reviews', headers: { 'x-user': crafted } });
    const elapsed = performance.now() - start;
    expect(elapsed).toBeLessThan(50);
    expect(decision.rule?.id).toBe('default');
    expect(engineOf(pattern)).toBe('re2');
    // Same meaning as before on ordinary values.
    expect(rules.evaluate({ destination: 'reviews', headers: { 'x-user': matching } }).rule?.id).toBe('crafted');
  });

  it('runs patterns the old heuristic refused, in linear time', () => {
    const rules = rulesOn('^(\\w+\\s?)*$');
    const start = performance.now();
    expect(rules.evaluate({ destination: 'reviews', headers: { 'x-user': `${'a '.repeat(5000)}!` } }).rule?.id).toBe(
      'default',
    );
    expect(performance.now() - start).toBeLessThan(50);
    expect(rules.evaluate({ destination: 'reviews', headers: { 'x-user': 'jason smith' } }).rule?.id).toBe('crafted');
  });

  it('keeps patterns proven linear on V8', () => {
    for (const p of ['^(canary-1|beta-1)$', '(?i)^mozilla', 'Chrome/1[0-9]+', '^job-3-[0-9]+$', '^(?!internal)'])
      expect(engineOf(p), p).toBe('v8');
    for (const p of ['(iPhone|Android).*Build/2', '^(.*?; )?(user=jason)(; .*)?$', 'a*b'])
      expect(engineOf(p), p).toBe('re2');
  });

  it('keeps accepting Amalgam8’s own examples', () => {
    expect(compilePattern('^(.*?;)?(user=jason)(;.*)?$').ok).toBe(true);
    expect(compilePattern('(?i)^mozilla').ok).toBe(true);
  });

  it.each([
    ['(a)\\1', 'back-references'],
    ['(?<u>a)\\k<u>', 'back-references'],
    ['(?=.*admin)', 'lookarounds'],
    [`${'('.repeat(70)}a${')'.repeat(70)}`, 'nest more than'],
  ])('refuses %s at compile time with a coded error naming the rule and field', (pattern, why) => {
    const err = thrown(() => rulesOn(pattern));
    expect(err.code).toBe('WEFT_ERR_INVALID_ARGUMENT');
    expect(err.issues).toEqual([{ path: 'rules[0].match.headers.x-user', message: expect.stringContaining(why) }]);
    expect(err.message).toContain('unsupported regular expression');
  });

  it('refuses modifier groups (Node 24 parses them, Node 22 does not)', () => {
    const err = thrown(() => rulesOn('(?i:jason)'));
    expect(err.issues[0]?.path).toBe('rules[0].match.headers.x-user');
    expect(err.issues[0]?.message).toMatch(
      /modifier groups such as \(\?i:…\) are not supported|^invalid regular expression/,
    );
  });

  it('reports invalid patterns as before', () => {
    const err = thrown(() => rulesOn('a('));
    expect(err.issues[0]?.message).toMatch(/^invalid regular expression "a\(": /);
  });
});
