import { Http1ParseError } from './parse.js';

const enum_ = {
  Size: 0,
  SizeLf: 1,
  ExtName: 2,
  ExtNameRest: 14,
  ExtValue: 3,
  ExtToken: 4,
  ExtQuoted: 5,
  ExtQuotedPair: 6,
  ExtAfterQuoted: 7,
  Data: 8,
  DataCr: 9,
  DataLf: 10,
  TrailerLine: 11,
  TrailerLf: 12,
  Done: 13,
} as const;
type State = (typeof enum_)[keyof typeof enum_];

/** Longest chunk-size line (size and extensions), and longest trailer section, in bytes. */
const MAX_LINE = 4096;
const MAX_TRAILERS = 16 * 1024;
/** Hex digits of a chunk size, leading zeros aside: 12 is 256 TiB, far past any real chunk. */
const MAX_DIGITS = 12;

/** RFC 9110 tchar, by byte. */
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 48; c <= 57; c++) TCHAR[c] = 1;
for (let c = 65; c <= 90; c++) TCHAR[c] = 1;
for (let c = 97; c <= 122; c++) TCHAR[c] = 1;
/** qdtext of a quoted-string (RFC 9110 §5.6.4): HTAB, SP, VCHAR but `"` and `\`, obs-text. */
function isQdtext(c: number): boolean {
  return c === 9 || c === 32 || c === 33 || (c >= 35 && c <= 91) || (c >= 93 && c <= 126) || c >= 128;
}
/** What may follow a `\` in a quoted-string: HTAB, SP, VCHAR, obs-text. */
function isQuotable(c: number): boolean {
  return c === 9 || (c >= 32 && c <= 126) || c >= 128;
}
/** A trailer field line: a token, a colon, then a value without control characters (HTAB aside). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const TRAILER_FIELD = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[^\0-\x08\x0a-\x1f\x7f]*$/;

/**
 * Incremental `Transfer-Encoding: chunked` decoder (RFC 9112 §7.1): feeds the payload bytes to
 * `onData` as they arrive — views into the input, never copies — and reports where the message
 * ends, so the bytes after it (the next message on a keep-alive connection) are left alone.
 *
 * Strict, like llhttp without its lenient flags, because a proxy that reads a chunked body
 * differently from the server behind it is a request-smuggling vector: the chunk size is hex
 * digits directly followed by `;` or CRLF (no spaces, no junk); extensions follow the grammar
 * `*( ";" token [ "=" ( token / quoted-string ) ] )` and are skipped; every line ends in CRLF;
 * trailer fields must be valid field lines and are kept as raw lines.
 */
export class ChunkedDecoder {
  private state: State = enum_.Size;
  private size = 0;
  private digits = 0;
  private sawDigit = false;
  private lineBytes = 0;
  private trailerBytes = 0;
  private trailerLine = '';
  /** Trailer lines (`name: value`), when the message had any. */
  trailers: string[] | undefined;
  /** `status` of the errors it throws: 400 for a request body, 502 for a response body. */
  constructor(private readonly errorStatus: number) {}

  /** True once the last chunk and the trailer section were read. */
  get done(): boolean {
    return this.state === enum_.Done;
  }

  /**
   * Consumes `buf[start, end)`. Returns the index just past the end of the message, or -1 when
   * all of it was consumed and more is needed. Throws {@link Http1ParseError} on malformed input.
   */
  push(buf: Buffer, start: number, end: number, onData: (buf: Buffer, start: number, end: number) => void): number {
    let i = start;
    while (i < end) {
      const state = this.state;
      if (state === enum_.Data) {
        const n = Math.min(this.size, end - i);
        onData(buf, i, i + n);
        this.size -= n;
        i += n;
        if (this.size === 0) this.state = enum_.DataCr;
        continue;
      }
      const c = buf[i] as number;
      i++;
      if (
        (state <= enum_.ExtAfterQuoted || state === enum_.ExtNameRest) &&
        state !== enum_.SizeLf &&
        ++this.lineBytes > MAX_LINE
      )
        this.fail('chunk-size line too long');
      switch (state) {
        case enum_.Size: {
          const v = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
          if (v >= 0) {
            this.sawDigit = true;
            if (this.digits > 0 || v > 0) {
              if (++this.digits > MAX_DIGITS) this.fail('chunk size too large');
              this.size = this.size * 16 + v;
            }
          } else if (!this.sawDigit) this.fail('missing chunk size');
          else if (c === 13) this.state = enum_.SizeLf;
          else if (c === 59) this.state = enum_.ExtName;
          else this.fail('invalid character after the chunk size');
          break;
        }
        case enum_.SizeLf:
          if (c !== 10) this.fail('expected LF after CR in the chunk-size line');
          this.lineBytes = 0;
          this.digits = 0;
          this.sawDigit = false;
          this.state = this.size === 0 ? enum_.TrailerLine : enum_.Data;
          break;
        case enum_.ExtName:
          // Right after `;`: a name must start here (`5;` and `5; a` are refused).
          if (TCHAR[c] === 1) this.state = enum_.ExtNameRest;
          else this.fail('invalid chunk extension name');
          break;
        case enum_.ExtNameRest:
          if (TCHAR[c] === 1) break;
          if (c === 61) this.state = enum_.ExtValue;
          else if (c === 59) this.state = enum_.ExtName;
          else if (c === 13) this.state = enum_.SizeLf;
          else this.fail('invalid character in a chunk extension name');
          break;
        case enum_.ExtToken:
          if (TCHAR[c] === 1) break;
          if (c === 59) this.state = enum_.ExtName;
          else if (c === 13) this.state = enum_.SizeLf;
          else this.fail('invalid character in a chunk extension value');
          break;
        case enum_.ExtValue:
          if (c === 34) this.state = enum_.ExtQuoted;
          else if (TCHAR[c] === 1) this.state = enum_.ExtToken;
          else this.fail('invalid chunk extension value');
          break;
        case enum_.ExtQuoted:
          if (c === 34) this.state = enum_.ExtAfterQuoted;
          else if (c === 92) this.state = enum_.ExtQuotedPair;
          else if (!isQdtext(c)) this.fail('invalid character in a quoted chunk extension');
          break;
        case enum_.ExtQuotedPair:
          if (!isQuotable(c)) this.fail('invalid escape in a quoted chunk extension');
          this.state = enum_.ExtQuoted;
          break;
        case enum_.ExtAfterQuoted:
          if (c === 59) this.state = enum_.ExtName;
          else if (c === 13) this.state = enum_.SizeLf;
          else this.fail('invalid character after a quoted chunk extension');
          break;
        case enum_.DataCr:
          if (c !== 13) this.fail('expected CRLF after chunk data');
          this.state = enum_.DataLf;
          break;
        case enum_.DataLf:
          if (c !== 10) this.fail('expected CRLF after chunk data');
          this.state = enum_.Size;
          break;
        case enum_.TrailerLine:
          if (c === 13) this.state = enum_.TrailerLf;
          else if (c === 10) this.fail('bare LF in the trailer section');
          else {
            if (++this.trailerBytes > MAX_TRAILERS) this.fail('trailer section too large');
            this.trailerLine += String.fromCharCode(c);
          }
          break;
        case enum_.TrailerLf:
          if (c !== 10) this.fail('expected LF after CR in the trailer section');
          if (this.trailerLine === '') {
            this.state = enum_.Done;
            return i;
          }
          // A trailer line is a field line like any header: token, colon, value without controls
          // (no obs-fold, no space before the colon).
          if (!TRAILER_FIELD.test(this.trailerLine)) this.fail('invalid trailer field');
          if (this.trailers === undefined) this.trailers = [];
          this.trailers.push(this.trailerLine);
          this.trailerLine = '';
          this.state = enum_.TrailerLine;
          break;
        default:
          return i - 1;
      }
    }
    return -1;
  }

  /** Trailer fields as a lower-case record (undici's handler shape). */
  trailerRecord(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const line of this.trailers ?? []) {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      out[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    return out;
  }

  private fail(why: string): never {
    throw new Http1ParseError(this.errorStatus, `malformed chunked body: ${why}`);
  }
}

/** The chunk header (`<hex size>\r\n`) for `n` payload bytes. */
export function chunkHeader(n: number): string {
  return `${n.toString(16)}\r\n`;
}

/** The last chunk and an empty trailer section. */
export const LAST_CHUNK = '0\r\n\r\n';
