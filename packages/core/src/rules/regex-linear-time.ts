/**
 * A proof, when one exists, that V8's backtracking engine runs a rule regex in time linear in
 * the length of the value it searches. Rule regexes run on header values a client controls, so
 * a pattern without such a proof runs on the linear-time RE2 engine instead (`regex-re2.ts`).
 *
 * The proof has three parts; a pattern that fails any of them is "not proven", never "unsafe".
 *
 * 1. **Deterministic choices.** At every choice point — an alternation, or a quantifier deciding
 *    between one more iteration and leaving — the branches can start with different things
 *    only: their FIRST sets (code units, end of input, an assertion-guarded match, a never-
 *    matching class), each taken with what follows the choice, are disjoint. Then at most one
 *    explored path ever consumes a given position of the input from a given start: a second one
 *    would have split from the first at a choice point whose branches both start with the code
 *    unit at that position. Together with (2), one start position costs O(n·m) for a value of
 *    length n and a pattern of size m. `(a|a)*`, `(a|ab)*`, `\s*(.*?)\s*,` all fail this.
 * 2. **No empty loops.** A repeated part that can match empty text would let the paths multiply
 *    without consuming anything; `(a*)*` and `(?:\b)+` fail.
 * 3. **Bounded work at the other start positions.** A search tries every start position. From
 *    a position other than 0, a path that fails has consumed at most D code units, where D is
 *    the most a path consumes before it reaches a point from which the end of the pattern is
 *    reachable without consuming or asserting anything (from there the match succeeds and the
 *    search stops), or dies on a `^`. D must be finite: `^a*b` (anchored) and `Chrome/[0-9]+`
 *    (the loop can end the match) qualify, `a*b` and `\d+$` (quadratic on `aaaa…`, `1111…x`)
 *    do not. Then the search costs O(n·(D+1)·m).
 *
 * Lookarounds are atomic in JavaScript: each evaluation is a separate bounded search when the
 * body has a bounded length and at most {@link MAX_LOOKAROUND_PATHS} paths. Back-references
 * never reach this analysis (the parser refuses them).
 */
import { type CharSet, EMPTY, intersects, union } from './char-set.js';
import type { RegexNode } from './regex-ast.js';

/** Most paths through a lookaround body for it to count as constant work per evaluation. */
export const MAX_LOOKAROUND_PATHS = 64;

export type LinearTimeVerdict = { proven: true } | { proven: false; reason: string };

/** Proves, or fails to prove, that V8 runs `node` (as a search) in linear time. */
export function linearTimeOnV8(node: RegexNode): LinearTimeVerdict {
  try {
    new Checker().check(node, ACCEPT);
  } catch (err) {
    if (err instanceof NotProven) return { proven: false, reason: err.message };
    throw err;
  }
  const depth = preAcceptDepth(node, true);
  if (depth.stop === Number.POSITIVE_INFINITY)
    return {
      proven: false,
      reason: 'an unanchored search can consume unboundedly many characters before it fails',
    };
  return { proven: true };
}

class NotProven extends Error {}

/** What a path can do first. `guarded`: reach a successful end only through an assertion. */
interface Tokens {
  readonly chars: CharSet;
  readonly end: boolean;
  readonly never: boolean;
  readonly guarded: boolean;
  readonly accept: boolean;
}

const NONE: Tokens = { chars: EMPTY, end: false, never: false, guarded: false, accept: false };
const ACCEPT: Tokens = { ...NONE, accept: true };

function merge(a: Tokens, b: Tokens): Tokens {
  return {
    chars: union(a.chars, b.chars),
    end: a.end || b.end,
    never: a.never || b.never,
    guarded: a.guarded || b.guarded,
    accept: a.accept || b.accept,
  };
}

/**
 * Whether two branches can both get past their first step on the same input. A plain accept
 * conflicts with nothing: whichever branch reaches it ends the search successfully.
 */
function conflict(a: Tokens, b: Tokens): boolean {
  return intersects(a.chars, b.chars) || (a.end && b.end) || (a.never && b.never) || (a.guarded && b.guarded);
}

/** The FIRST summary of a node on its own: its first tokens, and how it can be crossed without consuming. */
interface NodeFirst {
  readonly tokens: Tokens;
  /** Crossable consuming nothing and asserting nothing. */
  readonly pure: boolean;
  /** Crossable consuming nothing, through assertions other than `$`. */
  readonly guarded: boolean;
  /** Can match the empty string in any way (including through `$`). */
  readonly empty: boolean;
}

/** FIRST of `node` followed by `follow`. */
function compose(f: NodeFirst, follow: Tokens): Tokens {
  let out = f.tokens;
  if (f.pure) out = merge(out, follow);
  if (f.guarded && (follow.accept || follow.guarded)) out = merge(out, { ...follow, accept: false, guarded: true });
  else if (f.guarded) out = merge(out, follow);
  return out;
}

class Checker {
  private readonly memo = new WeakMap<RegexNode, NodeFirst>();

  first(node: RegexNode): NodeFirst {
    const known = this.memo.get(node);
    if (known !== undefined) return known;
    const f = this.compute(node);
    this.memo.set(node, f);
    return f;
  }

  private compute(node: RegexNode): NodeFirst {
    switch (node.type) {
      case 'chars':
        return {
          tokens: node.set.length === 0 ? { ...NONE, never: true } : { ...NONE, chars: node.set },
          pure: false,
          guarded: false,
          empty: false,
        };
      case 'assert':
        if (node.kind === 'end') return { tokens: { ...NONE, end: true }, pure: false, guarded: false, empty: true };
        return { tokens: NONE, pure: false, guarded: true, empty: true };
      case 'look':
        return { tokens: NONE, pure: false, guarded: true, empty: true };
      case 'seq': {
        let tokens = NONE;
        let pure = true;
        let guarded = false;
        let empty = true;
        for (const item of node.items) {
          const f = this.first(item);
          if (pure || guarded) tokens = merge(tokens, f.tokens);
          const nextGuarded: boolean = (guarded && (f.pure || f.guarded)) || (pure && f.guarded);
          pure = pure && f.pure;
          guarded = nextGuarded;
          empty = empty && f.empty;
        }
        return { tokens, pure, guarded, empty };
      }
      case 'alt': {
        let tokens = NONE;
        let pure = false;
        let guarded = false;
        let empty = false;
        for (const b of node.branches) {
          const f = this.first(b);
          tokens = merge(tokens, f.tokens);
          pure ||= f.pure;
          guarded ||= f.guarded;
          empty ||= f.empty;
        }
        return { tokens, pure, guarded, empty };
      }
      case 'repeat': {
        if (node.max === 0) return { tokens: NONE, pure: true, guarded: false, empty: true };
        const f = this.first(node.body);
        return {
          tokens: f.tokens,
          pure: node.min === 0 || f.pure,
          guarded: f.guarded,
          empty: node.min === 0 || f.empty,
        };
      }
    }
  }

  /** Checks every choice point inside `node`, which is followed by something starting with `follow`. */
  check(node: RegexNode, follow: Tokens): void {
    switch (node.type) {
      case 'chars':
      case 'assert':
        return;
      case 'look':
        checkLookaround(node.body);
        return;
      case 'seq': {
        let after = follow;
        for (let i = node.items.length - 1; i >= 0; i--) {
          const item = node.items[i] as RegexNode;
          this.check(item, after);
          after = compose(this.first(item), after);
        }
        return;
      }
      case 'alt': {
        let seen = NONE;
        for (const b of node.branches) {
          const starts = compose(this.first(b), follow);
          if (conflict(seen, starts)) throw new NotProven('alternatives can start with the same character');
          seen = merge(seen, starts);
          this.check(b, follow);
        }
        return;
      }
      case 'repeat':
        this.checkRepeat(node, follow);
        return;
    }
  }

  private checkRepeat(node: Extract<RegexNode, { type: 'repeat' }>, follow: Tokens): void {
    if (node.max === 0) return;
    const f = this.first(node.body);
    if (node.max === 1) {
      if (node.min === 0 && conflict(compose(f, follow), follow))
        throw new NotProven('an optional part can start with what follows it');
      this.check(node.body, follow);
      return;
    }
    if (f.empty) throw new NotProven('a repeated part can match empty text');
    // Not crossable empty, so an iteration's FIRST does not depend on what follows it.
    if (node.max > node.min && conflict(f.tokens, follow))
      throw new NotProven('a repeated part can start with what follows the repetition');
    this.check(node.body, merge(f.tokens, follow));
  }
}

/** A lookaround body must be constant work: bounded length and few paths. */
function checkLookaround(body: RegexNode): void {
  if (maxLength(body) === Number.POSITIVE_INFINITY)
    throw new NotProven('a lookaround can match unboundedly many characters');
  if (pathCount(body) > MAX_LOOKAROUND_PATHS)
    throw new NotProven(`a lookaround has more than ${MAX_LOOKAROUND_PATHS} ways to match`);
}

/** Most code units a node can consume. */
export function maxLength(node: RegexNode): number {
  switch (node.type) {
    case 'chars':
      return 1;
    case 'assert':
    case 'look':
      return 0;
    case 'seq':
      return node.items.reduce((sum, item) => sum + maxLength(item), 0);
    case 'alt':
      return node.branches.reduce((most, b) => Math.max(most, maxLength(b)), 0);
    case 'repeat': {
      if (node.max === 0) return 0;
      const body = maxLength(node.body);
      return body === 0 ? 0 : body * node.max;
    }
  }
}

/** Paths through a node (bounded-length nodes only), capped just above the lookaround limit. */
function pathCount(node: RegexNode): number {
  const cap = MAX_LOOKAROUND_PATHS + 1;
  switch (node.type) {
    case 'chars':
    case 'assert':
      return 1;
    case 'look':
      checkLookaround(node.body);
      return 1;
    case 'seq':
      return node.items.reduce((p, item) => Math.min(cap, p * pathCount(item)), 1);
    case 'alt':
      return node.branches.reduce((p, b) => Math.min(cap, p + pathCount(b)), 0);
    case 'repeat': {
      const p = pathCount(node.body);
      let total = 0;
      let power = p ** node.min;
      for (let k = node.min; k <= node.max && total < cap; k++) {
        total = Math.min(cap, total + Math.min(cap, power));
        power = Math.min(cap, power * p);
      }
      return total;
    }
  }
}

/** Whether a node can be crossed consuming nothing and asserting nothing. */
function pureNullable(node: RegexNode): boolean {
  switch (node.type) {
    case 'chars':
    case 'assert':
    case 'look':
      return false;
    case 'seq':
      return node.items.every(pureNullable);
    case 'alt':
      return node.branches.some(pureNullable);
    case 'repeat':
      return node.min === 0 || node.max === 0 || pureNullable(node.body);
  }
}

/**
 * For a start position other than 0: `stop` is the most a path consumes inside `node` before
 * it dies or reaches an accepting point (one from which the pattern's end is reachable without
 * consuming or asserting); `through` the most a path consumes crossing `node` without reaching
 * one (-1: no such path). `freeAfter`: the point after `node` is accepting.
 */
function preAcceptDepth(node: RegexNode, freeAfter: boolean): { stop: number; through: number } {
  switch (node.type) {
    case 'chars':
      if (node.set.length === 0) return { stop: 0, through: -1 };
      return freeAfter ? { stop: 1, through: -1 } : { stop: 0, through: 1 };
    case 'assert':
      // `^` (never multi-line) fails at every position but 0.
      if (node.kind === 'start') return { stop: 0, through: -1 };
      return freeAfter ? { stop: 0, through: -1 } : { stop: 0, through: 0 };
    case 'look':
      return freeAfter ? { stop: 0, through: -1 } : { stop: 0, through: 0 };
    case 'alt': {
      let stop = 0;
      let through = -1;
      for (const b of node.branches) {
        const r = preAcceptDepth(b, freeAfter);
        stop = Math.max(stop, r.stop);
        through = Math.max(through, r.through);
      }
      return { stop, through };
    }
    case 'seq':
      return seqDepth(node.items, freeAfter);
    case 'repeat': {
      if (!freeAfter) {
        const len = maxLength(node);
        return { stop: len, through: len };
      }
      if (node.min === 0 || node.max === 0) return { stop: 0, through: -1 };
      const last = preAcceptDepth(node.body, true);
      const before = node.min === 1 ? 0 : (node.min - 1) * maxLength(node.body);
      return { stop: before + last.stop, through: -1 };
    }
  }
}

function seqDepth(items: readonly RegexNode[], freeAfter: boolean): { stop: number; through: number } {
  // free[i]: the point before items[i] is accepting.
  const free: boolean[] = new Array(items.length + 1);
  free[items.length] = freeAfter;
  for (let i = items.length - 1; i >= 0; i--) free[i] = (free[i + 1] as boolean) && pureNullable(items[i] as RegexNode);
  let consumed = 0;
  let stop = 0;
  for (let i = 0; i < items.length; i++) {
    if (free[i]) return { stop: Math.max(stop, consumed), through: -1 };
    const r = preAcceptDepth(items[i] as RegexNode, free[i + 1] as boolean);
    stop = Math.max(stop, consumed + r.stop);
    if (r.through < 0) return { stop, through: -1 };
    consumed += r.through;
  }
  if (freeAfter) return { stop: Math.max(stop, consumed), through: -1 };
  return { stop, through: consumed };
}
