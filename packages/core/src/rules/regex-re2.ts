/**
 * Runs a rule regex on RE2 — `re2js`, a pure-JavaScript port of RE2 whose matching time is
 * linear in the input whatever the pattern — with exactly the JavaScript semantics the rule
 * author wrote. The pattern is not handed to RE2 as text (RE2's `\s`, `.`, `(?i)`, `$` differ from
 * JavaScript's): it is re-emitted from the parsed {@link RegexNode}, where every class, `.`, and
 * case-insensitive letter is already an explicit set of code units, and `^` / `$` become `\A` /
 * `\z`.
 *
 * One more difference remains and is bridged here: a JavaScript regex without `u` matches UTF-16
 * code units, RE2 matches code points, so a surrogate pair would be one character to RE2 and two
 * to the rule. Surrogate code units (in the pattern's sets and in the value) are therefore moved
 * one-to-one onto the private-use code points U+10F800–U+10FFFF, which no moved value contains
 * otherwise. Values without surrogates — every header value, since headers are Latin-1 — are
 * passed through untouched.
 */
import { RE2JS } from 're2js';
import type { CharSet } from './char-set.js';
import type { RegexNode } from './regex-ast.js';

const SURROGATE_LO = 0xd800;
const SURROGATE_HI = 0xdfff;
/** Where surrogate code units are moved: plane 16's last 2048 private-use code points. */
const MOVED_BASE = 0x10f800;
const SURROGATE = /[\uD800-\uDFFF]/;
const SURROGATES = /[\uD800-\uDFFF]/g;

function moveSurrogate(unit: string): string {
  return String.fromCodePoint(MOVED_BASE + unit.charCodeAt(0) - SURROGATE_LO);
}

/** A rule regex compiled for RE2. */
export class Re2Pattern {
  private constructor(private readonly re: RE2JS) {}

  /**
   * Compiles `node` for RE2, or returns why it cannot: lookarounds (RE2 has none) or a
   * pattern above RE2's size limits (a repetition count above 1000, nested counts whose product
   * is above 1000).
   */
  static compile(node: RegexNode): Re2Pattern | { problem: string } {
    let source: string;
    try {
      source = emit(node);
    } catch (err) {
      if (err instanceof Inexpressible) return { problem: err.message };
      throw err;
    }
    try {
      return new Re2Pattern(RE2JS.compile(source));
    } catch (err) {
      const detail = err instanceof Error ? err.message.replace(/^error parsing regexp: /, '') : String(err);
      return { problem: `too large for the linear-time engine (${detail}); use smaller repetition counts` };
    }
  }

  /** Whether `value` contains a match (a search, like `RegExp.test`). */
  test(value: string): boolean {
    return this.re.test(SURROGATE.test(value) ? value.replace(SURROGATES, moveSurrogate) : value);
  }
}

class Inexpressible extends Error {}

function emit(node: RegexNode): string {
  switch (node.type) {
    case 'chars':
      return charClass(node.set);
    case 'seq':
      return node.items.length === 0 ? '(?:)' : node.items.map(emit).join('');
    case 'alt':
      return `(?:${node.branches.map(emit).join('|')})`;
    case 'repeat':
      return `(?:${emit(node.body)})${quantifier(node.min, node.max)}`;
    case 'assert':
      return node.kind === 'start' ? '\\A' : node.kind === 'end' ? '\\z' : node.kind === 'word' ? '\\b' : '\\B';
    case 'look':
      throw new Inexpressible('lookarounds ((?=…), (?!…), (?<=…), (?<!…)) have no linear-time equivalent');
  }
}

function quantifier(min: number, max: number): string {
  if (max === Number.POSITIVE_INFINITY) return min === 0 ? '*' : min === 1 ? '+' : `{${min},}`;
  if (min === 0 && max === 1) return '?';
  return min === max ? `{${min}}` : `{${min},${max}}`;
}

const hex = (cp: number): string => `\\x{${cp.toString(16)}}`;

/** `[…]` of explicit code points, surrogates moved; an empty set becomes a class that never matches. */
function charClass(set: CharSet): string {
  if (set.length === 0) return '[^\\x{0}-\\x{10ffff}]';
  let out = '';
  const range = (lo: number, hi: number): void => {
    out += lo === hi ? hex(lo) : `${hex(lo)}-${hex(hi)}`;
  };
  for (let i = 0; i < set.length; i += 2) {
    const lo = set[i] as number;
    const hi = set[i + 1] as number;
    if (hi < SURROGATE_LO || lo > SURROGATE_HI) {
      range(lo, hi);
      continue;
    }
    if (lo < SURROGATE_LO) range(lo, SURROGATE_LO - 1);
    range(
      MOVED_BASE + Math.max(lo, SURROGATE_LO) - SURROGATE_LO,
      MOVED_BASE + Math.min(hi, SURROGATE_HI) - SURROGATE_LO,
    );
    if (hi > SURROGATE_HI) range(SURROGATE_HI + 1, hi);
  }
  return `[${out}]`;
}
