import { Http1ParseError } from './parse.js';

const enum_ = {
  Size: 0,
  Ext: 1,
  SizeLf: 2,
  Data: 3,
  DataCr: 4,
  DataLf: 5,
  TrailerLine: 6,
  TrailerLf: 7,
  Done: 8,
} as const;
type State = (typeof enum_)[keyof typeof enum_];

/** Longest chunk-size line (size and extensions), and longest trailer section, in bytes. */
const MAX_LINE = 4096;
const MAX_TRAILERS = 16 * 1024;

/**
 * Incremental `Transfer-Encoding: chunked` decoder (RFC 9112 §7.1): feeds the payload bytes to
 * `onData` as they arrive — views into the input, never copies — and reports where the message
 * ends, so the bytes after it (the next message on a keep-alive connection) are left alone.
 * Chunk extensions are skipped; trailer fields are kept as raw lines.
 */
export class ChunkedDecoder {
  private state: State = enum_.Size;
  private size = 0;
  private digits = 0;
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
      switch (this.state) {
        case enum_.Size: {
          const c = buf[i] as number;
          const v = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
          if (v >= 0) {
            if (++this.digits > 12) this.fail('chunk size too large');
            this.size = this.size * 16 + v;
            i++;
          } else if (this.digits === 0) this.fail('missing chunk size');
          else if (c === 13) {
            this.state = enum_.SizeLf;
            i++;
          } else if (c === 59 || c === 32 || c === 9) {
            this.state = enum_.Ext;
            i++;
          } else this.fail('invalid chunk size');
          break;
        }
        case enum_.Ext: {
          // Skip chunk extensions up to the CR; a bare LF is refused like everywhere else.
          const c = buf[i] as number;
          if (++this.lineBytes > MAX_LINE) this.fail('chunk extension too long');
          if (c === 13) this.state = enum_.SizeLf;
          else if (c === 10) this.fail('bare LF in a chunk header');
          i++;
          break;
        }
        case enum_.SizeLf:
          if (buf[i] !== 10) this.fail('expected LF after the chunk size');
          i++;
          this.lineBytes = 0;
          this.digits = 0;
          if (this.size === 0) this.state = enum_.TrailerLine;
          else this.state = enum_.Data;
          break;
        case enum_.Data: {
          const n = Math.min(this.size, end - i);
          onData(buf, i, i + n);
          this.size -= n;
          i += n;
          if (this.size === 0) this.state = enum_.DataCr;
          break;
        }
        case enum_.DataCr:
          if (buf[i] !== 13) this.fail('expected CRLF after chunk data');
          this.state = enum_.DataLf;
          i++;
          break;
        case enum_.DataLf:
          if (buf[i] !== 10) this.fail('expected CRLF after chunk data');
          this.state = enum_.Size;
          i++;
          break;
        case enum_.TrailerLine: {
          const c = buf[i] as number;
          i++;
          if (c === 13) this.state = enum_.TrailerLf;
          else if (c === 10) this.fail('bare LF in the trailer section');
          else {
            if (++this.trailerBytes > MAX_TRAILERS) this.fail('trailer section too large');
            this.trailerLine += String.fromCharCode(c);
          }
          break;
        }
        case enum_.TrailerLf:
          if (buf[i] !== 10) this.fail('expected LF in the trailer section');
          i++;
          if (this.trailerLine === '') {
            this.state = enum_.Done;
            return i;
          }
          if (this.trailers === undefined) this.trailers = [];
          this.trailers.push(this.trailerLine);
          this.trailerLine = '';
          this.state = enum_.TrailerLine;
          break;
        default:
          return i;
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
