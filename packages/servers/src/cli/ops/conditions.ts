import { UsageError } from './errors.js';

/** `key=value` pairs inside `version(...)`, split on commas outside quotes, values unquoted. */
export function splitConditions(inner: string, what: string): [string, string][] {
  const parts: string[] = [];
  let current = '';
  let quote: string | undefined;
  for (const ch of inner) {
    if (quote !== undefined) {
      if (ch === quote) quote = undefined;
      current += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      current += ch;
    } else if (ch === ',') {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  if (quote !== undefined) throw new UsageError(`${what}: unterminated quote`);
  parts.push(current);
  return parts
    .map((p) => p.trim())
    .filter((p) => p !== '')
    .map((p) => {
      const eq = p.indexOf('=');
      if (eq <= 0) throw new UsageError(`${what}: '${p}' is not key=value`);
      return [p.slice(0, eq).trim(), unquote(p.slice(eq + 1).trim())];
    });
}

/** Strips one pair of matching quotes, as a8ctl's `strip(' "')` did. */
export function unquote(value: string): string {
  const first = value[0];
  return value.length >= 2 && (first === '"' || first === "'") && value.endsWith(first) ? value.slice(1, -1) : value;
}

/** `version(inner)` → both parts; the version may be tags joined by `,`. */
export function splitCall(text: string, what: string, example: string): { version: string; inner: string } {
  const m = /^\s*([^()\s][^()]*?)\s*\((.*)\)\s*$/s.exec(text);
  if (m === null) throw new UsageError(`${what} '${text}' is not version(condition), e.g. ${example}`);
  return { version: m[1] as string, inner: m[2] as string };
}

/** A regex's special characters escaped, for a literal value in a pattern. */
export function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
