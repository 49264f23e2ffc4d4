/**
 * The harness's own request cases: smuggling and desync vectors around framing (Content-Length,
 * Transfer-Encoding, chunk sizes, extensions, trailers), upgrades and request targets. Every
 * request names `Host: svc` (or the services `a` / `b`) so the same bytes also route through a
 * full Sidecar to a recording upstream.
 *
 * `expect: 'reject'`: the engine must answer 400 or 501 and close, having accepted nothing (and
 * nothing may reach an upstream through the Sidecar). `check`: a case-specific expectation on the
 * engine's outcome, besides the comparison with node.
 */
import type { Outcome } from './harness.js';

export interface OwnCase {
  name: string;
  bytes: Buffer;
  expect?: 'reject';
  /** Returns a complaint, or undefined when the outcome is right. `via` says which target produced it. */
  check?: (o: Outcome, via: 'engine' | 'sidecar') => string | undefined;
}

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
/** A request with `Host: svc`, the given extra header lines, and `body` after the head. */
const post = (headers: string, body = '', line = 'POST /x HTTP/1.1'): Buffer =>
  b(`${line}\r\nHost: svc\r\n${headers}\r\n${body}`);
const chunked = (body: string): Buffer => post('Transfer-Encoding: chunked\r\n', body);
const NEXT = 'GET /next HTTP/1.1\r\nHost: svc\r\n\r\n';

/** Cases the brief requires to be rejected (400 / 501, connection closed). */
const mustReject: Array<[string, Buffer]> = [
  [
    'TE: NBSP before chunked (\\xa0chunked)',
    post('Transfer-Encoding: \xa0chunked\r\n', `5\r\nhello\r\n0\r\n\r\n${NEXT}`),
  ],
  ['TE: chunked, chunked', post('Transfer-Encoding: chunked, chunked\r\n', `5\r\nhello\r\n0\r\n\r\n${NEXT}`)],
  [
    'TE: two chunked header lines',
    post('Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n', `5\r\nhello\r\n0\r\n\r\n${NEXT}`),
  ],
  ['chunk size "5 garbage"', chunked(`5 garbage\r\nhello\r\n0\r\n\r\n${NEXT}`)],
  ['chunk extension empty "5;"', chunked(`5;\r\nhello\r\n0\r\n\r\n${NEXT}`)],
  ['chunk extension unbalanced quote 5;a="b', chunked(`5;a="b\r\nhello\r\n0\r\n\r\n${NEXT}`)],
  ['chunk extension with NUL', chunked(`5;a=b\x00c\r\nhello\r\n0\r\n\r\n${NEXT}`)],
  ['chunk size line ending in bare CR', chunked(`5\rhello\r\n0\r\n\r\n${NEXT}`)],
  ['chunk extension over 4 KiB', chunked(`5;a=${'b'.repeat(5000)}\r\nhello\r\n0\r\n\r\n${NEXT}`)],
  ['trailer line without colon', chunked(`5\r\nhello\r\n0\r\nX-Trailer\r\n\r\n${NEXT}`)],
  ['trailer line with space before colon', chunked(`5\r\nhello\r\n0\r\nX-Trailer : v\r\n\r\n${NEXT}`)],
  ['trailer line with control char', chunked(`5\r\nhello\r\n0\r\nX-Trailer: a\x01b\r\n\r\n${NEXT}`)],
  ['CL: 5, 5', post('Content-Length: 5, 5\r\n', `hello${NEXT}`)],
  ['CL: two identical lines', post('Content-Length: 5\r\nContent-Length: 5\r\n', `hello${NEXT}`)],
  ['CL: NBSP before value (\\xa05)', post('Content-Length: \xa05\r\n', `hello${NEXT}`)],
  ['CL: +5', post('Content-Length: +5\r\n', `hello${NEXT}`)],
  ['CL then TE', post('Content-Length: 5\r\nTransfer-Encoding: chunked\r\n', `0\r\n\r\n${NEXT}`)],
  ['TE then CL', post('Transfer-Encoding: chunked\r\nContent-Length: 5\r\n', `0\r\n\r\n${NEXT}`)],
];

/** Cases compared with node only (whatever node does, the engine must not accept more or differ). */
const compared: Array<[string, Buffer]> = [
  ['chunked: simple, then a pipelined GET', chunked(`5\r\nhello\r\n0\r\n\r\n${NEXT}`)],
  ['chunked: extension token=token', chunked(`5;a=b\r\nhello\r\n0\r\n\r\n${NEXT}`)],
  ['chunked: extension with quoted value', chunked(`5;a="b;c d"\r\nhello\r\n0\r\n\r\n${NEXT}`)],
  ['chunked: several extensions', chunked(`5;a;b=c;d="e"\r\nhello\r\n0\r\n\r\n${NEXT}`)],
  ['chunked: extension name only', chunked(`5;ext\r\nhello\r\n0\r\n\r\n${NEXT}`)],
  ['chunked: space before extension', chunked(`5 ;a=b\r\nhello\r\n0\r\n\r\n${NEXT}`)],
  ['chunked: tab after size', chunked(`5\t\r\nhello\r\n0\r\n\r\n${NEXT}`)],
  ['chunked: space before the CRLF of the size', chunked(`5 \r\nhello\r\n0\r\n\r\n${NEXT}`)],
  ['chunked: leading zeros in size', chunked(`0005\r\nhello\r\n000\r\n\r\n${NEXT}`)],
  ['chunked: upper-case hex size', chunked(`A\r\n0123456789\r\n0\r\n\r\n${NEXT}`)],
  ['chunked: size overflow', chunked(`fffffffffffffffffff\r\nhello\r\n0\r\n\r\n${NEXT}`)],
  ['chunked: size 0x5', chunked(`0x5\r\nhello\r\n0\r\n\r\n${NEXT}`)],
  ['chunked: negative size', chunked(`-5\r\nhello\r\n0\r\n\r\n${NEXT}`)],
  ['chunked: data not followed by CRLF', chunked(`5\r\nhelloXX0\r\n\r\n${NEXT}`)],
  ['chunked: data followed by bare LF', chunked(`5\r\nhello\n0\r\n\r\n${NEXT}`)],
  ['chunked: LF-only size line', chunked(`5\nhello\r\n0\r\n\r\n${NEXT}`)],
  ['chunked: valid trailer', chunked(`5\r\nhello\r\n0\r\nX-Trailer: v\r\n\r\n${NEXT}`)],
  ['chunked: trailer with obs-fold', chunked(`5\r\nhello\r\n0\r\nX-Trailer: v\r\n w\r\n\r\n${NEXT}`)],
  ['chunked: last chunk without final CRLF, then a request', chunked(`5\r\nhello\r\n0\r\n${NEXT}`)],
  ['chunked: two chunks', chunked(`2\r\nhe\r\n3\r\nllo\r\n0\r\n\r\n${NEXT}`)],
  ['chunked: empty body', chunked(`0\r\n\r\n${NEXT}`)],
  ['TE: Chunked (upper case)', post('Transfer-Encoding: Chunked\r\n', `5\r\nhello\r\n0\r\n\r\n${NEXT}`)],
  ['TE: chunked with trailing spaces', post('Transfer-Encoding: chunked  \r\n', `5\r\nhello\r\n0\r\n\r\n${NEXT}`)],
  ['TE: gzip, chunked', post('Transfer-Encoding: gzip, chunked\r\n', `5\r\nhello\r\n0\r\n\r\n${NEXT}`)],
  ['TE: chunked, gzip (request)', post('Transfer-Encoding: chunked, gzip\r\n', `5\r\nhello\r\n0\r\n\r\n${NEXT}`)],
  ['TE: identity (request)', post('Transfer-Encoding: identity\r\n', `5\r\nhello\r\n0\r\n\r\n${NEXT}`)],
  ['TE: ,chunked', post('Transfer-Encoding: ,chunked\r\n', `5\r\nhello\r\n0\r\n\r\n${NEXT}`)],
  ['TE: chunked;q=1', post('Transfer-Encoding: chunked;q=1\r\n', `5\r\nhello\r\n0\r\n\r\n${NEXT}`)],
  ['TE: obs-fold into chunked', post('Transfer-Encoding: x\r\n chunked\r\n', `5\r\nhello\r\n0\r\n\r\n${NEXT}`)],
  ['TE: chunked on HTTP/1.0', post('Transfer-Encoding: chunked\r\n', '5\r\nhello\r\n0\r\n\r\n', 'POST /x HTTP/1.0')],
  ['TE: space before colon', post('Transfer-Encoding : chunked\r\n', `5\r\nhello\r\n0\r\n\r\n${NEXT}`)],
  ['CL: leading zeros', post('Content-Length: 005\r\n', `hello${NEXT}`)],
  ['CL: empty', post('Content-Length: \r\n', `hello${NEXT}`)],
  ['CL: negative', post('Content-Length: -1\r\n', `hello${NEXT}`)],
  ['CL: hex', post('Content-Length: 0x5\r\n', `hello${NEXT}`)],
  ['CL: overflow', post('Content-Length: 99999999999999999999\r\n', `hello${NEXT}`)],
  ['CL: space before colon', post('Content-Length : 5\r\n', `hello${NEXT}`)],
  ['CL: 5 then 6', post('Content-Length: 5\r\nContent-Length: 6\r\n', `hello!${NEXT}`)],
  ['CL: trailing space', post('Content-Length: 5 \r\n', `hello${NEXT}`)],
  ['CL: tab before value', post('Content-Length:\t5\r\n', `hello${NEXT}`)],
  ['CL: 0 on GET, then a pipelined GET', b(`GET /x HTTP/1.1\r\nHost: svc\r\nContent-Length: 0\r\n\r\n${NEXT}`)],
  ['CL: body on GET', b(`GET /x HTTP/1.1\r\nHost: svc\r\nContent-Length: 5\r\n\r\nhello${NEXT}`)],
  ['head: bare LF line endings', b('GET /x HTTP/1.1\nHost: svc\n\n')],
  ['head: bare LF after one header', b('GET /x HTTP/1.1\r\nHost: svc\nX-A: b\r\n\r\n')],
  ['head: bare CR in a header value', b('GET /x HTTP/1.1\r\nHost: svc\r\nX-A: b\rc\r\n\r\n')],
  ['head: NUL in a header value', b('GET /x HTTP/1.1\r\nHost: svc\r\nX-A: b\x00c\r\n\r\n')],
  ['head: DEL in a header value', b('GET /x HTTP/1.1\r\nHost: svc\r\nX-A: b\x7fc\r\n\r\n')],
  ['head: obs-text in a header value', b('GET /x HTTP/1.1\r\nHost: svc\r\nX-A: b\xe9c\r\n\r\n')],
  ['head: obs-fold', b('GET /x HTTP/1.1\r\nHost: svc\r\nX-A: b\r\n c\r\n\r\n')],
  ['head: space in a header name', b('GET /x HTTP/1.1\r\nHost: svc\r\nX A: b\r\n\r\n')],
  ['head: empty header name', b('GET /x HTTP/1.1\r\nHost: svc\r\n: b\r\n\r\n')],
  ['head: two Host headers', b('GET /x HTTP/1.1\r\nHost: svc\r\nHost: a\r\n\r\n')],
  ['head: no Host (HTTP/1.1)', b('GET /x HTTP/1.1\r\n\r\n')],
  ['head: Host with NBSP', b('GET /x HTTP/1.1\r\nHost: \xa0svc\r\n\r\n')],
  ['head: over 16 KiB', b(`GET /x HTTP/1.1\r\nHost: svc\r\nX-Big: ${'y'.repeat(17_000)}\r\n\r\n`)],
  ['head: leading CRLF before the request line', b('\r\nGET /x HTTP/1.1\r\nHost: svc\r\n\r\n')],
  ['line: lower-case method', b('get /x HTTP/1.1\r\nHost: svc\r\n\r\n')],
  ['line: unknown method', b('FOO /x HTTP/1.1\r\nHost: svc\r\n\r\n')],
  ['line: CONNECT', b('CONNECT svc:80 HTTP/1.1\r\nHost: svc:80\r\n\r\n')],
  ['line: two spaces after method', b('GET  /x HTTP/1.1\r\nHost: svc\r\n\r\n')],
  ['line: trailing space', b('GET /x HTTP/1.1 \r\nHost: svc\r\n\r\n')],
  ['line: lower-case version', b('GET /x http/1.1\r\nHost: svc\r\n\r\n')],
  ['line: HTTP/1.2', b('GET /x HTTP/1.2\r\nHost: svc\r\n\r\n')],
  ['line: HTTP/2.0', b('GET /x HTTP/2.0\r\nHost: svc\r\n\r\n')],
  ['line: HTTP/0.9 style', b('GET /x\r\n\r\n')],
  // llhttp takes `GET /` + LF as a whole HTTP/0.9 request; a head that never ends must not leave
  // the engine waiting (found by the mutation fuzz: `GET /\n\r\nost: svc\r\nchunked\n`).
  ['line: HTTP/0.9 style ended by a bare LF, head never completed', b('GET /\n\r\nX: y\r\n')],
  ['line: fragment in target', b('GET /x#y HTTP/1.1\r\nHost: svc\r\n\r\n')],
  ['line: non-ASCII byte in target', b('GET /x\xff HTTP/1.1\r\nHost: svc\r\n\r\n')],
  ['line: tab in target', b('GET /x\ty HTTP/1.1\r\nHost: svc\r\n\r\n')],
  ['line: asterisk-form OPTIONS', b('OPTIONS * HTTP/1.1\r\nHost: svc\r\n\r\n')],
  ['line: asterisk-form GET', b('GET * HTTP/1.1\r\nHost: svc\r\n\r\n')],
  ['line: absolute-form with user info', b('GET http://u@a/x HTTP/1.1\r\nHost: b\r\n\r\n')],
  ['line: absolute-form without path', b('GET http://a HTTP/1.1\r\nHost: b\r\n\r\n')],
  ['line: absolute-form with query only', b('GET http://a?q=1 HTTP/1.1\r\nHost: b\r\n\r\n')],
  [
    'HTTP/1.0 keep-alive, pipelined',
    b('GET /x HTTP/1.0\r\nHost: svc\r\nConnection: keep-alive\r\n\r\nGET /y HTTP/1.0\r\nHost: svc\r\n\r\n'),
  ],
  ['Connection: close, then data', b(`GET /x HTTP/1.1\r\nHost: svc\r\nConnection: close\r\n\r\n${NEXT}`)],
  ['Expect: 100-continue with its body', post('Expect: 100-continue\r\nContent-Length: 5\r\n', `hello${NEXT}`)],
  ['HEAD, then a pipelined GET', b(`HEAD /x HTTP/1.1\r\nHost: svc\r\n\r\n${NEXT}`)],
  [
    'CL.TE classic (CL covers a smuggled prefix)',
    post('Content-Length: 6\r\nTransfer-Encoding: chunked\r\n', '0\r\n\r\nG'),
  ],
  [
    'TE.CL classic',
    post('Transfer-Encoding: chunked\r\nContent-Length: 4\r\n', `5c\r\nGPOST / HTTP/1.1\r\n\r\n0\r\n\r\n`),
  ],
];

/** The first accepted request is `method` /x with exactly `body`; the second, if any, is GET /next. Nothing else. */
const upgradeFraming = (o: Outcome, method = 'POST', body = 'hello'): string | undefined => {
  const [first, second, ...rest] = o.accepted;
  if (first === undefined) return 'the request that asked to upgrade was not accepted';
  if (first.method !== method || first.target !== '/x' || first.body.toString('latin1') !== body)
    return `first request framed wrong: ${first.method} ${first.target} body=${JSON.stringify(first.body.toString('latin1'))}`;
  if (second !== undefined && (second.method !== 'GET' || second.target !== '/next' || second.body.length !== 0))
    return `second request framed wrong: ${second.method} ${second.target}`;
  if (rest.length > 0) return `${rest.length} more requests than sent`;
  return undefined;
};

const absoluteForm = (o: Outcome, via: 'engine' | 'sidecar'): string | undefined => {
  const [first] = o.accepted;
  if (first === undefined || o.accepted.length !== 1) return `expected one accepted request, got ${o.accepted.length}`;
  if (first.target !== '/x') return `target ${JSON.stringify(first.target)}, expected "/x"`;
  if (via === 'engine' && first.authority !== 'a') return `authority ${JSON.stringify(first.authority)}, expected "a"`;
  if (via === 'sidecar' && first.service !== 'a')
    return `routed to service ${JSON.stringify(first.service)}, expected "a"`;
  return undefined;
};

export const OWN_CASES: readonly OwnCase[] = [
  ...mustReject.map(([name, bytes]): OwnCase => ({ name: `own ${name}`, bytes, expect: 'reject' })),
  {
    name: 'own upgrade request with a Content-Length body, then a second request',
    bytes: post('Connection: upgrade\r\nUpgrade: x\r\nContent-Length: 5\r\n', `hello${NEXT}`),
    check: (o) => upgradeFraming(o),
  },
  {
    name: 'own upgrade request without a body, then a second request',
    bytes: b(`GET /x HTTP/1.1\r\nHost: svc\r\nConnection: upgrade\r\nUpgrade: x\r\n\r\n${NEXT}`),
    check: (o) => upgradeFraming(o, 'GET', ''),
  },
  {
    name: 'own absolute-form target with a different Host (GET http://a/x, Host: b)',
    bytes: b('GET http://a/x HTTP/1.1\r\nHost: b\r\n\r\n'),
    check: absoluteForm,
  },
  ...compared.map(([name, bytes]): OwnCase => ({ name: `own ${name}`, bytes })),
];

/** Services the Sidecar pass registers (the hosts the own cases and most HTTP Garden payloads name). */
export const SIDECAR_SERVICES: readonly string[] = ['svc', 'a', 'b', 'whatever', 'localhost'];

/** A response: the status line, header lines, then `body` after the blank line. */
const response = (headers: string, body = '', line = 'HTTP/1.1 200 OK'): Buffer =>
  b(`${line}\r\n${headers}\r\n${body}`);
const chunkedResponse = (body: string): Buffer => response('Transfer-Encoding: chunked\r\n', body);

/** The harness's own response cases (the pool reads them from a raw upstream; node's client is the reference). */
export const OWN_RESPONSES: ReadonlyArray<{ name: string; bytes: Buffer }> = (
  [
    ['CL and TE: chunked', response('Content-Length: 3\r\nTransfer-Encoding: chunked\r\n', '5\r\nhello\r\n0\r\n\r\n')],
    ['TE: chunked, chunked', response('Transfer-Encoding: chunked, chunked\r\n', '5\r\nhello\r\n0\r\n\r\n')],
    [
      'TE: two chunked lines',
      response('Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n', '5\r\nhello\r\n0\r\n\r\n'),
    ],
    ['TE: NBSP before chunked', response('Transfer-Encoding: \xa0chunked\r\n', '5\r\nhello\r\n0\r\n\r\n')],
    ['TE: gzip (close-delimited)', response('Transfer-Encoding: gzip\r\n', 'abc')],
    [
      'TE: chunked, gzip (close-delimited)',
      response('Transfer-Encoding: chunked, gzip\r\n', '5\r\nhello\r\n0\r\n\r\n'),
    ],
    ['TE: chunked;q=1', response('Transfer-Encoding: chunked;q=1\r\n', '5\r\nhello\r\n0\r\n\r\n')],
    ['chunked: simple', chunkedResponse('5\r\nhello\r\n0\r\n\r\n')],
    ['chunked: extensions', chunkedResponse('5;a=b;c="d e"\r\nhello\r\n0;z\r\n\r\n')],
    ['chunked: size "5 garbage"', chunkedResponse('5 garbage\r\nhello\r\n0\r\n\r\n')],
    ['chunked: empty extension', chunkedResponse('5;\r\nhello\r\n0\r\n\r\n')],
    ['chunked: unbalanced quote', chunkedResponse('5;a="b\r\nhello\r\n0\r\n\r\n')],
    ['chunked: NUL in extension', chunkedResponse('5;a=b\x00c\r\nhello\r\n0\r\n\r\n')],
    ['chunked: bare CR after size', chunkedResponse('5\rhello\r\n0\r\n\r\n')],
    ['chunked: data not followed by CRLF', chunkedResponse('5\r\nhelloXX0\r\n\r\n')],
    ['chunked: trailer without colon', chunkedResponse('5\r\nhello\r\n0\r\nX-T\r\n\r\n')],
    ['chunked: valid trailer', chunkedResponse('5\r\nhello\r\n0\r\nX-T: v\r\n\r\n')],
    ['chunked: size overflow', chunkedResponse('fffffffffffffffffff\r\nhello\r\n0\r\n\r\n')],
    ['CL: 5, 5', response('Content-Length: 5, 5\r\n', 'hello')],
    ['CL: two identical lines', response('Content-Length: 5\r\nContent-Length: 5\r\n', 'hello')],
    ['CL: 5 then 6', response('Content-Length: 5\r\nContent-Length: 6\r\n', 'hello!')],
    ['CL: +5', response('Content-Length: +5\r\n', 'hello')],
    ['CL: NBSP before value', response('Content-Length: \xa05\r\n', 'hello')],
    ['CL: empty', response('Content-Length: \r\n', 'hello')],
    ['CL: leading zeros', response('Content-Length: 005\r\n', 'hello')],
    ['CL: shorter body, then close', response('Content-Length: 10\r\n', 'hello')],
    ['no framing: close-delimited', response('', 'until the end')],
    ['204 with a body', response('Content-Length: 5\r\n', 'hello', 'HTTP/1.1 204 No Content')],
    ['304 with a body', response('Content-Length: 5\r\n', 'hello', 'HTTP/1.1 304 Not Modified')],
    ['100 then 200', b('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello')],
    [
      '103 with headers then 200',
      b('HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'),
    ],
    [
      '101 nobody asked for',
      response('Connection: upgrade\r\nUpgrade: x\r\n', 'hello', 'HTTP/1.1 101 Switching Protocols'),
    ],
    ['status without reason or space', response('Content-Length: 2\r\n', 'ok', 'HTTP/1.1 200')],
    ['status with empty reason', response('Content-Length: 2\r\n', 'ok', 'HTTP/1.1 200 ')],
    ['status 4 digits', response('Content-Length: 2\r\n', 'ok', 'HTTP/1.1 2000 OK')],
    ['status 099', response('Content-Length: 2\r\n', 'ok', 'HTTP/1.1 099 X')],
    ['status 600', response('Content-Length: 2\r\n', 'ok', 'HTTP/1.1 600 X')],
    ['lower-case version', response('Content-Length: 2\r\n', 'ok', 'http/1.1 200 OK')],
    ['two spaces before status', response('Content-Length: 2\r\n', 'ok', 'HTTP/1.1  200 OK')],
    ['control char in reason', response('Content-Length: 2\r\n', 'ok', 'HTTP/1.1 200 O\x01K')],
    ['obs-fold', response('X-A: b\r\n c\r\nContent-Length: 2\r\n', 'ok')],
    ['bare LF in head', b('HTTP/1.1 200 OK\nContent-Length: 2\n\nok')],
    ['NUL in header value', response('X-A: b\x00c\r\nContent-Length: 2\r\n', 'ok')],
    ['space before colon', response('Content-Length : 2\r\n', 'ok')],
    ['Connection: close with extra data', response('Content-Length: 2\r\nConnection: close\r\n', 'okEXTRA')],
    [
      'HTTP/1.0 with keep-alive and CL',
      response('Connection: keep-alive\r\nContent-Length: 2\r\n', 'ok', 'HTTP/1.0 200 OK'),
    ],
  ] as Array<[string, Buffer]>
).map(([name, bytes]) => ({ name: `own response ${name}`, bytes }));
