import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseRegex } from './regex-parse.js';
import { Re2Pattern } from './regex-re2.js';

function re2(source: string, ignoreCase = false): Re2Pattern {
  const parsed = parseRegex(source, ignoreCase);
  if (!parsed.ok) throw new Error(parsed.message);
  const compiled = Re2Pattern.compile(parsed.node);
  if (!(compiled instanceof Re2Pattern)) throw new Error(compiled.problem);
  return compiled;
}

/** Patterns built from the constructs whose meaning differs between JavaScript and RE2. */
const patternArb = (() => {
  const lit = fc.constantFrom(
    'a',
    'b',
    'A',
    'k',
    ';',
    ' ',
    '\\.',
    '\\/',
    '-',
    'é',
    'É',
    '\\u212a',
    '\\ud83d',
    '\\ude00',
    '\\n',
    '\\x41',
    '\\t',
    '\\0',
    '\\cJ',
    '\\a',
    '\\8',
    '\\101',
    '{',
    '}',
    ']',
  );
  const cls = fc.constantFrom(
    '.',
    '[ab]',
    '[^a]',
    '[]',
    '[^]',
    '\\d',
    '\\D',
    '\\s',
    '\\S',
    '\\w',
    '\\W',
    '[a-z]',
    '[^\\s]',
    '[\\ud800-\\udbff]',
    '[a-\\d]',
    '[\\b]',
    '[-a]',
    '[a-]',
    '[\\cJ]',
    '[\\c1]',
  );
  const quant = fc.constantFrom('', '', '', '*', '+', '?', '{0,2}', '{1}', '{2,}', '{1,3}', '*?', '+?', '??');
  const anchor = fc.constantFrom('', '', '', '', '^', '$', '\\b', '\\B');
  const { re } = fc.letrec((tie) => ({
    atom: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      lit,
      lit,
      cls,
      fc.tuple(fc.constantFrom('(', '(?:', '(?<n>'), tie('re')).map(([open, inner]) => `${open}${inner})`),
    ),
    seq: fc
      .array(fc.tuple(anchor, tie('atom'), quant), { maxLength: 4 })
      .map((parts) => parts.map(([a, atom, q]) => `${a}${atom}${q}`).join('')),
    re: fc.oneof(
      { depthSize: 'small' },
      tie('seq'),
      tie('seq'),
      fc.tuple(tie('seq'), tie('seq')).map(([a, b]) => `${a}|${b}`),
    ),
  }));
  return re as fc.Arbitrary<string>;
})();

const inputArb = fc.string({
  unit: fc.constantFrom(
    'a',
    'b',
    'A',
    'B',
    'k',
    'K',
    '\u212a',
    ';',
    ' ',
    '.',
    '/',
    '-',
    'é',
    'É',
    '\n',
    '\r',
    '\t',
    '\u2028',
    '\u00a0',
    '\u0000',
    '\u0008',
    '1',
    '{',
    '\\',
    '\ud83d',
    '\ude00',
    '😀',
    '\ud83d\ud83d',
  ),
  maxLength: 8,
});

describe('Re2Pattern', () => {
  it('agrees with V8 on JavaScript semantics (property)', () => {
    fc.assert(
      fc.property(patternArb, fc.boolean(), fc.array(inputArb, { minLength: 25, maxLength: 25 }), (src, ci, inputs) => {
        let regex: RegExp;
        try {
          regex = new RegExp(src, ci ? 'i' : '');
        } catch {
          return; // not a valid pattern (nothing to repeat, …): validation rejects it first
        }
        const parsed = parseRegex(src, ci);
        if (!parsed.ok) return; // back-references cannot be generated; nothing else is refused
        const compiled = Re2Pattern.compile(parsed.node);
        expect(compiled, src).toBeInstanceOf(Re2Pattern);
        for (const s of inputs)
          expect((compiled as Re2Pattern).test(s), `/${src}/${ci ? 'i' : ''} on ${JSON.stringify(s)}`).toBe(
            regex.test(s),
          );
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps the differences that matter in headers', () => {
    // JavaScript's `.` stops at \r and U+2028 (RE2's only at \n); `\s` includes NBSP; `$` is the very end.
    expect(re2('^a.b$').test('a\rb')).toBe(false);
    expect(re2('^a.b$').test('a\u2028b')).toBe(false);
    expect(re2('^a\\sb$').test('a\u00a0b')).toBe(true);
    expect(re2('a$').test('a\n')).toBe(false);
    // Without `u`, a surrogate pair is two characters.
    expect(re2('^.$').test('😀')).toBe(false);
    expect(re2('^..$').test('😀')).toBe(true);
    expect(re2('^\\ud83d').test('😀')).toBe(true);
    // Case folding without `u`: the Kelvin sign is not a K, ſ is not an s.
    expect(re2('k', true).test('\u212a')).toBe(false);
    expect(re2('s', true).test('ſ')).toBe(false);
    expect(re2('[^a]', true).test('A')).toBe(false);
  });

  it('reports what RE2 cannot express', () => {
    const parsed = parseRegex('a{2000}', false);
    expect(parsed.ok && Re2Pattern.compile(parsed.node)).toMatchObject({
      problem: expect.stringContaining('too large'),
    });
    const look = parseRegex('(?=a+)', false);
    expect(look.ok && Re2Pattern.compile(look.node)).toMatchObject({ problem: expect.stringContaining('lookaround') });
  });
});
