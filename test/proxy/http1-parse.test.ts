import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChunkedDecoder, chunkHeader, LAST_CHUNK } from '../../packages/proxy/src/http1/chunked.js';
import {
  Framing,
  findHeadEnd,
  Http1ParseError,
  parseRequestHead,
  parseResponseHead,
  type RequestHead,
  type ResponseHead,
} from '../../packages/proxy/src/http1/parse.js';

/** Parses the request head at the start of `text` (which must hold its CRLFCRLF). */
function req(text: string): RequestHead {
  const buf = Buffer.from(text, 'latin1');
  const end = findHeadEnd(buf, 0);
  expect(end).toBeGreaterThan(0);
  return parseRequestHead(buf, 0, end);
}

function res(text: string, method = 'GET'): ResponseHead {
  const buf = Buffer.from(text, 'latin1');
  return parseResponseHead(buf, 0, findHeadEnd(buf, 0), method);
}

/** The status of the Http1ParseError `fn` throws (fails the test when it does not throw one). */
function statusOf(fn: () => unknown): number {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(Http1ParseError);
    return (err as Http1ParseError).status;
  }
  throw new Error('expected an Http1ParseError, the head was accepted');
}

describe('parseRequestHead', () => {
  it('parses an HTTP/1.1 GET: names as received, OWS trimmed, keep-alive by default, no body', () => {
    const text = 'GET /a/b?c=1 HTTP/1.1\r\nHost: svc:80\r\nX-Mixed-Case:  v 1 \t\r\nAccept:\r\n\r\n';
    const h = req(text);
    expect(h).toMatchObject({ method: 'GET', target: '/a/b?c=1', minor: 1, host: 'svc:80', keepAlive: true });
    expect(h.headers).toEqual(['Host', 'svc:80', 'X-Mixed-Case', 'v 1', 'Accept', '']);
    expect(h.framing).toBe(Framing.None);
    expect(h.size).toBe(text.length);
    expect(h.upgrade).toBe(false);
    expect(h.expectContinue).toBe(false);
  });

  it('parses a head that starts mid-buffer (a pipelined request)', () => {
    const first = 'GET /1 HTTP/1.1\r\nHost: a\r\n\r\n';
    const buf = Buffer.from(`${first}POST /2 HTTP/1.1\r\nHost: b\r\nContent-Length: 3\r\n\r\nabc`, 'latin1');
    const end = findHeadEnd(buf, first.length);
    const h = parseRequestHead(buf, first.length, end);
    expect(h).toMatchObject({ method: 'POST', target: '/2', host: 'b', framing: Framing.Length, contentLength: 3 });
    expect(first.length + h.size).toBe(buf.length - 3);
  });

  it('applies the keep-alive rules of each version and lists the Connection tokens', () => {
    expect(req('GET / HTTP/1.1\r\nHost: a\r\nConnection: Close\r\n\r\n').keepAlive).toBe(false);
    const tokens = req('GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, X-Secret\r\nConnection: TE\r\n\r\n');
    expect(tokens.keepAlive).toBe(true);
    expect(tokens.connectionNames).toEqual(['keep-alive', 'x-secret', 'te']);
    const h10 = req('GET / HTTP/1.0\r\n\r\n');
    expect(h10).toMatchObject({ minor: 0, keepAlive: false, host: undefined, connectionNames: undefined });
    expect(req('GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n').keepAlive).toBe(true);
  });

  it('frames bodies by Content-Length and chunked Transfer-Encoding', () => {
    expect(req('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 42\r\n\r\n')).toMatchObject({
      framing: Framing.Length,
      contentLength: 42,
    });
    expect(req('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n').framing).toBe(Framing.None);
    expect(req('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n').framing).toBe(Framing.Chunked);
  });

  it('routes an absolute-form target by its authority, whatever Host says (RFC 9112 §3.2.2)', () => {
    expect(req('GET http://a:8080/x?y HTTP/1.1\r\nHost: b\r\n\r\n')).toMatchObject({ target: '/x?y', host: 'a:8080' });
    expect(req('GET HTTP://a HTTP/1.1\r\nHost: b\r\n\r\n')).toMatchObject({ target: '/', host: 'a' });
    expect(req('GET http://a?q HTTP/1.1\r\nHost: b\r\n\r\n')).toMatchObject({ target: '/?q', host: 'a' });
    expect(req('GET http://[::1]:80/ HTTP/1.1\r\nHost: b\r\n\r\n')).toMatchObject({ target: '/', host: '[::1]:80' });
    expect(req('OPTIONS * HTTP/1.1\r\nHost: b\r\n\r\n')).toMatchObject({ target: '*', host: 'b' });
  });

  it('recognises upgrades (Upgrade plus the Connection token) and Expect: 100-continue', () => {
    const up = 'GET /ws HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n';
    expect(req(up).upgrade).toBe(true);
    expect(req('GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n').upgrade).toBe(false);
    expect(req('GET /ws HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\n\r\n').upgrade).toBe(false);
    const ex = 'PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 5\r\n\r\n';
    expect(req(ex).expectContinue).toBe(true);
  });

  it.each([
    [
      'Content-Length with Transfer-Encoding',
      'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n',
      400,
    ],
    [
      'Transfer-Encoding before Content-Length',
      'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n',
      400,
    ],
    [
      'conflicting Content-Length headers',
      'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n',
      400,
    ],
    ['a conflicting Content-Length list', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\n', 400],
    ['a signed Content-Length', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n', 400],
    ['a hex Content-Length', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\n', 400],
    ['an empty Content-Length', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n', 400],
    ['a coding after chunked', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n', 400],
    // The sidecar re-frames what it forwards: a coding under chunked would be lost.
    ['a coding under chunked', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n', 501],
    ['chunked twice in one list', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n', 400],
    [
      'two Transfer-Encoding lines',
      'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n',
      400,
    ],
    // JS trim() strips U+00A0; HTTP whitespace is SP and HTAB only.
    ['chunked after an NBSP', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \xa0chunked\r\n\r\n', 400],
    ['chunkedchunked', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunkedchunked\r\n\r\n', 501],
    ['a Content-Length list of one value', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n', 400],
    [
      'two identical Content-Length lines',
      'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n',
      400,
    ],
    ['a Content-Length after an NBSP', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \xa05\r\n\r\n', 400],
    ['an origin-less target', 'GET abc HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['an asterisk target on GET', 'GET * HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['user info in an absolute-form target', 'GET http://a@b/x HTTP/1.1\r\nHost: b\r\n\r\n', 400],
    ['an empty authority', 'GET http:///x HTTP/1.1\r\nHost: b\r\n\r\n', 400],
    ['a non-chunked coding', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n', 501],
    ['Transfer-Encoding on HTTP/1.0', 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n', 400],
    ['obs-fold', 'GET / HTTP/1.1\r\nHost: a\r\nX-A: one\r\n two\r\n\r\n', 400],
    ['obs-fold with a tab', 'GET / HTTP/1.1\r\nHost: a\r\nX-A: one\r\n\ttwo\r\n\r\n', 400],
    ['a bare LF ending a field line', 'GET / HTTP/1.1\r\nHost: a\nTransfer-Encoding: chunked\r\n\r\n', 400],
    ['a bare LF ending the request line', 'GET / HTTP/1.1\nHost: a\r\n\r\n', 400],
    ['a bare CR in a value', 'GET / HTTP/1.1\r\nHost: a\r\nX-A: b\rc\r\n\r\n', 400],
    ['a NUL in a value', 'GET / HTTP/1.1\r\nHost: a\r\nX-A: b\0c\r\n\r\n', 400],
    ['a DEL in a value', 'GET / HTTP/1.1\r\nHost: a\r\nX-A: b\x7fc\r\n\r\n', 400],
    ['whitespace before the colon', 'GET / HTTP/1.1\r\nHost: a\r\nContent-Length : 5\r\n\r\n', 400],
    ['a field line without a colon', 'GET / HTTP/1.1\r\nHost: a\r\nno-colon\r\n\r\n', 400],
    ['an empty field name', 'GET / HTTP/1.1\r\nHost: a\r\n: v\r\n\r\n', 400],
    ['HTTP/1.1 without Host', 'GET / HTTP/1.1\r\nAccept: */*\r\n\r\n', 400],
    ['two Host headers', 'GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n', 400],
    ['HTTP/2.0', 'GET / HTTP/2.0\r\nHost: a\r\n\r\n', 505],
    ['HTTP/1.2', 'GET / HTTP/1.2\r\nHost: a\r\n\r\n', 505],
    ['a malformed version', 'GET / HTTP/1.1x\r\nHost: a\r\n\r\n', 400],
    ['a lower-case protocol name', 'GET / http/1.1\r\nHost: a\r\n\r\n', 400],
    ['two spaces in the request line', 'GET  / HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['a space in the target', 'GET /a b HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['a missing target', 'GET HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['a method with a separator', 'GE(T / HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    // Held to llhttp's method list, as node:http behind the sidecar would be.
    ['a lower-case method', 'get / HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['an unknown method', 'MKCOLA / HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['raw UTF-8 in the target', 'GET /\xce\xb4 HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['a parameter on chunked', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;q=1\r\n\r\n', 400],
  ])('rejects %s', (_name, text, status) => {
    expect(statusOf(() => req(text))).toBe(status);
  });

  it('never accepts a head with a bare CR or LF injected into a field line (property)', () => {
    const name = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,11}$/).filter((n) => n.toLowerCase() !== 'host');
    const value = fc.stringMatching(/^[!-~]([ !-~]{0,14}[!-~])?$/);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(name, value), { minLength: 1, maxLength: 6 }),
        fc.nat(),
        fc.nat(),
        fc.constantFrom('\r', '\n'),
        (fields, which, where, bad) => {
          const lines = [['Host', 'svc'], ...fields].map(([n, v]) => `${n}: ${v}`);
          const clean = `GET / HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`;
          // The clean head parses, values trimmed and in order.
          expect(req(clean).headers).toEqual([['Host', 'svc'], ...fields].flat());
          const i = which % lines.length;
          const line = lines[i] as string;
          const at = where % (line.length + 1);
          lines[i] = line.slice(0, at) + bad + line.slice(at);
          const dirty = `GET / HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`;
          expect(statusOf(() => req(dirty))).toBe(400);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('parseResponseHead', () => {
  it('frames by Content-Length, chunked, or the connection closing', () => {
    const len = res('HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n');
    expect(len).toMatchObject({ status: 200, reason: 'OK', minor: 1, framing: Framing.Length, contentLength: 12 });
    expect(len.keepAlive).toBe(true);
    expect(res('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n').framing).toBe(Framing.Chunked);
    // Both framings: refused (as llhttp does), not resolved in favour of either.
    expect(() => res('HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n')).toThrow(
      /both Transfer-Encoding and Content-Length/,
    );
    // chunked before another coding: read until close (RFC 9112 §6.3).
    expect(res('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, deflate\r\n\r\n').framing).toBe(Framing.Close);
    const gz = res('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n');
    expect(gz).toMatchObject({ framing: Framing.Close, keepAlive: false });
    const close = res('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n');
    expect(close).toMatchObject({ framing: Framing.Close, keepAlive: false });
    expect(res('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n').framing).toBe(Framing.None);
  });

  it('gives HEAD answers, 1xx, 204 and 304 no body whatever their headers say', () => {
    expect(res('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n', 'HEAD')).toMatchObject({
      framing: Framing.None,
      keepAlive: true,
    });
    expect(res('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', 'HEAD').framing).toBe(Framing.None);
    expect(res('HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n').framing).toBe(Framing.None);
    expect(res('HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n').framing).toBe(Framing.None);
    expect(res('HTTP/1.1 100 Continue\r\n\r\n')).toMatchObject({ status: 100, framing: Framing.None });
    // No Content-Length and no body: the connection can still be reused.
    expect(res('HTTP/1.1 204 No Content\r\n\r\n').keepAlive).toBe(true);
  });

  it('applies the keep-alive rules and reads the Keep-Alive timeout hint', () => {
    expect(res('HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: close\r\n\r\n').keepAlive).toBe(false);
    expect(res('HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n').keepAlive).toBe(false);
    expect(res('HTTP/1.0 200 OK\r\nContent-Length: 1\r\nConnection: keep-alive\r\n\r\n').keepAlive).toBe(true);
    expect(res('HTTP/1.1 200 OK\r\nContent-Length: 1\r\nKeep-Alive: timeout=5, max=100\r\n\r\n').keepAliveSeconds).toBe(
      5,
    );
    expect(res('HTTP/1.1 200 OK\r\nContent-Length: 1\r\nkeep-alive: max=9,timeout=2\r\n\r\n').keepAliveSeconds).toBe(2);
    expect(res('HTTP/1.1 200 OK\r\nContent-Length: 1\r\nKeep-Alive: max=9\r\n\r\n').keepAliveSeconds).toBe(-1);
    expect(res('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n').keepAliveSeconds).toBe(-1);
  });

  it('collects lower-case names, repeated ones as arrays, and allows an empty reason', () => {
    const h = res('HTTP/1.1 201\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\nX-Y: z\r\nContent-Length: 0\r\n\r\n');
    expect(h.status).toBe(201);
    expect(h.reason).toBe('');
    expect(h.record).toEqual({ 'set-cookie': ['a=1', 'b=2'], 'x-y': 'z', 'content-length': '0' });
  });

  it('keeps headers named like Object.prototype members as plain fields', () => {
    const h = res('HTTP/1.1 200 OK\r\nConstructor: c\r\n__proto__: p\r\ntoString: t\r\nContent-Length: 0\r\n\r\n');
    expect(Object.entries(h.record)).toEqual([
      ['constructor', 'c'],
      ['__proto__', 'p'],
      ['tostring', 't'],
      ['content-length', '0'],
    ]);
  });

  it.each([
    ['a four-digit status', 'HTTP/1.1 2000 OK\r\n\r\n'],
    ['a two-digit status', 'HTTP/1.1 20 OK\r\n\r\n'],
    ['a status out of range', 'HTTP/1.1 600 Nope\r\n\r\n'],
    ['a non-numeric status', 'HTTP/1.1 abc OK\r\n\r\n'],
    ['a control character in the reason', 'HTTP/1.1 200 O\x01K\r\n\r\n'],
    ['obs-fold', 'HTTP/1.1 200 OK\r\nX-A: b\r\n c\r\n\r\n'],
    ['conflicting Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n'],
    ['a bare LF', 'HTTP/1.1 200 OK\r\nX-A: b\nContent-Length: 2\r\n\r\n'],
    ['whitespace before the colon', 'HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\n'],
    ['an HTTP/2.0 status line', 'HTTP/2.0 200 OK\r\n\r\n'],
    ['a status line that is not HTTP', 'ICY 200 OK\r\n\r\n'],
  ])('rejects a response with %s as 502 (bad gateway)', (_name, text) => {
    expect(statusOf(() => res(text))).toBe(502);
  });
});

/** Encodes a chunked body. */
function encode(chunks: readonly Uint8Array[], ext = '', trailers: readonly string[] = []): Buffer {
  const parts: Buffer[] = [];
  for (const c of chunks) {
    if (c.length === 0) continue;
    parts.push(Buffer.from(`${c.length.toString(16)}${ext}\r\n`, 'latin1'), Buffer.from(c), Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`0${ext}\r\n${trailers.map((t) => `${t}\r\n`).join('')}\r\n`, 'latin1'));
  return Buffer.concat(parts);
}

interface Decoded {
  payload: Buffer;
  end: number;
  decoder: ChunkedDecoder;
}

/** Feeds `buf` to a fresh decoder in the windows `cuts` makes; checks every onData range stays in its window. */
function decode(buf: Buffer, cuts: readonly number[], errorStatus = 400): Decoded {
  const decoder = new ChunkedDecoder(errorStatus);
  const out: Buffer[] = [];
  const bounds = [...new Set([0, ...cuts.filter((c) => c > 0 && c < buf.length), buf.length])].sort((a, b) => a - b);
  let end = -1;
  for (let i = 0; i + 1 < bounds.length && end < 0; i++) {
    const a = bounds[i] as number;
    const b = bounds[i + 1] as number;
    end = decoder.push(buf, a, b, (data, s, e) => {
      expect(data).toBe(buf);
      expect(s).toBeGreaterThanOrEqual(a);
      expect(e).toBeLessThanOrEqual(b);
      out.push(Buffer.from(data.subarray(s, e)));
    });
  }
  return { payload: Buffer.concat(out), end, decoder };
}

const everyByte = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

describe('ChunkedDecoder', () => {
  it('decodes a body and reports where it ends, leaving the next message alone', () => {
    const body = Buffer.from('5\r\nhello\r\nB\r\n, world!!!!\r\n0\r\n\r\n', 'latin1');
    const next = Buffer.from('GET /next HTTP/1.1\r\n\r\n');
    const buf = Buffer.concat([body, next]);
    const whole = decode(buf, []);
    expect(whole.payload.toString()).toBe('hello, world!!!!');
    expect(whole.end).toBe(body.length);
    expect(whole.decoder.done).toBe(true);
    expect(whole.decoder.trailers).toBeUndefined();
    const byByte = decode(buf, everyByte(buf.length));
    expect(byByte.payload.toString()).toBe('hello, world!!!!');
    expect(byByte.end).toBe(body.length);
    expect(buf.subarray(body.length)).toEqual(next);
  });

  it('asks for more (-1) until the last chunk and the trailer section are in', () => {
    const d = new ChunkedDecoder(400);
    const buf = Buffer.from('3\r\nabc\r\n0\r\n\r\n');
    for (let i = 0; i < buf.length - 1; i++) expect(d.push(buf, i, i + 1, () => {})).toBe(-1);
    expect(d.done).toBe(false);
    expect(d.push(buf, buf.length - 1, buf.length, () => {})).toBe(buf.length);
    expect(d.done).toBe(true);
  });

  it('skips chunk extensions and keeps trailer fields', () => {
    const text =
      '4;name=value;flag\r\nwiki\r\n5;q="a;\\"b"\r\npedia\r\n0;last\r\nX-Checksum: abc123\r\nX-Other:  two \r\n\r\nZ';
    const buf = Buffer.from(text, 'latin1');
    for (const cuts of [[], everyByte(buf.length)]) {
      const r = decode(buf, cuts);
      expect(r.payload.toString()).toBe('wikipedia');
      expect(r.end).toBe(buf.length - 1);
      expect(r.decoder.trailers).toEqual(['X-Checksum: abc123', 'X-Other:  two ']);
      expect(r.decoder.trailerRecord()).toEqual({ 'x-checksum': 'abc123', 'x-other': 'two' });
    }
  });

  it('decodes what chunkHeader and LAST_CHUNK encode, in upper- and lower-case hex', () => {
    const data = Buffer.alloc(300, 7);
    const buf = Buffer.concat([Buffer.from(chunkHeader(300)), data, Buffer.from(`\r\n${LAST_CHUNK}`)]);
    expect(chunkHeader(300)).toBe('12c\r\n');
    expect(decode(buf, []).payload).toEqual(data);
    expect(decode(Buffer.from('12C\r\n'), []).end).toBe(-1);
    expect(decode(Buffer.concat([Buffer.from('12C\r\n'), data, Buffer.from('\r\n0\r\n\r\n')]), []).payload).toEqual(
      data,
    );
  });

  it('gives the same payload, trailers and end index however the input is split (property)', () => {
    const ext = fc.constantFrom('', ';a', ';a=b', ';x="y z"', ';k=v;k2', ';q="\\"\\\\"');
    const trailer = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,8}: [ -~]{0,12}$/);
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 0, maxLength: 300 }), { maxLength: 6 }),
        ext,
        fc.array(trailer, { maxLength: 3 }),
        fc.uint8Array({ maxLength: 40 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (chunks, e, trailers, suffix, rawCuts) => {
          const body = encode(chunks, e, trailers);
          const buf = Buffer.concat([body, suffix]);
          const expected = Buffer.concat(chunks);
          const cuts = rawCuts.map((c) => c % (buf.length + 1));
          const r = decode(buf, cuts);
          expect(r.payload).toEqual(expected);
          expect(r.end).toBe(body.length);
          expect(r.decoder.trailers).toEqual(trailers.length > 0 ? trailers : undefined);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('gives the same result fed one byte at a time (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 5 }), (chunks) => {
        const buf = Buffer.concat([encode(chunks, ';e=1', ['T: 1']), Buffer.from('rest')]);
        const r = decode(buf, everyByte(buf.length));
        expect(r.payload).toEqual(Buffer.concat(chunks));
        expect(r.end).toBe(buf.length - 4);
      }),
      { numRuns: 100 },
    );
  });

  it.each([
    ['a missing size', '\r\nabc\r\n0\r\n\r\n'],
    ['a non-hex size', 'zz\r\nabc\r\n0\r\n\r\n'],
    ['a negative size', '-5\r\nabcde\r\n0\r\n\r\n'],
    ['a 0x prefix', '0x5\r\nabcde\r\n0\r\n\r\n'],
    ['a size of 13 hex digits', '1000000000000\r\nabc'],
    ['junk after the size', '5x\r\nabcde\r\n0\r\n\r\n'],
    ['a bare LF after the size', '5\nabcde\r\n0\r\n\r\n'],
    ['a bare LF in an extension', '5;a=b\nabcde\r\n0\r\n\r\n'],
    ['CR without LF after the size', '5\r\rabcde\r\n0\r\n\r\n'],
    ['data longer than its size', '5\r\nabcdef\r\n0\r\n\r\n'],
    ['data not followed by CRLF', '5\r\nabcde\n0\r\n\r\n'],
    ['a bare LF in a trailer', '0\r\nX-A: b\n\r\n'],
    ['a bare LF ending the body', '0\r\n\n'],
    ['an extension over 4 KiB', `5;${'x'.repeat(5000)}\r\nabcde\r\n0\r\n\r\n`],
    ['a trailer section over 16 KiB', `0\r\nX-A: ${'y'.repeat(17_000)}\r\n\r\n`],
    // What llhttp's strict mode refuses: a proxy must not read a body differently from the server behind it.
    ['a space and junk after the size', '5 garbage\r\nabcde\r\n0\r\n\r\n'],
    ['a space after the size', '5 \r\nabcde\r\n0\r\n\r\n'],
    ['a semicolon without an extension', '5;\r\nabcde\r\n0\r\n\r\n'],
    ['an unbalanced quote in an extension', '5;a="b\r\nabcde\r\n0\r\n\r\n'],
    ['a NUL in an extension', '5;a=b\0c\r\nabcde\r\n0\r\n\r\n'],
    ['a NUL in a quoted extension', '5;a="b\0c"\r\nabcde\r\n0\r\n\r\n'],
    ['an extension value missing', '5;a=\r\nabcde\r\n0\r\n\r\n'],
    ['a chunk-size line ending in a bare CR', '5\rabcde\r\n0\r\n\r\n'],
    ['a trailer without a colon', '0\r\nX-A\r\n\r\n'],
    ['a trailer with a space before the colon', '0\r\nX-A : b\r\n\r\n'],
    ['an obs-folded trailer', '0\r\nX-A: b\r\n c\r\n\r\n'],
    ['a control character in a trailer', '0\r\nX-A: b\x01c\r\n\r\n'],
  ])('rejects %s, with the status it was built with', (_name, text) => {
    const buf = Buffer.from(text, 'latin1');
    expect(statusOf(() => decode(buf, []))).toBe(400);
    expect(statusOf(() => decode(buf, everyByte(buf.length), 502))).toBe(502);
  });
});
