import { linearTimeOnV8 } from './regex-linear-time.js';
import { parseRegex } from './regex-parse.js';
import { Re2Pattern } from './regex-re2.js';

/** Which engine evaluates a rule regex: V8's own (proven linear for it) or RE2 (linear for any pattern). */
export type RegexEngine = 'v8' | 're2';

/** Anything that tells whether a value contains a match: a `RegExp` or an {@link Re2Pattern}. */
export interface PatternTester {
  test(value: string): boolean;
}

/** A compiled rule regex. */
export interface RulePattern {
  readonly engine: RegexEngine;
  /** The pattern as V8 compiled it (for planning literal pre-checks and for display). */
  readonly regex: RegExp;
  /**
   * Tests values in time linear in their length: `regex` itself on V8, or the RE2 program.
   * Called directly (no wrapper) because it is on the per-request path.
   */
  readonly tester: PatternTester;
}

/** The outcome of compiling a rule's regular expression. */
export type PatternResult = { ok: true; pattern: RulePattern } | { ok: false; message: string };

/**
 * Compiles a rule regex. Patterns are JavaScript regular expressions used as a **search**
 * (`RegExp.test`: unanchored unless the pattern says `^` / `$`), which is how Amalgam8's Lua
 * proxy used its PCRE patterns. One PCRE/RE2 idiom that JavaScript lacks is accepted because
 * Amalgam8 users write it: a leading `(?i)` makes the whole pattern case-insensitive.
 *
 * Rule regexes run on values a client controls (headers, cookies, the path, the query), so no
 * pattern may backtrack super-linearly. The engine is chosen here, once: V8's RegExp when
 * {@link linearTimeOnV8} proves it linear for the pattern (most anchored and literal-led
 * patterns: `^(canary|beta)$`, `Chrome/[0-9]+`), RE2 otherwise (`(a|aa)*`, `\s*(.*?)\s*,`).
 * Back-references and lookarounds that are not proven linear have no linear-time engine, and are
 * refused with the reason.
 */
export function compilePattern(source: string): PatternResult {
  const cached = cache.get(source);
  if (cached !== undefined) return cached;
  const result = compileUncached(source);
  // Validation and compilation both compile every pattern; the cache makes the second one free.
  if (cache.size >= CACHE_SIZE) cache.clear();
  cache.set(source, result);
  return result;
}

const CACHE_SIZE = 1024;
const cache = new Map<string, PatternResult>();

function compileUncached(source: string): PatternResult {
  let body = source;
  let flags = '';
  if (body.startsWith('(?i)')) {
    body = body.slice(4);
    flags = 'i';
  }
  let regex: RegExp;
  try {
    regex = new RegExp(body, flags);
  } catch (err) {
    const detail =
      err instanceof Error ? err.message.replace(/^Invalid regular expression: \/[\s\S]*\/[a-z]*: /, '') : String(err);
    return { ok: false, message: `invalid regular expression ${JSON.stringify(source)}: ${detail}` };
  }
  const refuse = (why: string): PatternResult => ({
    ok: false,
    message: `unsupported regular expression ${JSON.stringify(source)}: ${why}`,
  });
  const parsed = parseRegex(body, flags === 'i');
  if (!parsed.ok) return refuse(parsed.message);
  const verdict = linearTimeOnV8(parsed.node);
  if (verdict.proven) return { ok: true, pattern: { engine: 'v8', regex, tester: regex } };
  const re2 = Re2Pattern.compile(parsed.node);
  if (!(re2 instanceof Re2Pattern))
    return refuse(
      `${re2.problem}, and it is not proven to run in linear time on V8's backtracking engine (${verdict.reason})`,
    );
  return { ok: true, pattern: { engine: 're2', regex, tester: re2 } };
}

/** Zod refinement helper: an error message for an invalid pattern, or undefined when it compiles. */
export function patternProblem(source: string): string | undefined {
  const result = compilePattern(source);
  return result.ok ? undefined : result.message;
}
