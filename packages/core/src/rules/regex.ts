import { exponentialBacktracking } from './regex-safety.js';

/** The outcome of compiling a rule's regular expression. */
export type PatternResult = { ok: true; regex: RegExp } | { ok: false; message: string };

/**
 * Compiles a rule regex. Patterns are JavaScript regular expressions used as a **search**
 * (`RegExp.test`: unanchored unless the pattern says `^` / `$`), which is how Amalgam8's Lua
 * proxy used its PCRE patterns. One PCRE/RE2 idiom that JavaScript lacks is accepted because
 * Amalgam8 users write it: a leading `(?i)` makes the whole pattern case-insensitive. Patterns
 * that can backtrack exponentially (`(a+)+`, `(\w+\s?)*`) are refused: they run on
 * client-controlled headers (see `regex-safety.ts`).
 */
export function compilePattern(source: string): PatternResult {
  let body = source;
  let flags = '';
  if (body.startsWith('(?i)')) {
    body = body.slice(4);
    flags = 'i';
  }
  try {
    const regex = new RegExp(body, flags);
    const unsafe = exponentialBacktracking(body);
    if (unsafe !== undefined)
      return { ok: false, message: `unsafe regular expression ${JSON.stringify(source)}: ${unsafe}` };
    return { ok: true, regex };
  } catch (err) {
    const detail =
      err instanceof Error ? err.message.replace(/^Invalid regular expression: \/[\s\S]*\/[a-z]*: /, '') : String(err);
    return { ok: false, message: `invalid regular expression ${JSON.stringify(source)}: ${detail}` };
  }
}

/** Zod refinement helper: an error message for an invalid pattern, or undefined when it compiles. */
export function patternProblem(source: string): string | undefined {
  const result = compilePattern(source);
  return result.ok ? undefined : result.message;
}
