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
  /** Header names (as received) and values, flat: `[name, value, name, value, …]`. */
  headers: string[];
  framing: Framing;
  /** Body length when `framing` is `Length`. */
  contentLength: number;
  /** The connection may carry another message after this one. */
  keepAlive: boolean;
  /** Lower-case header names the `Connection` header lists (hop-by-hop by declaration), if any. */
  connectionNames: string[] | undefined;
  /** Bytes of the head, blank line included. */
  size: number;
}

/** A parsed request head. */
export interface RequestHead extends HeadCommon {
  method: string;
  target: string;
  /** The Host header. */
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
/** Control characters other than HTAB, and any CR or LF that is not part of a CRLF pair. */
const BAD_BYTES = /[\0-\x08\x0b\x0c\x0e-\x1f\x7f]|\r(?!\n)|(?<!\r)\n/;
const TARGET = /^[\x21-\x7e\x80-\xff]+$/;

/** Index of the CRLFCRLF that ends a head in `buf` from `from`, or -1. */
export function findHeadEnd(buf: Buffer, from: number): number {
  return buf.indexOf('\r\n\r\n', from, 'latin1');
}

/** Trims optional whitespace (SP / HTAB) around a header value. */
function trimOws(s: string, start: number): string {
  let a = start;
  let b = s.length;
  while (a < b && (s.charCodeAt(a) === 32 || s.charCodeAt(a) === 9)) a++;
  while (b > a && (s.charCodeAt(b - 1) === 32 || s.charCodeAt(b - 1) === 9)) b--;
  return s.slice(a, b);
}

function parseLength(value: string, previous: number): number {
  // `Content-Length: 5, 5` (a list of one repeated value) is allowed by RFC 9110 §8.6.
  let n = -1;
  for (const part of value.split(',')) {
    const p = part.trim();
    if (!/^\d{1,15}$/.test(p)) throw new Http1ParseError(400, `invalid Content-Length ${JSON.stringify(value)}`);
    const v = Number(p);
    if (n >= 0 && v !== n) throw new Http1ParseError(400, 'conflicting Content-Length values');
    n = v;
  }
  if (previous >= 0 && previous !== n) throw new Http1ParseError(400, 'conflicting Content-Length values');
  return n;
}

/** The header fields both heads share; fills `into`, returns the state the callers finish. */
interface FieldState {
  contentLength: number;
  transferEncoding: string | undefined;
  connection: string | undefined;
  upgradeHeader: boolean;
  host: string | undefined;
  expect: string | undefined;
  keepAliveHeader: string | undefined;
}

/**
 * Parses the header lines of `head` from `pos` (just after the start line) into `headers`, noting
 * the fields that decide framing and connection reuse. `record` (responses) collects lower-case names.
 */
function parseFields(
  head: string,
  pos: number,
  headers: string[],
  record: Record<string, string | string[]> | undefined,
): FieldState {
  const st: FieldState = {
    contentLength: -1,
    transferEncoding: undefined,
    connection: undefined,
    upgradeHeader: false,
    host: undefined,
    expect: undefined,
    keepAliveHeader: undefined,
  };
  const end = head.length;
  while (pos < end) {
    let eol = head.indexOf('\r\n', pos);
    if (eol < 0) eol = end;
    const first = head.charCodeAt(pos);
    if (first === 32 || first === 9) throw new Http1ParseError(400, 'obsolete header line folding is not accepted');
    const colon = head.indexOf(':', pos);
    if (colon < 0 || colon > eol) throw new Http1ParseError(400, `header line without a colon: ${head.slice(pos, eol)}`);
    const name = head.slice(pos, colon);
    if (!TOKEN.test(name)) throw new Http1ParseError(400, `invalid header name ${JSON.stringify(name)}`);
    const value = trimOws(head.slice(colon + 1, eol), 0);
    headers.push(name, value);
    // Only a handful of names matter here: look at the length before lower-casing.
    const len = name.length;
    if (len === 4 || len === 6 || len === 7 || len === 10 || len === 14 || len === 17 || record !== undefined) {
      const lower = name.toLowerCase();
      switch (lower) {
        case 'content-length':
          st.contentLength = parseLength(value, st.contentLength);
          break;
        case 'transfer-encoding':
          st.transferEncoding = st.transferEncoding === undefined ? value : `${st.transferEncoding}, ${value}`;
          break;
        case 'connection':
          st.connection = st.connection === undefined ? value : `${st.connection}, ${value}`;
          break;
        case 'upgrade':
          st.upgradeHeader = true;
          break;
        case 'host':
          if (st.host !== undefined && record === undefined) throw new Http1ParseError(400, 'more than one Host header');
          st.host = value;
          break;
        case 'expect':
          st.expect = value;
          break;
        case 'keep-alive':
          st.keepAliveHeader = value;
          break;
      }
      if (record !== undefined) {
        const prev = record[lower];
        if (prev === undefined) record[lower] = value;
        else if (typeof prev === 'string') record[lower] = [prev, value];
        else prev.push(value);
      }
    }
    pos = eol + 2;
  }
  return st;
}

/** Splits a Connection header into its lower-case tokens. */
function connectionTokens(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const out: string[] = [];
  for (const t of value.split(',')) {
    const s = t.trim().toLowerCase();
    if (s !== '') out.push(s);
  }
  return out;
}

function isChunkedLast(te: string): boolean {
  const parts = te.split(',');
  return (parts[parts.length - 1] as string).trim().toLowerCase() === 'chunked';
}

function minorOf(version: string, what: string): number {
  if (version === 'HTTP/1.1') return 1;
  if (version === 'HTTP/1.0') return 0;
  if (/^HTTP\/\d\.\d$/.test(version)) throw new Http1ParseError(505, `HTTP version ${version} is not supported`);
  throw new Http1ParseError(400, `invalid ${what} line`);
}

/** Parses a request head: `buf[start, end)` holds it without the final blank line. */
export function parseRequestHead(buf: Buffer, start: number, end: number): RequestHead {
  const head = buf.toString('latin1', start, end);
  if (BAD_BYTES.test(head)) throw new Http1ParseError(400, 'control characters or a bare CR / LF in the request head');
  let lineEnd = head.indexOf('\r\n');
  if (lineEnd < 0) lineEnd = head.length;
  const sp1 = head.indexOf(' ');
  const sp2 = sp1 < 0 ? -1 : head.indexOf(' ', sp1 + 1);
  const sp3 = sp2 < 0 ? -1 : head.indexOf(' ', sp2 + 1);
  if (sp1 <= 0 || sp2 < 0 || sp2 > lineEnd || (sp3 >= 0 && sp3 < lineEnd))
    throw new Http1ParseError(400, 'invalid request line');
  const method = head.slice(0, sp1);
  const target = head.slice(sp1 + 1, sp2);
  if (!TOKEN.test(method)) throw new Http1ParseError(400, `invalid method ${JSON.stringify(method)}`);
  if (!TARGET.test(target)) throw new Http1ParseError(400, 'invalid request target');
  const minor = minorOf(head.slice(sp2 + 1, lineEnd), 'request');
  const headers: string[] = [];
  const st = parseFields(head, lineEnd + 2, headers, undefined);
  let framing: Framing = Framing.None;
  let contentLength = 0;
  if (st.transferEncoding !== undefined) {
    // RFC 9112 §6.1: a proxy must not forward both; refusing closes the smuggling door.
    if (st.contentLength >= 0) throw new Http1ParseError(400, 'both Transfer-Encoding and Content-Length');
    if (minor === 0) throw new Http1ParseError(400, 'Transfer-Encoding in an HTTP/1.0 request');
    if (!isChunkedLast(st.transferEncoding))
      throw new Http1ParseError(501, `unsupported Transfer-Encoding ${JSON.stringify(st.transferEncoding)}`);
    framing = Framing.Chunked;
    contentLength = -1;
  } else if (st.contentLength > 0) {
    framing = Framing.Length;
    contentLength = st.contentLength;
  }
  if (minor === 1 && st.host === undefined) throw new Http1ParseError(400, 'HTTP/1.1 request without a Host header');
  const tokens = connectionTokens(st.connection);
  const keepAlive = minor === 1 ? !tokens?.includes('close') : tokens?.includes('keep-alive') === true;
  return {
    method,
    target,
    minor,
    headers,
    framing,
    contentLength,
    keepAlive,
    connectionNames: tokens,
    size: end - start + 4,
    host: st.host,
    upgrade: st.upgradeHeader && tokens?.includes('upgrade') === true,
    expectContinue: st.expect !== undefined && st.expect.toLowerCase() === '100-continue',
  };
}

/**
 * Parses a response head (`buf[start, end)`, without the blank line) to a request made with
 * `method`. Framing follows RFC 9112 §6.3: HEAD answers, 1xx, 204 and 304 have no body.
 */
export function parseResponseHead(buf: Buffer, start: number, end: number, method: string): ResponseHead {
  const head = buf.toString('latin1', start, end);
  if (BAD_BYTES.test(head)) throw new Http1ParseError(502, 'control characters or a bare CR / LF in the response head');
  let lineEnd = head.indexOf('\r\n');
  if (lineEnd < 0) lineEnd = head.length;
  const sp1 = head.indexOf(' ');
  if (sp1 < 0 || sp1 > lineEnd) throw new Http1ParseError(502, 'invalid status line');
  const minor = minorOf(head.slice(0, sp1), 'status');
  const code = head.slice(sp1 + 1, sp1 + 4);
  if (!/^[1-5]\d\d$/.test(code) || (sp1 + 4 < lineEnd && head.charCodeAt(sp1 + 4) !== 32))
    throw new Http1ParseError(502, `invalid status code ${JSON.stringify(code)}`);
  const status = Number(code);
  const reason = sp1 + 5 <= lineEnd ? head.slice(sp1 + 5, lineEnd) : '';
  const headers: string[] = [];
  const record: Record<string, string | string[]> = {};
  const st = parseFields(head, lineEnd + 2, headers, record);
  let framing: Framing;
  let contentLength = 0;
  if (method === 'HEAD' || status < 200 || status === 204 || status === 304) framing = Framing.None;
  else if (st.transferEncoding !== undefined)
    framing = isChunkedLast(st.transferEncoding) ? Framing.Chunked : Framing.Close;
  else if (st.contentLength >= 0) {
    contentLength = st.contentLength;
    framing = contentLength === 0 ? Framing.None : Framing.Length;
  } else framing = Framing.Close;
  const tokens = connectionTokens(st.connection);
  const keepAlive =
    framing !== Framing.Close &&
    (minor === 1 ? !tokens?.includes('close') : tokens?.includes('keep-alive') === true);
  let keepAliveSeconds = -1;
  if (st.keepAliveHeader !== undefined) {
    const m = /(?:^|[\s,])timeout\s*=\s*(\d+)/i.exec(st.keepAliveHeader);
    if (m !== null) keepAliveSeconds = Number(m[1]);
  }
  return {
    status,
    reason,
    minor,
    headers,
    record,
    framing,
    contentLength,
    keepAlive,
    connectionNames: tokens,
    size: end - start + 4,
    keepAliveSeconds,
  };
}
