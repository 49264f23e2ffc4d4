import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { matchesSegment, planRegex, type RegexPlan } from './regex-plan.js';

function passes(plan: RegexPlan, s: string): boolean {
  switch (plan.kind) {
    case 'exact':
      return s === plan.literal;
    case 'prefix':
      return s.startsWith(plan.literal);
    case 'suffix':
      return s.endsWith(plan.literal);
    case 'contains':
      return s.includes(plan.literal);
    case 'segment':
      return matchesSegment(s, plan.literal);
    case 'regex':
      return s.includes(plan.required);
  }
}

describe('planRegex', () => {
  it('turns literal patterns into string tests', () => {
    expect(planRegex('^true$', '')).toEqual({ kind: 'exact', literal: 'true' });
    expect(planRegex('^/api/', '')).toEqual({ kind: 'prefix', literal: '/api/' });
    expect(planRegex('\\.json$', '')).toEqual({ kind: 'suffix', literal: '.json' });
    expect(planRegex('jason', '')).toEqual({ kind: 'contains', literal: 'jason' });
    expect(planRegex('^a\\/b\\.c$', '')).toEqual({ kind: 'exact', literal: 'a/b.c' });
    expect(planRegex('^$', '')).toEqual({ kind: 'exact', literal: '' });
  });

  it("recognises Amalgam8's cookie idiom and its spelling variants", () => {
    for (const src of ['^(.*?;)?(user=jason)(;.*)?$', '^(?:.*;)?(?:user=jason)(?:;.*?)?$', '^(.*?;)?user=jason(;.*)?$'])
      expect(planRegex(src, '')).toEqual({ kind: 'segment', literal: 'user=jason' });
    expect(planRegex('^(.*?;)?(user=jason\\.x)(;.*)?$', '')).toEqual({ kind: 'segment', literal: 'user=jason.x' });
    // Not the idiom: alternation, a ';' in the literal, extra groups.
    expect(planRegex('^(.*?;)?(user=a|user=b)(;.*)?$', '').kind).toBe('regex');
    expect(planRegex('^(.*?;)?(a;b)(;.*)?$', '').kind).toBe('regex');
    expect(planRegex('^(.*?;)?(a)(b)(;.*)?$', '').kind).toBe('regex');
  });

  it('matches the idiom exactly like the regex (property)', () => {
    const unit = fc.constantFrom('u', '=', 'j', ';', ' ', 'a', '\n', '\r', '\u2028', 'user=j');
    fc.assert(
      fc.property(
        fc.string({ unit, maxLength: 12 }),
        fc.constantFrom('user=j', 'u', 'a=a', 'j j'),
        (value, literal) => {
          const regex = new RegExp(`^(.*?;)?(${literal})(;.*)?$`);
          expect(matchesSegment(value, literal)).toBe(regex.test(value));
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('finds the literal a regex requires', () => {
    expect(planRegex('^(.*?;)?(user=jason|x)(;.*)?$', '')).toEqual({ kind: 'regex', required: '' });
    expect(planRegex('^(.*?; )?(user=jason)(; .*)?$', '')).toEqual({ kind: 'regex', required: 'user=jason' });
    expect(planRegex('Mozilla/5\\.0 .*(iPhone|Android)', '')).toEqual({ kind: 'regex', required: 'Mozilla/5.0 ' });
  });

  it('stays conservative on what it does not understand', () => {
    for (const [src, flags] of [
      ['a|b', ''],
      ['\\x41BC', ''],
      ['(a)\\1', ''],
      ['abc', 'i'],
      ['(?i:abc)', ''],
      ['a?b?', ''],
    ] as const)
      expect(planRegex(src, flags)).toMatchObject({ kind: 'regex' });
    expect(planRegex('\\x41BC', '')).toEqual({ kind: 'regex', required: '' });
    expect(planRegex('ab+c', '')).toEqual({ kind: 'regex', required: 'ab' });
  });

  it('is sound: every string the regex matches passes the plan, and literal plans are exact (property)', () => {
    const lit = fc.constantFrom('a', 'b', ';', '=', '\\.', '\\/', '{', '}', ']', '-');
    const cls = fc.constantFrom('.', '[ab]', '[^a]', '[]', '[^]', '\\d', '\\s', '\\w', '[\\]a]');
    const quant = fc.constantFrom('', '', '', '*', '+', '?', '{0,2}', '{1}', '{2,}', '{1,3}', '*?', '+?', '??');
    const anchor = fc.constantFrom('', '', '', '', '^', '$', '\\b');
    const { re } = fc.letrec((tie) => ({
      atom: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        lit,
        lit,
        cls,
        fc
          .tuple(fc.constantFrom('(', '(?:', '(?=', '(?!', '(?<=', '(?<n>'), tie('re'))
          .map(([open, inner]) => `${open}${inner})`),
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
    const source = fc
      .tuple(fc.boolean(), re as fc.Arbitrary<string>, fc.boolean())
      .map(([s, r, e]) => `${s ? '^' : ''}${r}${e ? '$' : ''}`);
    const input = fc.string({
      unit: fc.constantFrom('a', 'b', ';', '=', '.', '/', '{', '}', ']', '-', '1', ' '),
      maxLength: 10,
    });
    fc.assert(
      fc.property(source, fc.array(input, { minLength: 20, maxLength: 20 }), (src, inputs) => {
        let regex: RegExp;
        try {
          regex = new RegExp(src);
        } catch {
          return; // not a valid pattern; validation rejects it before planning
        }
        const plan = planRegex(src, '');
        if (plan.kind === 'segment') return; // has its own exact property above
        for (const s of inputs) {
          const matches = regex.test(s);
          if (matches)
            expect(
              passes(plan, s),
              `/${src}/ matches ${JSON.stringify(s)} but plan ${JSON.stringify(plan)} rejects it`,
            ).toBe(true);
          if (plan.kind !== 'regex')
            expect(passes(plan, s), `/${src}/ vs ${JSON.stringify(plan)} on ${JSON.stringify(s)}`).toBe(matches);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
