/**
 * A guard against the regular expressions that make V8's backtracking engine take exponential
 * time: a group repeated without bound (`*`, `+`, `{n,}`) whose body can match the same text in
 * many ways because it is itself made only of unbounded repetitions and optional parts —
 * `(a+)+`, `(\w+\s?)*`, `(a|a+)*`, `((ab)*)+`. A rule's patterns run on request headers, which a
 * client controls, so one such pattern lets any client stall the proxy (ReDoS).
 *
 * This is a heuristic, not a proof: it accepts `(\w+\.)*\w+` (the mandatory `.` separates the
 * repetitions) and it misses overlapping forms such as `(a+a)+`. Deployments that take rules
 * from untrusted authors should also run Node with V8's linear-time fallback
 * (`--enable-experimental-regexp-engine-on-excessive-backtracks`).
 */

/** One element of a sequence: whether it may match nothing, and whether it repeats without bound. */
interface Element {
  optional: boolean;
  unbounded: boolean;
  /** The element is a group (or atom) whose body is ambiguous under repetition. */
  ambiguous: boolean;
}

/** The result of parsing a group body: is it made only of unbounded or optional elements? */
interface Body {
  /** Some alternative consists only of unbounded or optional elements, with at least one unbounded. */
  repeatsFreely: boolean;
  /** Some alternative can match the empty string. */
  nullable: boolean;
  /** A nested repeated group was already found exponential. */
  exponential: string | undefined;
}

class Parser {
  private i = 0;
  constructor(private readonly src: string) {}

  /** Parses alternatives up to `)` or the end. */
  body(): Body {
    let repeatsFreely = false;
    let nullable = false;
    let exponential: string | undefined;
    for (;;) {
      const seq: Element[] = [];
      while (this.i < this.src.length && this.src[this.i] !== '|' && this.src[this.i] !== ')') {
        const start = this.i;
        const atom = this.atom();
        if (atom.exponential !== undefined) exponential ??= atom.exponential;
        const q = this.quantifier();
        const element: Element = {
          optional: q.min === 0 || atom.nullable,
          unbounded: q.unbounded,
          ambiguous: atom.repeatsFreely,
        };
        if (q.unbounded && (atom.repeatsFreely || (atom.group && atom.nullable)))
          exponential ??= this.src.slice(start, this.i);
        seq.push(element);
      }
      const onlyLoose = seq.every((e) => e.optional || e.unbounded || e.ambiguous);
      if (onlyLoose && seq.some((e) => e.unbounded || e.ambiguous)) repeatsFreely = true;
      if (seq.every((e) => e.optional)) nullable = true;
      if (this.src[this.i] === '|') {
        this.i++;
        continue;
      }
      break;
    }
    return { repeatsFreely, nullable, exponential };
  }

  /** One atom: a group, a class, an escape or a character. */
  private atom(): Body & { group: boolean } {
    const s = this.src;
    const c = s[this.i];
    if (c === '(') {
      this.i++;
      let lookaround = false;
      if (s[this.i] === '?') {
        // (?:…), (?=…), (?!…), (?<=…), (?<!…), (?<name>…)
        const next = s[this.i + 1];
        if (next === '=' || next === '!') {
          lookaround = true;
          this.i += 2;
        } else if (next === '<' && (s[this.i + 2] === '=' || s[this.i + 2] === '!')) {
          lookaround = true;
          this.i += 3;
        } else if (next === '<') this.skipPast('>');
        else this.i += 2;
      }
      const inner = this.body();
      if (s[this.i] === ')') this.i++;
      // A lookaround matches no text: it neither repeats nor consumes.
      if (lookaround) return { repeatsFreely: false, nullable: true, exponential: inner.exponential, group: false };
      return { ...inner, group: true };
    }
    if (c === '[') {
      this.i++;
      if (s[this.i] === '^') this.i++;
      if (s[this.i] === ']') this.i++;
      while (this.i < s.length && s[this.i] !== ']') this.i += s[this.i] === '\\' ? 2 : 1;
      this.i++;
      return { repeatsFreely: false, nullable: false, exponential: undefined, group: false };
    }
    if (c === '\\') {
      const e = s[this.i + 1];
      this.i += 2;
      // \b, \B match no text; \k<name> and \1 are back-references (treated as text).
      if (e === 'k' && s[this.i] === '<') this.skipPast('>');
      else if ((e === 'u' || e === 'p' || e === 'P') && s[this.i] === '{') this.skipPast('}');
      return { repeatsFreely: false, nullable: e === 'b' || e === 'B', exponential: undefined, group: false };
    }
    this.i++;
    // ^ and $ match no text.
    return { repeatsFreely: false, nullable: c === '^' || c === '$', exponential: undefined, group: false };
  }

  /** Moves past the next `ch` (a group name's `>`, an escape's `}`), or to the end. */
  private skipPast(ch: string): void {
    const close = this.src.indexOf(ch, this.i);
    this.i = close < 0 ? this.src.length : close + 1;
  }

  /** A quantifier after an atom (or none): its minimum and whether it is unbounded. */
  private quantifier(): { min: number; unbounded: boolean } {
    const s = this.src;
    const c = s[this.i];
    let q: { min: number; unbounded: boolean } = { min: 1, unbounded: false };
    if (c === '*') q = { min: 0, unbounded: true };
    else if (c === '+') q = { min: 1, unbounded: true };
    else if (c === '?') q = { min: 0, unbounded: false };
    else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(s.slice(this.i));
      if (m === null) return q;
      this.i += m[0].length;
      if (s[this.i] === '?') this.i++;
      const min = Number(m[1]);
      return { min, unbounded: m[2] !== undefined && m[3] === '' };
    } else return q;
    this.i++;
    if (s[this.i] === '?') this.i++; // lazy: same backtracking, other order
    return q;
  }
}

/**
 * Why `source` (a JavaScript regular expression that compiles) can take exponential time, or
 * undefined when the heuristic finds no such construct.
 */
export function exponentialBacktracking(source: string): string | undefined {
  const parser = new Parser(source);
  const part = parser.body().exponential;
  return part === undefined
    ? undefined
    : `${JSON.stringify(part)} repeats a group that can match the same text in many ways, which can take exponential time on a crafted header; write it without the nested repetition`;
}
