/**
 * Sets of UTF-16 code units (0..0xFFFF) as sorted, disjoint, non-adjacent inclusive ranges
 * `[lo0, hi0, lo1, hi1, …]`. A JavaScript regex without the `u` flag matches code units, so
 * this is the alphabet the rule-regex analysis (`regex-linear-time.ts`) and the RE2
 * translation (`regex-re2.ts`) reason about.
 */
export type CharSet = readonly number[];

export const MAX_UNIT = 0xffff;

export const EMPTY: CharSet = Object.freeze([]);
export const ALL: CharSet = Object.freeze([0, MAX_UNIT]);

/** Normalises arbitrary `[lo, hi]` pairs (any order, overlapping) into a {@link CharSet}. */
export function fromRanges(pairs: readonly (readonly [number, number])[]): CharSet {
  const sorted = [...pairs].sort((a, b) => a[0] - b[0]);
  const out: number[] = [];
  for (const [lo, hi] of sorted) {
    const last = out.length - 1;
    if (last > 0 && lo <= (out[last] as number) + 1) out[last] = Math.max(out[last] as number, hi);
    else out.push(lo, hi);
  }
  return out;
}

export function single(unit: number): CharSet {
  return [unit, unit];
}

export function union(a: CharSet, b: CharSet): CharSet {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  const pairs: [number, number][] = [];
  for (let i = 0; i < a.length; i += 2) pairs.push([a[i] as number, a[i + 1] as number]);
  for (let i = 0; i < b.length; i += 2) pairs.push([b[i] as number, b[i + 1] as number]);
  return fromRanges(pairs);
}

export function complement(a: CharSet): CharSet {
  const out: number[] = [];
  let next = 0;
  for (let i = 0; i < a.length; i += 2) {
    const lo = a[i] as number;
    if (lo > next) out.push(next, lo - 1);
    next = (a[i + 1] as number) + 1;
  }
  if (next <= MAX_UNIT) out.push(next, MAX_UNIT);
  return out;
}

/** Whether the two sets share a code unit. Linear merge of the two range lists. */
export function intersects(a: CharSet, b: CharSet): boolean {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const aHi = a[i + 1] as number;
    const bHi = b[j + 1] as number;
    if ((a[i] as number) <= bHi && (b[j] as number) <= aHi) return true;
    if (aHi < bHi) i += 2;
    else j += 2;
  }
  return false;
}

// The classes of a JavaScript regex without the `u` flag (ECMA-262 CharacterClassEscape, `.`).
export const DIGIT: CharSet = Object.freeze([0x30, 0x39]);
export const WORD: CharSet = Object.freeze([0x30, 0x39, 0x41, 0x5a, 0x5f, 0x5f, 0x61, 0x7a]);
/** WhiteSpace and LineTerminator: what `\s` matches. */
export const SPACE: CharSet = Object.freeze(
  fromRanges([
    [0x09, 0x0d],
    [0x20, 0x20],
    [0xa0, 0xa0],
    [0x1680, 0x1680],
    [0x2000, 0x200a],
    [0x2028, 0x2029],
    [0x202f, 0x202f],
    [0x205f, 0x205f],
    [0x3000, 0x3000],
    [0xfeff, 0xfeff],
  ]),
);
const LINE_TERMINATORS: CharSet = fromRanges([
  [0x0a, 0x0a],
  [0x0d, 0x0d],
  [0x2028, 0x2029],
]);
/** `.` without the `s` flag. */
export const DOT: CharSet = Object.freeze(complement(LINE_TERMINATORS));

interface CaseTables {
  /** ECMA-262 Canonicalize of every code unit. */
  readonly canonical: Uint16Array;
  /** The units sharing a canonical form, for the forms more than one unit has (`a` → `a`, `A`). */
  readonly classes: ReadonlyMap<number, readonly number[]>;
}

let tables: CaseTables | undefined;

/**
 * ECMA-262 Canonicalize for a regex with `i` but without `u`: the single-unit upper case of a
 * code unit, except that a non-ASCII unit never maps into ASCII. Built once, on first use by a
 * case-insensitive pattern (a few milliseconds).
 */
function caseTables(): CaseTables {
  if (tables !== undefined) return tables;
  const canonical = new Uint16Array(MAX_UNIT + 1);
  const counts = new Uint8Array(MAX_UNIT + 1);
  for (let ch = 0; ch <= MAX_UNIT; ch++) {
    const upper = String.fromCharCode(ch).toUpperCase();
    const cu = upper.length === 1 ? upper.charCodeAt(0) : ch;
    const canon = ch >= 128 && cu < 128 ? ch : cu;
    canonical[ch] = canon;
    counts[canon] = Math.min(255, (counts[canon] as number) + 1);
  }
  const classes = new Map<number, number[]>();
  for (let ch = 0; ch <= MAX_UNIT; ch++) {
    const canon = canonical[ch] as number;
    if ((counts[canon] as number) < 2) continue;
    const list = classes.get(canon);
    if (list === undefined) classes.set(canon, [ch]);
    else list.push(ch);
  }
  tables = { canonical, classes };
  return tables;
}

/** Sets larger than this are folded by one scan of the whole table instead of member by member. */
const SCAN_THRESHOLD = 4096;

/**
 * Every code unit a case-insensitive (`i`, no `u`) regex matches for `set`: the units whose
 * canonical form is that of a member. Negated classes complement the result, as the
 * specification's CharacterSetMatcher does.
 */
export function caseClosure(set: CharSet): CharSet {
  if (set.length === 0) return set;
  const { canonical, classes } = caseTables();
  let size = 0;
  for (let i = 0; i < set.length; i += 2) size += (set[i + 1] as number) - (set[i] as number) + 1;
  if (size <= SCAN_THRESHOLD) {
    // The usual case, a letter or a small class: add each member's case class.
    const pairs: [number, number][] = [];
    for (let i = 0; i < set.length; i += 2)
      for (let ch = set[i] as number; ch <= (set[i + 1] as number); ch++) {
        pairs.push([ch, ch]);
        for (const other of classes.get(canonical[ch] as number) ?? []) pairs.push([other, other]);
      }
    return fromRanges(pairs);
  }
  const wanted = new Uint8Array(MAX_UNIT + 1);
  for (let i = 0; i < set.length; i += 2)
    for (let ch = set[i] as number; ch <= (set[i + 1] as number); ch++) wanted[canonical[ch] as number] = 1;
  const out: number[] = [];
  for (let ch = 0; ch <= MAX_UNIT; ch++) {
    if (wanted[canonical[ch] as number] !== 1) continue;
    const last = out.length - 1;
    if (last > 0 && out[last] === ch - 1) out[last] = ch;
    else out.push(ch, ch);
  }
  return out;
}
