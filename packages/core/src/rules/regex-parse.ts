import {
  type CharSet,
  caseClosure,
  complement,
  DIGIT,
  DOT,
  EMPTY,
  fromRanges,
  SPACE,
  single,
  union,
  WORD,
} from './char-set.js';
import { EMPTY_SEQ, type RegexNode } from './regex-ast.js';

/** Deeper group nesting is refused: the parser and the analyses recurse once per level. */
export const MAX_GROUP_DEPTH = 64;

export type ParseResult = { ok: true; node: RegexNode } | { ok: false; message: string };

class Unsupported extends Error {}

/**
 * Parses a JavaScript regular expression without the `u` or `v` flag — ECMA-262 with its
 * Annex B web-compatibility grammar, the one `new RegExp(source)` uses — into a
 * {@link RegexNode}. `source` must already compile with `new RegExp(source, ignoreCase ? 'i' : '')`;
 * the parser relies on that for the syntax errors and only refuses what the linear-time engine
 * cannot express — back-references — and what it does not support: modifier groups (`(?i:…)`)
 * and nesting deeper than {@link MAX_GROUP_DEPTH}.
 */
export function parseRegex(source: string, ignoreCase: boolean): ParseResult {
  try {
    const parser = new Parser(source, ignoreCase);
    const node = parser.disjunction(0);
    if (parser.pos !== source.length) throw new Unsupported(`unexpected ${JSON.stringify(source[parser.pos])}`);
    return { ok: true, node };
  } catch (err) {
    if (err instanceof Unsupported) return { ok: false, message: err.message };
    throw err;
  }
}

const CONTROL_ESCAPES: Readonly<Record<string, number>> = { f: 0x0c, n: 0x0a, r: 0x0d, t: 0x09, v: 0x0b };
const HEX2 = /^[0-9A-Fa-f]{2}/;
const HEX4 = /^[0-9A-Fa-f]{4}/;
const BRACED = /^\{(\d+)(?:(,)(\d*))?\}/;

function isAsciiLetter(c: string | undefined): boolean {
  return c !== undefined && /^[A-Za-z]$/.test(c);
}

/** Capturing groups (numbered and named) of a valid pattern, for telling `\3` from an octal escape. */
function countGroups(src: string): { count: number; named: boolean } {
  let count = 0;
  let named = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === '\\') i++;
    else if (c === '[') {
      for (i++; i < src.length && src[i] !== ']'; i++) if (src[i] === '\\') i++;
    } else if (c === '(') {
      if (src[i + 1] !== '?') count++;
      else if (src[i + 2] === '<' && src[i + 3] !== '=' && src[i + 3] !== '!') {
        count++;
        named = true;
      }
    }
  }
  return { count, named };
}

class Parser {
  pos = 0;
  private readonly groups: number;
  private readonly namedGroups: boolean;
  private readonly ignoreCase: boolean;

  constructor(
    private readonly src: string,
    ignoreCase: boolean,
  ) {
    this.ignoreCase = ignoreCase;
    const g = countGroups(src);
    this.groups = g.count;
    this.namedGroups = g.named;
  }

  disjunction(depth: number): RegexNode {
    if (depth > MAX_GROUP_DEPTH) throw new Unsupported(`groups nest more than ${MAX_GROUP_DEPTH} levels deep`);
    const branches: RegexNode[] = [this.alternative(depth)];
    while (this.src[this.pos] === '|') {
      this.pos++;
      branches.push(this.alternative(depth));
    }
    return branches.length === 1 ? (branches[0] as RegexNode) : { type: 'alt', branches };
  }

  private alternative(depth: number): RegexNode {
    const items: RegexNode[] = [];
    while (this.pos < this.src.length && this.src[this.pos] !== '|' && this.src[this.pos] !== ')') {
      items.push(this.term(depth));
    }
    if (items.length === 0) return EMPTY_SEQ;
    return items.length === 1 ? (items[0] as RegexNode) : { type: 'seq', items };
  }

  private term(depth: number): RegexNode {
    const s = this.src;
    const c = s[this.pos] as string;
    if (c === '^' || c === '$') {
      this.pos++;
      return { type: 'assert', kind: c === '^' ? 'start' : 'end' };
    }
    if (c === '\\' && (s[this.pos + 1] === 'b' || s[this.pos + 1] === 'B')) {
      this.pos += 2;
      return { type: 'assert', kind: s[this.pos - 1] === 'b' ? 'word' : 'not_word' };
    }
    return this.quantified(this.atom(depth));
  }

  /** Applies a following quantifier, if any, to `atom`. */
  private quantified(atom: RegexNode): RegexNode {
    const s = this.src;
    const c = s[this.pos];
    let min: number;
    let max: number;
    if (c === '*' || c === '+' || c === '?') {
      this.pos++;
      min = c === '+' ? 1 : 0;
      max = c === '?' ? 1 : Number.POSITIVE_INFINITY;
    } else if (c === '{') {
      const m = BRACED.exec(s.slice(this.pos, this.pos + 40));
      if (m === null) return atom; // a literal `{` follows (Annex B)
      this.pos += m[0].length;
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === '' ? Number.POSITIVE_INFINITY : Number(m[3]);
    } else return atom;
    if (s[this.pos] === '?') this.pos++; // lazy: the same strings match
    return { type: 'repeat', body: atom, min, max };
  }

  /** One atom: a group, a class, `.`, an escape or a literal code unit. */
  private atom(depth: number): RegexNode {
    const s = this.src;
    const c = s[this.pos] as string;
    if (c === '(') return this.group(depth);
    if (c === '[') return this.chars(this.charClass(), true);
    if (c === '.') {
      this.pos++;
      return this.chars(DOT, true);
    }
    if (c === '\\') return this.chars(this.atomEscape());
    this.pos++;
    return this.chars(single(c.charCodeAt(0)));
  }

  /** A `chars` node; `folded`: the set already accounts for case-insensitivity (classes, `.`). */
  private chars(set: CharSet, folded = false): RegexNode {
    return { type: 'chars', set: this.ignoreCase && !folded ? caseClosure(set) : set };
  }

  private group(depth: number): RegexNode {
    const s = this.src;
    this.pos++; // (
    if (s[this.pos] !== '?') return this.groupBody(depth);
    const next = s[this.pos + 1];
    if (next === ':') {
      this.pos += 2;
      return this.groupBody(depth);
    }
    if (next === '=' || next === '!') {
      this.pos += 2;
      return { type: 'look', behind: false, negate: next === '!', body: this.groupBody(depth) };
    }
    if (next === '<' && (s[this.pos + 2] === '=' || s[this.pos + 2] === '!')) {
      const negate = s[this.pos + 2] === '!';
      this.pos += 3;
      return { type: 'look', behind: true, negate, body: this.groupBody(depth) };
    }
    if (next === '<') {
      this.pos = s.indexOf('>', this.pos) + 1; // a named group; the name does not matter here
      return this.groupBody(depth);
    }
    // `(?i:…)`-style modifier groups: new (Node 24, not 22), and V8 mis-scopes them in some
    // alternations; the documented way is a leading `(?i)` for the whole pattern.
    throw new Unsupported(
      'modifier groups such as (?i:…) are not supported; a leading (?i) makes the whole pattern case-insensitive',
    );
  }

  private groupBody(depth: number): RegexNode {
    const body = this.disjunction(depth + 1);
    this.pos++; // )
    return body;
  }

  /** `\…` outside a class (not `\b` / `\B`, which `term` handled). */
  private atomEscape(): CharSet {
    const s = this.src;
    const e = s[this.pos + 1] as string;
    if (e >= '1' && e <= '9') {
      const digits = /^\d+/.exec(s.slice(this.pos + 1))?.[0] ?? e;
      if (Number(digits) <= this.groups)
        throw new Unsupported('back-references (\\1, \\k<name>) are not supported in rule patterns');
    }
    if (e === 'k' && this.namedGroups)
      throw new Unsupported('back-references (\\1, \\k<name>) are not supported in rule patterns');
    return this.characterEscape(false);
  }

  /**
   * A character or class escape at `pos` (the backslash), inside or outside a class, with
   * Annex B's legacy forms: octal escapes, identity escapes of letters, `\c` without a letter.
   */
  private characterEscape(inClass: boolean): CharSet {
    const s = this.src;
    const e = s[this.pos + 1] as string;
    this.pos += 2;
    switch (e) {
      case 'd':
        return DIGIT;
      case 'D':
        return complement(DIGIT);
      case 'w':
        return WORD;
      case 'W':
        return complement(WORD);
      case 's':
        return SPACE;
      case 'S':
        return complement(SPACE);
    }
    const control = CONTROL_ESCAPES[e];
    if (control !== undefined) return single(control);
    if (e === 'b' && inClass) return single(0x08);
    if (e === 'c') {
      const letter = s[this.pos];
      if (isAsciiLetter(letter) || (inClass && letter !== undefined && /^[0-9_]$/.test(letter))) {
        this.pos++;
        return single((letter as string).charCodeAt(0) % 32);
      }
      this.pos--; // Annex B: a backslash, then `c` as the next character
      return single(0x5c);
    }
    if (e === 'x' || e === 'u') {
      const m = (e === 'x' ? HEX2 : HEX4).exec(s.slice(this.pos));
      if (m === null) return single(e.charCodeAt(0)); // Annex B identity escape
      this.pos += m[0].length;
      return single(Number.parseInt(m[0], 16));
    }
    if (e >= '0' && e <= '7') {
      // Legacy octal (Annex B): up to three digits, at most 0o377; `\0` alone is NUL.
      const m = /^(?:[0-3][0-7]{0,2}|[4-7][0-7]?)/.exec(s.slice(this.pos - 1)) as RegExpExecArray;
      this.pos += m[0].length - 1;
      return single(Number.parseInt(m[0], 8));
    }
    return single(e.charCodeAt(0)); // identity escape: `\.`, `\8`, `\k`, `\a`, `\p` …
  }

  /** `[…]` or `[^…]`, with case folding left to the caller. */
  private charClass(): CharSet {
    const s = this.src;
    this.pos++; // [
    const negate = s[this.pos] === '^';
    if (negate) this.pos++;
    let set: CharSet = EMPTY;
    while (s[this.pos] !== ']') {
      const lo = this.classAtom();
      if (s[this.pos] === '-' && s[this.pos + 1] !== ']' && this.pos + 1 < s.length) {
        this.pos++;
        const hi = this.classAtom();
        if (lo.single !== undefined && hi.single !== undefined) {
          set = union(set, fromRanges([[lo.single, hi.single]]));
          continue;
        }
        // Annex B: a range with a class escape at either end is the union of both ends and `-`.
        set = union(union(set, lo.set), union(hi.set, single(0x2d)));
        continue;
      }
      set = union(set, lo.set);
    }
    this.pos++; // ]
    const folded = this.ignoreCase ? caseClosure(set) : set;
    // Negation comes after folding, as ECMA-262's CharacterSetMatcher inverts the folded test.
    return negate ? complement(folded) : folded;
  }

  private classAtom(): { set: CharSet; single: number | undefined } {
    const s = this.src;
    if (s[this.pos] !== '\\') {
      const unit = s.charCodeAt(this.pos);
      this.pos++;
      return { set: single(unit), single: unit };
    }
    const classEscape = 'dDwWsS'.includes(s[this.pos + 1] as string);
    const set = this.characterEscape(true);
    return { set, single: classEscape ? undefined : set[0] };
  }
}
