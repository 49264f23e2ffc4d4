import type { CharSet } from './char-set.js';

/**
 * A rule regex as the engines see it, for a boolean search (`test`). Groups are gone (captures do
 * not change whether a string matches), case-insensitivity is already folded into the character
 * sets, and so is the `s` modifier into `.`.
 */
export type RegexNode =
  /** One code unit from `set` (a literal, a class, `.`, `\d`…); an empty set never matches. */
  | { readonly type: 'chars'; readonly set: CharSet }
  | { readonly type: 'seq'; readonly items: readonly RegexNode[] }
  | { readonly type: 'alt'; readonly branches: readonly RegexNode[] }
  /** `max` is `Infinity` for `*`, `+`, `{n,}`. Lazy and greedy match the same strings. */
  | { readonly type: 'repeat'; readonly body: RegexNode; readonly min: number; readonly max: number }
  /** `^` and `$` (never multi-line here), `\b`, `\B`. */
  | { readonly type: 'assert'; readonly kind: 'start' | 'end' | 'word' | 'not_word' }
  | { readonly type: 'look'; readonly behind: boolean; readonly negate: boolean; readonly body: RegexNode };

export const EMPTY_SEQ: RegexNode = Object.freeze({ type: 'seq', items: Object.freeze([]) });
