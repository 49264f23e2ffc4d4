import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CharSet } from './char-set.js';
import type { RegexNode } from './regex-ast.js';
import { linearTimeOnV8 } from './regex-linear-time.js';
import { parseRegex } from './regex-parse.js';

function node(source: string, ignoreCase = false): RegexNode {
  const parsed = parseRegex(source, ignoreCase);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.node;
}

function has(set: CharSet, unit: number): boolean {
  for (let i = 0; i < set.length; i += 2) if (unit >= (set[i] as number) && unit <= (set[i + 1] as number)) return true;
  return false;
}

const isWord = (s: string, i: number): boolean => i >= 0 && i < s.length && /\w/.test(s[i] as string);

class TooSlow extends Error {}

/**
 * Counts the steps of a backtracking search the way ECMA-262 specifies it (and V8 runs it):
 * every start position, alternatives in order, greedy repetition with the empty-iteration
 * check. Stops at `limit` steps.
 */
function backtrackingSteps(root: RegexNode, input: string, limit = 5_000_000): number {
  let steps = 0;
  const m = (n: RegexNode, i: number, k: (j: number) => boolean): boolean => {
    if (++steps > limit) throw new TooSlow();
    switch (n.type) {
      case 'chars':
        return i < input.length && has(n.set, input.charCodeAt(i)) && k(i + 1);
      case 'seq': {
        const go = (idx: number, j: number): boolean =>
          idx === n.items.length ? k(j) : m(n.items[idx] as RegexNode, j, (e) => go(idx + 1, e));
        return go(0, i);
      }
      case 'alt':
        return n.branches.some((b) => m(b, i, k));
      case 'repeat': {
        const rep = (count: number, j: number): boolean => {
          if (count < n.max && m(n.body, j, (e) => !(e === j && count >= n.min) && rep(count + 1, e))) return true;
          return count >= n.min && k(j);
        };
        return rep(0, i);
      }
      case 'assert': {
        const ok =
          n.kind === 'start'
            ? i === 0
            : n.kind === 'end'
              ? i === input.length
              : (isWord(input, i - 1) !== isWord(input, i)) === (n.kind === 'word');
        return ok && k(i);
      }
      case 'look': {
        let found = false;
        if (n.behind) for (let j = i; j >= 0 && !found; j--) found = m(n.body, j, (e) => e === i);
        else found = m(n.body, i, () => true);
        return found !== n.negate && k(i);
      }
    }
  };
  for (let start = 0; start <= input.length; start++) if (m(root, start, () => true)) return steps;
  return steps;
}

describe('linearTimeOnV8', () => {
  it.each([
    '^(canary-1|beta-1)$',
    '(?i)^mozilla',
    'Chrome/1[0-9]+',
    '^job-3-[0-9]+$',
    '^v[0-9]+(\\.[0-9]+)*$',
    '^(?!internal)',
    '(?<=x)y',
    'abc',
    '^$',
    '^[a-z]+=[0-9]+(;[a-z]+=[0-9]+)*$',
  ])('proves %s', (source) => {
    const ci = source.startsWith('(?i)');
    expect(linearTimeOnV8(node(ci ? source.slice(4) : source, ci))).toEqual({ proven: true });
  });

  it.each([
    ['^(a|a)*$', 'alternatives'],
    ['^(a|aa)*$', 'alternatives'],
    ['^(a|b|ab)*$', 'alternatives'],
    ['^\\s*(.*?)\\s*,\\s*(.*?)\\s*$', 'follows'],
    ['(a+)+', 'follows'],
    ['(a*)*', 'empty'],
    ['(?:\\b)+', 'empty'],
    ['a*b', 'unboundedly'],
    ['\\d+$', 'unboundedly'],
    ['(iPhone|Android).*Build/2', 'follows'],
    ['(?=a+)b', 'lookaround'],
    ['^(?:(?:a?){8}){8}b', 'empty'],
    ['(?i)^(k|K)$', 'alternatives'],
  ])('does not prove %s', (source, reason) => {
    const ci = source.startsWith('(?i)');
    const verdict = linearTimeOnV8(node(ci ? source.slice(4) : source, ci));
    expect(verdict).toMatchObject({ proven: false, reason: expect.stringContaining(reason) });
  });

  it('the step counter sees the blow-up of what it does not prove', () => {
    expect(() => backtrackingSteps(node('^(a|aa)*$'), `${'a'.repeat(40)}!`)).toThrow(TooSlow);
    const quadratic = node('a*b');
    const ratio = backtrackingSteps(quadratic, 'a'.repeat(800)) / backtrackingSteps(quadratic, 'a'.repeat(400));
    expect(ratio).toBeGreaterThan(3.5);
  });

  it('what it proves takes linear steps on repetitive input (property)', () => {
    const unit = fc.constantFrom('a', 'b', 'c', ';', '=', '1');
    const lit = fc.constantFrom('a', 'b', 'c', ';', '=', '1', '\\d', '[ab]', '[^a]', '.', '\\w');
    const quant = fc.constantFrom('', '', '*', '+', '?', '{2}', '{1,3}', '{2,}', '*?');
    const anchor = fc.constantFrom('', '', '', '^', '$', '\\b');
    const { re } = fc.letrec((tie) => ({
      atom: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        lit,
        lit,
        fc.tuple(fc.constantFrom('(', '(?:', '(?=', '(?!'), tie('re')).map(([open, inner]) => `${open}${inner})`),
      ),
      seq: fc
        .array(fc.tuple(anchor, tie('atom'), quant), { minLength: 1, maxLength: 4 })
        .map((parts) => parts.map(([a, atom, q]) => `${a}${atom}${q}`).join('')),
      re: fc.oneof(
        { depthSize: 'small' },
        tie('seq'),
        tie('seq'),
        fc.tuple(tie('seq'), tie('seq')).map(([a, b]) => `${a}|${b}`),
      ),
    }));
    let proven = 0;
    fc.assert(
      fc.property(
        re as fc.Arbitrary<string>,
        fc.string({ unit, minLength: 1, maxLength: 3 }),
        fc.string({ unit, maxLength: 2 }),
        (source, chunk, tail) => {
          try {
            new RegExp(source);
          } catch {
            return;
          }
          const parsed = parseRegex(source, false);
          if (!parsed.ok || !linearTimeOnV8(parsed.node).proven) return;
          proven++;
          const short = backtrackingSteps(parsed.node, chunk.repeat(150) + tail);
          const long = backtrackingSteps(parsed.node, chunk.repeat(300) + tail);
          expect(long, `/${source}/ on (${JSON.stringify(chunk)})*n + ${JSON.stringify(tail)}`).toBeLessThanOrEqual(
            2.5 * short + 2000,
          );
        },
      ),
      { numRuns: 1500 },
    );
    expect(proven).toBeGreaterThan(100);
  });
});
