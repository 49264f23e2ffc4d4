import type { Dispatcher } from 'undici';

/** Request headers in any form undici accepts. */
export type AnyHeaders = Dispatcher.DispatchOptions['headers'];

type HeaderValue = string | string[] | number | undefined | null;

function isPairIterable(h: object): h is Iterable<[string, HeaderValue]> {
  return typeof (h as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function';
}

/**
 * Visits every header as (name, value) without normalising the whole set. Arrays are undici's flat
 * `[name, value, name, value]` form; iterables are `[name, value]` pairs (fetch's Headers list).
 */
export function forEachHeader(headers: AnyHeaders, visit: (name: string, value: HeaderValue) => void): void {
  if (headers == null) return;
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) visit(String(headers[i]), headers[i + 1] as HeaderValue);
    return;
  }
  if (isPairIterable(headers)) {
    for (const pair of headers) visit(String(pair[0]), pair[1] as HeaderValue);
    return;
  }
  const obj = headers as Record<string, HeaderValue>;
  for (const key in obj) visit(key, obj[key]);
}

/**
 * One header (case-insensitive `lowerName`), multiple values joined with `, ` (cookies with `; `).
 * Runs per call (the request id, the Host): plain loops for objects and flat arrays, no callback.
 */
export function getHeader(headers: AnyHeaders, lowerName: string): string | undefined {
  if (headers == null) return undefined;
  const len = lowerName.length;
  let out: string | undefined;
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) {
      const name = headers[i];
      if (typeof name !== 'string') {
        // An array of [name, value] pairs rather than the flat form.
        return pairsHeader(headers as Iterable<[string, HeaderValue]>, lowerName);
      }
      const value = headers[i + 1] as HeaderValue;
      if (value == null || name.length !== len || name.toLowerCase() !== lowerName) continue;
      out = appendValue(out, lowerName, value);
    }
    return out;
  }
  if (isPairIterable(headers)) return pairsHeader(headers, lowerName);
  const obj = headers as Record<string, HeaderValue>;
  // Fast path for the common exact-case key.
  const direct = obj[lowerName];
  if (direct != null) return joinValue(lowerName, direct);
  for (const name in obj) {
    if (name.length !== len || name === lowerName || name.toLowerCase() !== lowerName) continue;
    const value = obj[name];
    if (value != null) out = appendValue(out, lowerName, value);
  }
  return out;
}

function pairsHeader(pairs: Iterable<[string, HeaderValue]>, lowerName: string): string | undefined {
  let out: string | undefined;
  for (const [name, value] of pairs) {
    if (value != null && String(name).toLowerCase() === lowerName) out = appendValue(out, lowerName, value);
  }
  return out;
}

function appendValue(
  out: string | undefined,
  lowerName: string,
  value: Exclude<HeaderValue, undefined | null>,
): string {
  const v = joinValue(lowerName, value);
  return out === undefined ? v : `${out}${lowerName === 'cookie' ? '; ' : ', '}${v}`;
}

function joinValue(lowerName: string, value: Exclude<HeaderValue, undefined | null>): string {
  if (Array.isArray(value)) return value.join(lowerName === 'cookie' ? '; ' : ', ');
  return String(value);
}

/**
 * Copies `headers` into undici's flat array form, dropping the lower-case names in `drop` and
 * appending `extra` (flat too). One array allocation; no per-header objects.
 */
export function rebuildHeaders(
  headers: AnyHeaders,
  drop: ReadonlySet<string> | undefined,
  extra: readonly string[],
): string[] {
  const out: string[] = [];
  if (Array.isArray(headers) && typeof headers[0] !== 'object') {
    // The flat string form (the sidecar's): a plain loop, no callback per header.
    for (let i = 0; i + 1 < headers.length; i += 2) keepHeader(out, drop, String(headers[i]), headers[i + 1]);
  } else forEachHeader(headers, (name, value) => keepHeader(out, drop, name, value));
  for (let i = 0; i < extra.length; i++) out.push(extra[i] as string);
  return out;
}

/** Appends one header (each value of a repeated one) to `out` unless it has no value or `drop` names it. */
function keepHeader(out: string[], drop: ReadonlySet<string> | undefined, name: string, value: HeaderValue): void {
  if (value == null || drop?.has(name.toLowerCase())) return;
  if (Array.isArray(value)) for (const v of value) out.push(name, String(v));
  else out.push(name, String(value));
}

/** HTTP/1.1 hop-by-hop headers (RFC 9110 §7.6.1), never forwarded by a proxy. */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);
