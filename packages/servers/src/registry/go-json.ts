/**
 * JSON the way Amalgam8's registry (Go's `encoding/json`) wrote it, so that Weft's answers are
 * byte-for-byte what an Amalgam8 client read.
 */

/** Characters Go's encoder escapes in strings (HTML-safe output); JSON.stringify leaves them as is. */
const GO_ESCAPED = /[<>&\u2028\u2029]/;
const GO_ESCAPED_ALL = /[<>&\u2028\u2029]/g;
const ESCAPES: Readonly<Record<string, string>> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

/** Serialises like Go's `json.Marshal`: compact, keys in the given order, `<`, `>`, `&` escaped. */
export function goJson(value: unknown): string {
  const text = JSON.stringify(value) ?? 'null';
  // The test first: registry payloads almost never contain these, and replace() always copies.
  return GO_ESCAPED.test(text) ? text.replace(GO_ESCAPED_ALL, (c) => ESCAPES[c] ?? c) : text;
}

/**
 * A time as Go's `time.Time` marshals to JSON (RFC 3339 with nanoseconds, trailing zeros of the
 * fraction dropped, and the dot too when nothing is left), in UTC. Amalgam8 used the server's
 * local zone, which is UTC in its containers; Weft always answers in UTC.
 */
export function goTime(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2026-12-03T10:00:23.370Z
  const dot = iso.lastIndexOf('.');
  const fraction = iso.slice(dot + 1, -1).replace(/0+$/, '');
  return fraction === '' ? `${iso.slice(0, dot)}Z` : `${iso.slice(0, dot)}.${fraction}Z`;
}
