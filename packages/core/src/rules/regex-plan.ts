/**
 * How a rule regex is evaluated. Many rule regexes are literals in disguise (`^true$`,
 * `^/api/`), and the rest usually contain a literal every match must include (Amalgam8's
 * cookie idiom `^(.*?;)?(user=jason)(;.*)?$` needs `user=jason`). Checking such a literal with
 * `includes` first skips most of the regex work for the requests that do not match — the common
 * case when many rules are tried in turn.
 */
export type RegexPlan =
  /** The whole pattern is `^literal$`: an equality test. */
  | { readonly kind: 'exact'; readonly literal: string }
  /** `^literal`: a `startsWith` test. */
  | { readonly kind: 'prefix'; readonly literal: string }
  /** `literal$`: an `endsWith` test. */
  | { readonly kind: 'suffix'; readonly literal: string }
  /** `literal`: an `includes` test. */
  | { readonly kind: 'contains'; readonly literal: string }
  /**
   * Amalgam8's user-matching idiom `^(.*?;)?(literal)(;.*)?$`: `literal` is one whole
   * `;`-separated segment of a value without line terminators (see {@link matchesSegment}).
   */
  | { readonly kind: 'segment'; readonly literal: string }
  /** A real regex; `required` (possibly empty) is a literal every match contains. */
  | { readonly kind: 'regex'; readonly required: string };

interface Sequence {
  /** Literal runs every match of the sequence contains. */
  required: string[];
  /** The sequence is only plain literal characters (no quantifiers, classes, groups, assertions). */
  pure: boolean;
  literal: string;
}

class Bail extends Error {}

/**
 * Plans the evaluation of `source` compiled with `flags`. Conservative by construction: any
 * construct it does not fully understand (escapes like `\x41`, backreferences, inline
 * modifiers, case-insensitive flags) yields `{kind: 'regex', required: ''}`, i.e. the plain
 * regex. Soundness — a string the regex matches always passes the plan's literal test — is
 * checked by a property test against V8's engine.
 */
export function planRegex(source: string, flags: string): RegexPlan {
  const fallback: RegexPlan = { kind: 'regex', required: '' };
  if (flags !== '') return fallback; // case folding and multiline anchors change literal semantics
  try {
    const segment = segmentLiteral(source);
    if (segment !== undefined) return { kind: 'segment', literal: segment };
    const parser = new Parser(source);
    let start = false;
    if (source.startsWith('^')) {
      start = true;
      parser.pos = 1;
    }
    const top = parser.alternation(true);
    if (parser.pos !== source.length) return fallback;
    if (top.pure && !parser.sawInnerAnchor) {
      const end = parser.endAnchor;
      const literal = top.literal;
      if (start && end) return { kind: 'exact', literal };
      if (start) return { kind: 'prefix', literal };
      if (end) return { kind: 'suffix', literal };
      return { kind: 'contains', literal };
    }
    let best = '';
    for (const r of top.required) if (r.length > best.length) best = r;
    return { kind: 'regex', required: best };
  } catch (err) {
    if (err instanceof Bail) return fallback;
    throw err;
  }
}

// `^(.*?;)?(LIT)(;.*)?$` with optional `?:` and greedy or lazy stars; LIT may be bare or grouped.
const SEGMENT_IDIOM = /^\^\((?:\?:)?\.\*\??;\)\?(?:\((?:\?:)?(.*)\)|(.*))\((?:\?:)?;\.\*\??\)\?\$$/s;
const LINE_TERMINATOR = /[\n\r\u2028\u2029]/;

/** The literal of Amalgam8's cookie idiom, when `source` is that idiom around a plain literal without `;` or line breaks. */
function segmentLiteral(source: string): string | undefined {
  const m = SEGMENT_IDIOM.exec(source);
  if (m === null) return undefined;
  const inner = m[1] ?? m[2] ?? '';
  const plan = planRegex(inner, '');
  if (plan.kind !== 'contains' || plan.literal === '') return undefined;
  if (plan.literal.includes(';') || LINE_TERMINATOR.test(plan.literal)) return undefined;
  return plan.literal;
}

/**
 * Whether `value` matches `^(.*?;)?(literal)(;.*)?$` for a literal without `;` or line
 * terminators: `literal` must be a whole `;`-separated segment (no surrounding spaces), and
 * since `.` does not match line terminators, the value must contain none. One `indexOf` scan
 * instead of the regex's backtracking over every `;`.
 */
export function matchesSegment(value: string, literal: string): boolean {
  let at = value.indexOf(literal);
  while (at >= 0) {
    const end = at + literal.length;
    if ((at === 0 || value.charCodeAt(at - 1) === 59) && (end === value.length || value.charCodeAt(end) === 59))
      return !LINE_TERMINATOR.test(value);
    at = value.indexOf(literal, at + 1);
  }
  return false;
}

const CONTROL_ESCAPES: Readonly<Record<string, string>> = { n: '\n', r: '\r', t: '\t', f: '\f', v: '\v' };

class Parser {
  pos = 0;
  endAnchor = false;
  sawInnerAnchor = false;
  constructor(private readonly src: string) {}

  /** Alternatives up to `)` or the end. With several alternatives nothing is known to be required. */
  alternation(top: boolean): Sequence {
    const first = this.sequence(top);
    if (this.src[this.pos] !== '|') return first;
    while (this.src[this.pos] === '|') {
      this.pos++;
      this.sequence(top);
    }
    this.endAnchor = false; // `a|b$` anchors only one branch
    return { required: [], pure: false, literal: '' };
  }

  private sequence(top: boolean): Sequence {
    const required: string[] = [];
    let run = '';
    let pure = true;
    const flush = (): void => {
      if (run !== '') required.push(run);
      run = '';
    };
    const src = this.src;
    while (this.pos < src.length) {
      const c = src[this.pos] as string;
      if (c === '|' || c === ')') break;
      if (c === '$') {
        this.pos++;
        if (top && this.pos === src.length) this.endAnchor = true;
        else {
          this.sawInnerAnchor = true;
          pure = false;
          flush();
        }
        continue;
      }
      if (c === '^') {
        this.pos++;
        this.sawInnerAnchor = true;
        pure = false;
        flush();
        continue;
      }
      if (c === '*' || c === '+' || c === '?') throw new Bail(); // nothing to repeat: not valid anyway
      if (c === '(') {
        const group = this.group();
        const min = this.quantifier();
        pure = false;
        flush();
        if (group !== undefined && min >= 1) required.push(...group.required);
        continue;
      }
      // A single-character atom: a literal (char) or a class / assertion (undefined).
      const atom = this.atom();
      const quantified = this.pos < src.length && this.startsQuantifier();
      const min = quantified ? this.quantifier() : 1;
      if (atom === undefined) {
        pure = false;
        flush();
        continue;
      }
      if (quantified) {
        pure = false;
        if (min >= 1) run += atom; // at least one occurrence; the run cannot continue past a repeat
        flush();
        continue;
      }
      run += atom;
    }
    if (!pure) flush();
    return pure
      ? { required: run === '' ? [] : [run], pure: true, literal: run }
      : { required, pure: false, literal: '' };
  }

  /** Parses `( … )`; returns undefined for lookarounds (they consume nothing). */
  private group(): Sequence | undefined {
    const src = this.src;
    this.pos++; // (
    let lookaround = false;
    if (src[this.pos] === '?') {
      const next = src[this.pos + 1];
      if (next === ':') this.pos += 2;
      else if (next === '=' || next === '!') {
        lookaround = true;
        this.pos += 2;
      } else if (next === '<' && (src[this.pos + 2] === '=' || src[this.pos + 2] === '!')) {
        lookaround = true;
        this.pos += 3;
      } else if (next === '<') {
        const close = src.indexOf('>', this.pos);
        if (close < 0) throw new Bail();
        this.pos = close + 1;
      } else throw new Bail(); // inline modifiers and anything newer
    }
    const savedEnd = this.endAnchor;
    const inner = this.alternation(false);
    this.endAnchor = savedEnd;
    if (src[this.pos] !== ')') throw new Bail();
    this.pos++;
    if (lookaround) return undefined;
    return inner;
  }

  /** One atom: its literal character, or undefined for classes, `.`, and assertions like `\b`. */
  private atom(): string | undefined {
    const src = this.src;
    const c = src[this.pos] as string;
    if (c === '.') {
      this.pos++;
      return undefined;
    }
    if (c === '[') {
      let i = this.pos + 1;
      if (src[i] === '^') i++;
      while (i < src.length && src[i] !== ']') i += src[i] === '\\' ? 2 : 1;
      if (i >= src.length) throw new Bail();
      this.pos = i + 1;
      return undefined;
    }
    if (c === '\\') {
      const e = src[this.pos + 1];
      if (e === undefined) throw new Bail();
      this.pos += 2;
      if ('dDwWsSbB'.includes(e)) return undefined;
      const control = CONTROL_ESCAPES[e];
      if (control !== undefined) return control;
      if (/[A-Za-z0-9_]/.test(e)) throw new Bail(); // \x41, \u…, \c…, \0, backreferences, \k<…>, \p{…}
      return e; // identity escape of punctuation: \. \/ \- \\ …
    }
    if (c === '{' && this.startsQuantifier()) throw new Bail(); // `{2}` with nothing to repeat
    this.pos++;
    return c;
  }

  private startsQuantifier(): boolean {
    const rest = this.src.slice(this.pos, this.pos + 24);
    return /^(?:[*+?]|\{\d+(?:,\d*)?\})/.test(rest);
  }

  /** Consumes a quantifier if present and returns its minimum count (1 when there is none). */
  private quantifier(): number {
    const src = this.src;
    const c = src[this.pos];
    let min = 1;
    if (c === '*' || c === '?') {
      min = 0;
      this.pos++;
    } else if (c === '+') this.pos++;
    else if (c === '{') {
      const m = /^\{(\d+)(?:,\d*)?\}/.exec(src.slice(this.pos));
      if (m === null) return 1; // a literal `{`, handled as the next atom
      min = Number(m[1]);
      this.pos += m[0].length;
    } else return 1;
    if (src[this.pos] === '?') this.pos++; // lazy
    return min;
  }
}
