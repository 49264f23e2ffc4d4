/**
 * HTTP/1.1 message heads (RFC 9112), parsed from the raw bytes the sidecar's own front end and
 * upstream client read. Strict where laxness lets requests be smuggled past a proxy: a request
 * with both Content-Length and Transfer-Encoding, conflicting Content-Lengths, obsolete line
 * folding, bare CR or LF, or whitespace before a colon is refused with a status and a reason.
 */

/** A message head that cannot be accepted: the status to answer and why. */
export class Http1ParseError extends Error {
  readonly code = 'WEFT_HTTP1_PARSE';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'Http1ParseError';
  }
}

/** How the body of a message is delimited. */
export const Framing = {
  /** No body. */
  None: 0,
  /** `Content-Length` bytes. */
  Length: 1,
  /** `Transfer-Encoding: chunked`. */
  Chunked: 2,
  /** Until the connection closes (responses only). */
  Close: 3,
} as const;
/** One of {@link Framing}'s values. */
export type Framing = (typeof Framing)[keyof typeof Framing];

/** What both heads have in common. */
interface HeadCommon {
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  minor: number;
  framing: Framing;
  /** Body length when `framing` is `Length`. */
  contentLength: number;
  /** The connection may carry another message after this one. */
  keepAlive: boolean;
  /** Lower-case header names the `Connection` header lists (hop-by-hop by declaration), if any. */
  connectionNames: readonly string[] | undefined;
  /** Bytes of the head, blank line included. */
  size: number;
}

/** A parsed request head. */
export interface RequestHead extends HeadCommon {
  /** Header names (as received) and values, flat: `[name, value, name, value, …]`. */
  headers: string[];
  method: string;
  /** The target in origin-form (`/path?query`; an absolute-form target's path), or `*`. */
  target: string;
  /**
   * The authority the request is for: an absolute-form target's (`GET http://a/x` is for `a`,
   * whatever Host says: RFC 9112 §3.2.2), else the Host header.
   */
  host: string | undefined;
  /** `Connection: upgrade` with an `Upgrade` header (WebSocket and friends). */
  upgrade: boolean;
  /** `Expect: 100-continue`. */
  expectContinue: boolean;
}

/** A parsed response head. */
export interface ResponseHead extends HeadCommon {
  status: number;
  reason: string;
  /** Header names lower-cased, repeated ones as arrays (undici's handler shape). */
  record: Record<string, string | string[]>;
  /** Seconds the server's `Keep-Alive: timeout=N` allows an idle connection, or -1. */
  keepAliveSeconds: number;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Control characters other than HTAB (CR and LF included: a field line holds neither). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const BAD_VALUE = /[\0-\x08\x0a-\x1f\x7f]/;
const DIGITS = /^\d{1,15}$/;
/** Visible ASCII only: llhttp's strict mode refuses raw UTF-8 (or any byte over 0x7e) in a target. */
const TARGET = /^[\x21-\x7e]+$/;
/**
 * The methods llhttp knows for HTTP (its METHODS_HTTP, the RTSP-only ones aside). RFC 9110 lets
 * a method be any token, but the sidecar is held to llhttp's strict mode — what node:http behind
 * it would refuse, it refuses too — so `get`, `FOO` and `MKCOLA` are 400s, as they are for node.
 */
const METHODS: ReadonlySet<string> = new Set([
  'DELETE',
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'CONNECT',
  'OPTIONS',
  'TRACE',
  'COPY',
  'LOCK',
  'MKCOL',
  'MOVE',
  'PROPFIND',
  'PROPPATCH',
  'SEARCH',
  'UNLOCK',
  'BIND',
  'REBIND',
  'UNBIND',
  'ACL',
  'REPORT',
  'MKACTIVITY',
  'CHECKOUT',
  'MERGE',
  'M-SEARCH',
  'NOTIFY',
  'SUBSCRIBE',
  'UNSUBSCRIBE',
  'PATCH',
  'PURGE',
  'MKCALENDAR',
  'LINK',
  'UNLINK',
  'SOURCE',
  'QUERY',
]);
/** host[:port] of an absolute-form target: reg-name / IPv4 / [IPv6] characters, and digits after a colon. */
const AUTHORITY = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]+)(?::\d*)?$/;

/**
 * Header names seen before, as received → lower-cased. Peers send the same few names in the same
 * case on every message, so a hit skips both the token check and the lower-casing; bounded so a
 * peer sending random names cannot grow it.
 */
const knownNames = new Map<string, string>();
const KNOWN_NAMES_MAX = 512;

/** The lower-case form of a valid header name, or undefined when `name` is not a token. */
export function headerNameLower(name: string): string | undefined {
  const known = knownNames.get(name);
  if (known !== undefined) return known;
  if (!TOKEN.test(name)) return undefined;
  const lower = name.toLowerCase();
  if (knownNames.size < KNOWN_NAMES_MAX) knownNames.set(name, lower);
  return lower;
}

let lastKeepAlive: string | undefined;
let lastKeepAliveSeconds = -1;

/**
 * A response's header record: no inherited members (a header named `constructor` or `__proto__`
 * is just a header), and cheaper to make than `Object.create(null)`.
 */
const HeaderRecord = function HeaderRecord(this: object) {} as unknown as new () => object;
HeaderRecord.prototype = Object.create(null);

const KEEP_ALIVE_TOKENS: readonly string[] = Object.freeze(['keep-alive']);
const CLOSE_TOKENS: readonly string[] = Object.freeze(['close']);

/** Index of the CRLFCRLF that ends a head in `buf` from `from`, or -1. */
export function findHeadEnd(buf: Buffer, from: number): number {
  return buf.indexOf('\r\n\r\n', from, 'latin1');
}

/**
 * A Content-Length value: digits only, and only one such header line. RFC 9110 §8.6 lets a
 * recipient accept `5, 5` or a repeated identical line, but a proxy that accepts them must
 * forward one clean value, and llhttp refuses both: refusing is the simpler way to never
 * disagree with the next hop about where the body ends.
 */
function parseLength(value: string, previous: number, errorStatus: number): number {
  if (previous >= 0) throw new Http1ParseError(errorStatus, 'more than one Content-Length header');
  if (!DIGITS.test(value)) throw new Http1ParseError(errorStatus, `invalid Content-Length ${JSON.stringify(value)}`);
  return Number(value);
}

// The fields that decide framing and connection reuse, noted while the header lines are parsed.
// Module scratch instead of a result object per message: parsing is synchronous and not re-entrant.
let fContentLength = -1;
let fTransferEncoding: string | undefined;
let fTransferEncodingCount = 0;
let fConnection: string | undefined;
let fUpgrade = false;
let fHost: string | undefined;
let fHostCount = 0;
let fExpect: string | undefined;
let fKeepAlive: string | undefined;

/**
 * Parses the header lines of `head` from `pos` (just after the start line): names and values go
 * to `headers` (flat, requests) or `record` (lower-case names, responses); the fields that
 * matter here land in the scratch variables above.
 */
function parseFields(
  head: string,
  pos: number,
  headers: string[] | undefined,
  record: Record<string, string | string[]> | undefined,
  errorStatus: number,
): void {
  fContentLength = -1;
  fTransferEncoding = undefined;
  fTransferEncodingCount = 0;
  fConnection = undefined;
  fUpgrade = false;
  fHost = undefined;
  fHostCount = 0;
  fExpect = undefined;
  fKeepAlive = undefined;
  const end = head.length;
  while (pos < end) {
    let eol = head.indexOf('\r\n', pos);
    if (eol < 0) eol = end;
    const first = head.charCodeAt(pos);
    if (first === 32 || first === 9)
      throw new Http1ParseError(errorStatus, 'obsolete header line folding is not accepted');
    const colon = head.indexOf(':', pos);
    if (colon < 0 || colon > eol)
      throw new Http1ParseError(errorStatus, `header line without a colon: ${head.slice(pos, eol)}`);
    const name = head.slice(pos, colon);
    const lower = headerNameLower(name);
    if (lower === undefined) throw new Http1ParseError(errorStatus, `invalid header name ${JSON.stringify(name)}`);
    // Optional whitespace trimmed by index, so the value is sliced once.
    let a = colon + 1;
    let b = eol;
    while (a < b && (head.charCodeAt(a) === 32 || head.charCodeAt(a) === 9)) a++;
    while (b > a && (head.charCodeAt(b - 1) === 32 || head.charCodeAt(b - 1) === 9)) b--;
    const value = head.slice(a, b);
    if (BAD_VALUE.test(value))
      throw new Http1ParseError(errorStatus, `control characters in the value of header ${JSON.stringify(name)}`);
    pos = eol + 2;
    if (headers !== undefined) headers.push(name, value);
    // Only a handful of names matter here: look at the length before comparing.
    const len = name.length;
    if (len === 4 || len === 6 || len === 7 || len === 10 || len === 14 || len === 17) {
      switch (lower) {
        case 'content-length':
          fContentLength = parseLength(value, fContentLength, errorStatus);
          break;
        case 'transfer-encoding':
          fTransferEncoding = fTransferEncoding === undefined ? value : `${fTransferEncoding}, ${value}`;
          fTransferEncodingCount++;
          break;
        case 'connection':
          fConnection = fConnection === undefined ? value : `${fConnection}, ${value}`;
          break;
        case 'upgrade':
          fUpgrade = true;
          break;
        case 'host':
          fHost = value;
          fHostCount++;
          break;
        case 'expect':
          fExpect = value;
          break;
      }
    }
    if (record !== undefined) {
      if (lower === 'keep-alive') fKeepAlive = value;
      const prev = record[lower];
      if (prev === undefined) record[lower] = value;
      else if (typeof prev === 'string') record[lower] = [prev, value];
      else prev.push(value);
    }
  }
}

/** Splits a Connection header into its lower-case tokens. */
function connectionTokens(value: string | undefined): readonly string[] | undefined {
  if (value === undefined) return undefined;
  // The two values nearly every peer sends.
  if (value.length === 10 && value.toLowerCase() === 'keep-alive') return KEEP_ALIVE_TOKENS;
  if (value.length === 5 && value.toLowerCase() === 'close') return CLOSE_TOKENS;
  const out: string[] = [];
  for (const t of value.split(',')) {
    const s = t.trim().toLowerCase();
    if (s !== '') out.push(s);
  }
  return out;
}

/** RFC 9112 §9.3: HTTP/1.1 connections persist unless `close`; HTTP/1.0 ones only with `keep-alive`. */
function persistent(minor: number, tokens: readonly string[] | undefined): boolean {
  return minor === 1 ? !tokens?.includes('close') : tokens?.includes('keep-alive') === true;
}

/** SP or HTAB: the only whitespace HTTP has (JS `trim()` also strips NBSP and friends). */
function isOws(c: number): boolean {
  return c === 32 || c === 9;
}

/**
 * The codings of a Transfer-Encoding list, lower-cased: elements split on commas, with only
 * SP / HTAB trimmed around them. Undefined when an element is empty or not a token (so
 * `\xa0chunked` is not `chunked`).
 */
function transferCodings(te: string): string[] | undefined {
  const out: string[] = [];
  for (const part of te.split(',')) {
    let a = 0;
    let b = part.length;
    while (a < b && isOws(part.charCodeAt(a))) a++;
    while (b > a && isOws(part.charCodeAt(b - 1))) b--;
    // A bare token: transfer-coding parameters (`chunked;q=1`) are refused, as llhttp does.
    const coding = part.slice(a, b);
    if (!TOKEN.test(coding)) return undefined;
    out.push(coding.toLowerCase());
  }
  return out;
}

/**
 * How a Transfer-Encoding list frames a message: true when `chunked` is the final coding. A
 * malformed list, or `chunked` applied twice, is an error; `chunked` before another coding is
 * an error in a request and close-delimited in a response (RFC 9112 §6.3, as llhttp does).
 */
function chunkedLast(te: string, errorStatus: number): boolean {
  const codings = transferCodings(te);
  if (codings === undefined) throw new Http1ParseError(errorStatus, `invalid Transfer-Encoding ${JSON.stringify(te)}`);
  const i = codings.indexOf('chunked');
  if (i < 0) return false;
  if (codings.indexOf('chunked', i + 1) >= 0)
    throw new Http1ParseError(errorStatus, `invalid Transfer-Encoding ${JSON.stringify(te)}: chunked twice`);
  if (i === codings.length - 1) return true;
  if (errorStatus === 400)
    throw new Http1ParseError(400, `invalid Transfer-Encoding ${JSON.stringify(te)}: chunked must be last`);
  return false;
}

/**
 * A request target in origin-form (`/path?query`), absolute-form (`http://authority/path`, as
 * sent to proxies) or asterisk-form (`*`, OPTIONS only). Returns `[origin-form target,
 * authority of an absolute-form target or undefined]`. CONNECT's authority-form is refused
 * earlier.
 */
function requestTarget(method: string, target: string): [string, string | undefined] {
  const c = target.charCodeAt(0);
  if (c === 47) return [target, undefined];
  if (target === '*') {
    if (method !== 'OPTIONS') throw new Http1ParseError(400, 'the asterisk-form target is for OPTIONS only');
    return [target, undefined];
  }
  const m = /^(https?):\/\/([^/?#]*)/i.exec(target);
  if (m === null) throw new Http1ParseError(400, 'invalid request target');
  const authority = m[2] as string;
  // RFC 9112 §3.2.2: the target's authority replaces Host. No user info (`a@b` fools naive
  // routers into seeing `a`), no empty host.
  if (authority === '' || authority.includes('@') || !AUTHORITY.test(authority))
    throw new Http1ParseError(400, 'invalid authority in the request target');
  const rest = target.slice(m[0].length);
  if (rest.includes('#')) throw new Http1ParseError(400, 'invalid request target');
  return [rest === '' ? '/' : rest.charCodeAt(0) === 63 ? `/${rest}` : rest, authority];
}

function minorOf(version: string, what: string, errorStatus?: number): number {
  if (version === 'HTTP/1.1') return 1;
  if (version === 'HTTP/1.0') return 0;
  if (/^HTTP\/\d\.\d$/.test(version))
    throw new Http1ParseError(errorStatus ?? 505, `HTTP version ${version} is not supported`);
  throw new Http1ParseError(errorStatus ?? 400, `invalid ${what} line`);
}

/** Parses a request head: `buf[start, end)` holds it without the final blank line. */
export function parseRequestHead(buf: Buffer, start: number, end: number): RequestHead {
  const head = buf.toString('latin1', start, end);
  let lineEnd = head.indexOf('\r\n');
  if (lineEnd < 0) lineEnd = head.length;
  const sp1 = head.indexOf(' ');
  const sp2 = sp1 < 0 ? -1 : head.indexOf(' ', sp1 + 1);
  const sp3 = sp2 < 0 ? -1 : head.indexOf(' ', sp2 + 1);
  if (sp1 <= 0 || sp2 < 0 || sp2 > lineEnd || (sp3 >= 0 && sp3 < lineEnd))
    throw new Http1ParseError(400, 'invalid request line');
  const method = head.slice(0, sp1);
  const target = head.slice(sp1 + 1, sp2);
  if (!METHODS.has(method)) throw new Http1ParseError(400, `invalid method ${JSON.stringify(method)}`);
  if (!TARGET.test(target)) throw new Http1ParseError(400, 'invalid request target');
  const minor = minorOf(head.slice(sp2 + 1, lineEnd), 'request');
  const [path, authority] = requestTarget(method, target);
  const headers: string[] = [];
  parseFields(head, lineEnd + 2, headers, undefined, 400);
  if (fHostCount > 1) throw new Http1ParseError(400, 'more than one Host header');
  let framing: Framing = Framing.None;
  let contentLength = 0;
  if (fTransferEncoding !== undefined) {
    // RFC 9112 §6.1: a proxy must not forward both; refusing closes the smuggling door.
    if (fContentLength >= 0) throw new Http1ParseError(400, 'both Transfer-Encoding and Content-Length');
    if (minor === 0) throw new Http1ParseError(400, 'Transfer-Encoding in an HTTP/1.0 request');
    if (fTransferEncodingCount > 1) throw new Http1ParseError(400, 'more than one Transfer-Encoding header');
    // Malformed, chunked twice or not last: 400. Then anything but plain chunked is 501 (RFC
    // 9112 §6.1): the sidecar re-frames the body it forwards as chunked, so a coding under it
    // (gzip, say) would be silently lost on the way.
    const chunked = chunkedLast(fTransferEncoding, 400);
    if (!chunked || (fTransferEncoding.length !== 7 && transferCodings(fTransferEncoding)?.length !== 1))
      throw new Http1ParseError(501, `unsupported Transfer-Encoding ${JSON.stringify(fTransferEncoding)}`);
    framing = Framing.Chunked;
    contentLength = -1;
  } else if (fContentLength > 0) {
    framing = Framing.Length;
    contentLength = fContentLength;
  }
  if (minor === 1 && fHost === undefined) throw new Http1ParseError(400, 'HTTP/1.1 request without a Host header');
  const tokens = connectionTokens(fConnection);
  const keepAlive = persistent(minor, tokens);
  return {
    method,
    target: path,
    minor,
    headers,
    framing,
    contentLength,
    keepAlive,
    connectionNames: tokens,
    size: end - start + 4,
    host: authority ?? fHost,
    upgrade: fUpgrade && tokens?.includes('upgrade') === true,
    expectContinue: fExpect !== undefined && fExpect.toLowerCase() === '100-continue',
  };
}

/**
 * Parses a response head (`buf[start, end)`, without the blank line) to a request made with
 * `method`. Framing follows RFC 9112 §6.3: HEAD answers, 1xx, 204 and 304 have no body.
 */
export function parseResponseHead(buf: Buffer, start: number, end: number, method: string): ResponseHead {
  const head = buf.toString('latin1', start, end);
  let lineEnd = head.indexOf('\r\n');
  if (lineEnd < 0) lineEnd = head.length;
  const sp1 = head.indexOf(' ');
  if (sp1 < 0 || sp1 > lineEnd) throw new Http1ParseError(502, 'invalid status line');
  const minor = minorOf(head.slice(0, sp1), 'status', 502);
  const code = head.slice(sp1 + 1, sp1 + 4);
  if (!/^[1-5]\d\d$/.test(code) || (sp1 + 4 < lineEnd && head.charCodeAt(sp1 + 4) !== 32))
    throw new Http1ParseError(502, `invalid status code ${JSON.stringify(code)}`);
  const status = Number(code);
  const reason = sp1 + 5 <= lineEnd ? head.slice(sp1 + 5, lineEnd) : '';
  if (BAD_VALUE.test(reason)) throw new Http1ParseError(502, 'control characters in the status line');
  const record = new HeaderRecord() as Record<string, string | string[]>;
  parseFields(head, lineEnd + 2, undefined, record, 502);
  let framing: Framing;
  let contentLength = 0;
  if (method === 'HEAD' || status < 200 || status === 204 || status === 304) framing = Framing.None;
  else if (fTransferEncoding !== undefined) {
    // RFC 9112 §6.3 lets Transfer-Encoding win, but an upstream that sends both framings is
    // confused or hostile; llhttp refuses it too.
    if (fContentLength >= 0) throw new Http1ParseError(502, 'both Transfer-Encoding and Content-Length');
    framing = chunkedLast(fTransferEncoding, 502) ? Framing.Chunked : Framing.Close;
  } else if (fContentLength >= 0) {
    contentLength = fContentLength;
    framing = contentLength === 0 ? Framing.None : Framing.Length;
  } else framing = Framing.Close;
  const tokens = connectionTokens(fConnection);
  const keepAlive = framing !== Framing.Close && persistent(minor, tokens);
  let keepAliveSeconds = -1;
  if (fKeepAlive !== undefined) {
    // A server sends the same Keep-Alive value every time: parse it once.
    if (fKeepAlive !== lastKeepAlive) {
      const m = /(?:^|[\s,])timeout\s*=\s*(\d+)/i.exec(fKeepAlive);
      lastKeepAlive = fKeepAlive;
      lastKeepAliveSeconds = m === null ? -1 : Number(m[1]);
    }
    keepAliveSeconds = lastKeepAliveSeconds;
  }
  return {
    status,
    reason,
    minor,
    record,
    framing,
    contentLength,
    keepAlive,
    connectionNames: tokens,
    size: end - start + 4,
    keepAliveSeconds,
  };
}
