/** Anything with a `get(name)` — WHATWG/undici `Headers`, `URLSearchParams`, a `Map`. */
export interface ValueGetter {
  get(name: string): string | null | undefined;
}

/** A plain header record with **lower-case** names, as `node:http` gives `req.headers`. */
export type HeaderRecord = Readonly<Record<string, string | readonly string[] | undefined>>;

/** Request headers: a `Headers`-like object or a lower-cased record. Both are read without copying. */
export type RequestHeaders = ValueGetter | HeaderRecord;

/** The calling service, as its sidecar knows it. */
export interface RequestSource {
  /** Service name. */
  readonly name: string;
  /** Tags of the calling instance (`version=v2`). */
  readonly tags?: readonly string[] | undefined;
  /** The caller's IP address (a `hash_key: {source_ip: true}` reads it). */
  readonly ip?: string | undefined;
}

/** What a rule set looks at in a request. */
export interface RuleRequest {
  /** The service called. */
  readonly destination: string;
  /** Who calls; rules with a `match.source` condition never match a request without one. */
  readonly source?: RequestSource | undefined;
  /** HTTP method, e.g. `GET`. */
  readonly method?: string | undefined;
  /** Request target path; may include `?query` (then used for query conditions unless `query` is given). */
  readonly path?: string | undefined;
  /** Request headers. */
  readonly headers?: RequestHeaders | undefined;
  /** Query parameters when already parsed (`URLSearchParams` or a record); otherwise read from `path`. */
  readonly query?: ValueGetter | HeaderRecord | undefined;
  /** Cookies when already parsed; otherwise read from the `Cookie` header on demand. */
  readonly cookies?: Readonly<Record<string, string | undefined>> | undefined;
}

/** True for a `get(name)` object. A record's `get` entry would be a string, never a function. */
function isGetter(source: ValueGetter | HeaderRecord): source is ValueGetter {
  return typeof (source as { get?: unknown }).get === 'function';
}

/**
 * The value `record` itself holds under `name`, never one inherited from its prototype: a
 * client sends whatever header names it likes, and on a plain object `constructor`,
 * `__proto__` or `toString` would otherwise read `Object.prototype`'s members.
 */
function ownValue(record: object, name: string): unknown {
  const v = (record as Record<string, unknown>)[name];
  // Absent names (most reads) cost one lookup; only a found value pays for the own-property check.
  return v !== undefined && Object.hasOwn(record, name) ? v : undefined;
}

/**
 * A header value as rules see it: a string, a list of repeated values joined the way HTTP joins
 * them (`; ` for Cookie, `, ` otherwise), or absent. Anything else a caller put there (a number,
 * an object) counts as absent rather than failing the request.
 */
function headerText(v: unknown, lowerName: string): string | undefined {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.join(lowerName === 'cookie' ? '; ' : ', ');
  return undefined;
}

/**
 * Reads one value from a `get()` object or a record. `lowerName` must be lower-case for
 * records (node's convention); `Headers.get` is case-insensitive anyway. Only a record's own
 * properties count ({@link ownValue}).
 */
export function readValue(source: ValueGetter | HeaderRecord | undefined, lowerName: string): string | undefined {
  if (source === undefined) return undefined;
  return headerText(isGetter(source) ? source.get(lowerName) : ownValue(source, lowerName), lowerName);
}

/** The path without its query string (no copy when there is none). */
export function pathOnly(path: string): string {
  const q = path.indexOf('?');
  return q < 0 ? path : path.slice(0, q);
}

/**
 * The value of cookie `name` in a `Cookie` header (`a=1; user=jason`), or undefined. Scans the
 * header in place — no map of all cookies is built, so a rule set that reads one cookie pays
 * for one scan. Surrounding double quotes are removed (RFC 6265 allows them); no decoding.
 */
export function findCookie(header: string, name: string): string | undefined {
  const n = header.length;
  let i = 0;
  while (i < n) {
    while (i < n && (header.charCodeAt(i) === 32 || header.charCodeAt(i) === 9)) i++;
    let end = header.indexOf(';', i);
    if (end < 0) end = n;
    if (header.startsWith(name, i) && header.charCodeAt(i + name.length) === 61 /* = */ && i + name.length < end) {
      let from = i + name.length + 1;
      let to = end;
      while (to > from && (header.charCodeAt(to - 1) === 32 || header.charCodeAt(to - 1) === 9)) to--;
      if (to - from >= 2 && header.charCodeAt(from) === 34 && header.charCodeAt(to - 1) === 34) {
        from++;
        to--;
      }
      return header.slice(from, to);
    }
    i = end + 1;
  }
  return undefined;
}

/** Characters that a query parameter name can only hold encoded. */
const QUERY_SPECIAL = /[%+=&#]/;

/**
 * The first value of query parameter `name` in `path` (`/x?a=1&b=2`), decoded like
 * `URLSearchParams` (`+` is a space, percent-escapes decoded; a malformed escape is kept as is),
 * or undefined. `encodedName` is the parameter name as it appears on the wire
 * (`encodeURIComponent(name)`); both forms are tried.
 */
export function findQueryParam(path: string, name: string, encodedName: string): string | undefined {
  const q = path.indexOf('?');
  if (q < 0) return undefined;
  const hash = path.indexOf('#', q);
  const n = hash < 0 ? path.length : hash;
  // In a query `%` starts an escape, `+` is a space, and `=`, `&`, `#` delimit: a name holding
  // any of them can only appear encoded (`%20=` is the key " ", never the name "%20").
  const rawMatches = !QUERY_SPECIAL.test(name);
  let i = q + 1;
  while (i < n) {
    let end = path.indexOf('&', i);
    if (end < 0 || end > n) end = n;
    const len =
      (rawMatches ? keyLength(path, i, end, name) : undefined) ??
      (encodedName === name ? undefined : keyLength(path, i, end, encodedName));
    if (len !== undefined) {
      const at = i + len;
      return at >= end ? '' : decodeQueryComponent(path.slice(at + 1, end));
    }
    i = end + 1;
  }
  return undefined;
}

/** Length of `key` when the pair starting at `i` (ending at `end`) has that key, else undefined. */
function keyLength(path: string, i: number, end: number, key: string): number | undefined {
  if (!path.startsWith(key, i)) return undefined;
  const after = i + key.length;
  if (after === end || (after < end && path.charCodeAt(after) === 61)) return key.length;
  return undefined;
}

function decodeQueryComponent(raw: string): string {
  if (raw.indexOf('%') < 0 && raw.indexOf('+') < 0) return raw;
  const spaced = raw.replaceAll('+', ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced;
  }
}

/** Reads one query parameter from a parsed query (first value of a repeated one; own properties of a record only). */
export function readQuery(query: ValueGetter | HeaderRecord, name: string): string | undefined {
  const v: unknown = isGetter(query) ? query.get(name) : ownValue(query, name);
  const first: unknown = Array.isArray(v) ? v[0] : v;
  return typeof first === 'string' ? first : undefined;
}

/** Reads one cookie from cookies the caller already parsed (own properties only). */
export function readCookie(cookies: Readonly<Record<string, string | undefined>>, name: string): string | undefined {
  const v = ownValue(cookies, name);
  return typeof v === 'string' ? v : undefined;
}
