import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, createServer as createTcpServer, type Socket, type Server as TcpServer } from 'node:net';
import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { Http1Pool, type Http1PoolOptions } from '../../packages/proxy/src/http1/client.js';

type Handler = Dispatcher.DispatchHandler;
const EMPTY = Buffer.alloc(0);

type Fields = Record<string, string | string[] | undefined>;
type Result = { status: number; headers: Fields; body: Buffer; trailers: Fields; informational: number[] } & {
  error: (Error & { code?: string }) | undefined;
};

/** Runs one request and collects what the handler sees; `hooks` run first (they may pause, abort …). */
function call(pool: Http1Pool, opts: Partial<Dispatcher.DispatchOptions>, hooks: Partial<Handler> = {}) {
  return new Promise<Result>((resolve) => {
    const r: Result = { status: 0, headers: {}, body: EMPTY, trailers: {}, informational: [], error: undefined };
    const chunks: Buffer[] = [];
    let settled = false;
    let timedOut = false;
    const settle = (apply: () => void): void => {
      if (timedOut) return;
      // onResponseEnd / onResponseError at most once, never both (checked after each test).
      if (settled) {
        doubleSettles++;
        return;
      }
      settled = true;
      clearTimeout(timer);
      apply();
      r.body = Buffer.concat(chunks);
      resolve(r);
    };
    // A request that never ends or fails is reported as an error, so a hang fails fast.
    const timer = setTimeout(() => {
      settle(() => {
        r.error = new Error('no onResponseEnd / onResponseError within 3 s');
      });
      timedOut = true;
    }, 3000);
    pool.dispatch({ method: 'GET', path: '/', ...opts } as Dispatcher.DispatchOptions, {
      onRequestStart: (c, ctx) => hooks.onRequestStart?.(c, ctx),
      onResponseStart: (c, status, headers, text) => {
        if (status < 200) r.informational.push(status);
        else [r.status, r.headers] = [status, headers];
        hooks.onResponseStart?.(c, status, headers, text);
      },
      onResponseData: (c, chunk) => {
        chunks.push(chunk);
        hooks.onResponseData?.(c, chunk);
      },
      onResponseEnd: (_c, trailers) =>
        settle(() => {
          r.trailers = trailers;
        }),
      onResponseError: (_c, error) =>
        settle(() => {
          r.error = error;
        }),
    });
  });
}

let doubleSettles = 0;
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  expect(doubleSettles).toBe(0);
});

/** Listens on loopback; the cleanup resets every connection the server accepted, then closes it. */
async function listen(server: Server | TcpServer): Promise<{ port: number; connections: () => number }> {
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => sockets.add(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => {
    for (const s of sockets) s.destroy();
    return new Promise((r) => server.close(r));
  });
  return { port: (server.address() as AddressInfo).port, connections: () => sockets.size };
}

/** A node:http upstream that records the sockets requests came on. */
async function upstream(handler: (req: IncomingMessage, res: ServerResponse) => void, keepAliveTimeout = 5000) {
  const seen: Socket[] = [];
  const server: Server = createServer((req, res) => {
    seen.push(req.socket);
    handler(req, res);
  });
  server.keepAliveTimeout = keepAliveTimeout;
  const { port } = await listen(server);
  return { server, port, seen, distinct: () => new Set(seen).size };
}

/** A raw TCP upstream: `onRequest(socket, index)` runs once per request head received (requests have no body). */
async function rawUpstream(onRequest: (s: Socket, index: number) => void) {
  let n = 0;
  const server = createTcpServer((s) => {
    let buf = '';
    s.on('error', () => {});
    s.on('data', (d) => {
      buf += d.toString('latin1');
      for (let at = buf.indexOf('\r\n\r\n'); at >= 0; at = buf.indexOf('\r\n\r\n')) {
        buf = buf.slice(at + 4);
        onRequest(s, n++);
      }
    });
  });
  return listen(server);
}

function pool(port: number, options?: Http1PoolOptions): Http1Pool {
  const p = new Http1Pool(`http://127.0.0.1:${port}`, options);
  cleanups.push(() => p.destroy());
  return p;
}

const echo = (req: IncomingMessage, res: ServerResponse): void => {
  const parts: Buffer[] = [];
  req.on('data', (d: Buffer) => parts.push(d));
  req.on('end', () => {
    const { 'transfer-encoding': te, 'content-length': cl } = req.headers;
    res.writeHead(200, { 'x-te': String(te), 'x-cl': String(cl), 'x-sha': sha(Buffer.concat(parts)) });
    res.end(Buffer.concat(parts));
  });
};

const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');
const waitFor = async (cond: () => boolean, ms = 1000): Promise<void> => {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('Http1Pool', () => {
  it('reuses one keep-alive socket for sequential requests, and sends Host', async () => {
    const up = await upstream((req, res) => res.end(`${req.url} ${req.headers.host}`));
    const p = pool(up.port);
    for (const path of ['/a', '/b', '/c']) {
      const r = await call(p, { path });
      expect(r.status).toBe(200);
      expect(r.body.toString()).toBe(`${path} 127.0.0.1:${up.port}`);
    }
    expect(up.distinct()).toBe(1);
    expect(p.connected).toBe(1);
    // A Host the caller gives replaces the pool's own (a second one would be a 400).
    const custom = await call(p, { headers: ['Host', 'custom.example', 'x-a', '1'] });
    expect(custom.body.toString()).toBe('/ custom.example');
  });

  it('opens at most `connections` sockets and queues the rest in order', async () => {
    let [active, peak] = [0, 0];
    const order: string[] = [];
    const up = await upstream((req, res) => {
      peak = Math.max(peak, ++active);
      order.push(req.url as string);
      setTimeout(() => res.end(req.url, () => active--), 30);
    });
    const p = pool(up.port, { connections: 2 });
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => call(p, { path: `/${i}` })));
    expect(results.map((r) => r.body.toString())).toEqual(['/0', '/1', '/2', '/3', '/4', '/5']);
    expect(peak).toBe(2);
    expect(up.distinct()).toBe(2);
    // FIFO: each pair of sockets takes the two oldest queued requests.
    expect([0, 2, 4].map((i) => order.slice(i, i + 2).sort())).toEqual([
      ['/0', '/1'],
      ['/2', '/3'],
      ['/4', '/5'],
    ]);
  });

  it('reads chunked responses with trailers, and HEAD answers without waiting for a body', async () => {
    const up = await upstream((req, res) => {
      if (req.method === 'HEAD') return res.writeHead(200, { 'content-length': '1000' }).end();
      res.writeHead(200, { trailer: 'x-sum' });
      res.write('one,');
      setTimeout(() => {
        res.write('two,three');
        res.addTrailers({ 'x-sum': 'abc' });
        res.end();
      }, 20);
    });
    const p = pool(up.port);
    const r = await call(p, {});
    expect([r.headers['transfer-encoding'], r.body.toString(), r.trailers]).toEqual([
      'chunked',
      'one,two,three',
      { 'x-sum': 'abc' },
    ]);
    const head = await call(p, { method: 'HEAD' });
    expect([head.status, head.headers['content-length'], head.body.length]).toEqual([200, '1000', 0]);
    expect((await call(p, {})).body.toString()).toBe('one,two,three');
    expect(up.distinct()).toBe(1);
  });

  it('reads a close-delimited response to the end and does not reuse its socket', async () => {
    const up = await rawUpstream((s) => {
      s.write('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nfirst ');
      setTimeout(() => s.end('second'), 20);
    });
    const p = pool(up.port);
    const r = await call(p, {});
    expect([r.error, r.body.toString()]).toEqual([undefined, 'first second']);
    await waitFor(() => p.connected === 0);
    expect((await call(p, {})).body.toString()).toBe('first second');
  });

  it('sends a Buffer body with its length, a stream chunked, and a stream with a given length as is', async () => {
    const up = await upstream(echo);
    const p = pool(up.port);
    const big = Buffer.alloc(200_000, 'b');
    const r1 = await call(p, { method: 'POST', body: big });
    expect([r1.headers['x-cl'], r1.headers['x-te'], r1.headers['x-sha']]).toEqual(['200000', 'undefined', sha(big)]);
    const parts = ['alpha-', '', 'beta-', 'x'.repeat(70_000)];
    const r2 = await call(p, { method: 'POST', body: Readable.from(parts.map((s) => Buffer.from(s))) });
    expect([r2.headers['x-cl'], r2.headers['x-te']]).toEqual(['undefined', 'chunked']);
    expect(r2.body.toString()).toBe(parts.join(''));
    const body = Readable.from([Buffer.from('01234'), Buffer.from('56789')]);
    const r3 = await call(p, { method: 'PUT', headers: { 'content-length': '10' }, body });
    expect([r3.headers['x-cl'], r3.headers['x-te']]).toEqual(['10', 'undefined']);
    expect(r3.body.toString()).toBe('0123456789');
    expect(up.distinct()).toBe(1);
  });

  it('fails a request whose streamed body breaks, and never writes the next request after its partial body', async () => {
    const bodies: string[] = [];
    const up = await upstream((req, res) => {
      const parts: Buffer[] = [];
      req.on('error', () => {});
      req.on('data', (d: Buffer) => parts.push(d));
      req.on('end', () => {
        bodies.push(`${req.method} ${req.url} ${Buffer.concat(parts).toString()}`);
        res.end('ok');
      });
    });
    const p = pool(up.port);
    const body = Readable.from([Buffer.from('12345')]);
    const short = await call(p, { method: 'PUT', path: '/short', headers: { 'content-length': '10' }, body });
    expect(short.error?.code).toBe('UND_ERR_REQ_CONTENT_LENGTH_MISMATCH');
    const after1 = await call(p, { path: '/after-short' });
    expect([after1.status, after1.body.toString()]).toEqual([200, 'ok']);
    const source = new Readable({ read() {} });
    source.push('abc');
    setTimeout(() => source.destroy(new Error('source broke')), 30);
    const broken = await call(p, { method: 'POST', path: '/broken', body: source });
    expect(broken.error?.message).toBe('source broke');
    const after2 = await call(p, { path: '/after-broken' });
    expect([after2.status, after2.body.toString()]).toEqual([200, 'ok']);
    expect(bodies).toEqual(['GET /after-short ', 'GET /after-broken ']);
  });

  it('refuses header injection (CR / LF in a value, a bad name) without sending anything', async () => {
    const up = await upstream((req, res) => res.end(JSON.stringify(req.headers)));
    const p = pool(up.port);
    for (const headers of [{ 'x-evil': 'a\r\nx-injected: 1' }, ['x bad', 'v'], { ok: 'fine', 'x-evil': 'a\nb' }])
      expect((await call(p, { headers })).error?.code).toBe('UND_ERR_INVALID_ARG');
    expect(up.seen).toHaveLength(0);
    // The connection is still in step: the next request gets its own answer.
    const good = await call(p, { headers: { 'x-fine': '1' } });
    expect(JSON.parse(good.body.toString())).toMatchObject({ 'x-fine': '1' });
    expect(up.seen).toHaveLength(1);
  });

  it('replaces a keep-alive socket the server closed while idle', async () => {
    const up = await rawUpstream((s) => {
      s.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
      setTimeout(() => s.end(), 20);
    });
    const p = pool(up.port);
    expect((await call(p, {})).body.toString()).toBe('ok');
    await waitFor(() => p.connected === 0);
    const r = await call(p, {});
    expect([r.error, r.body.toString(), up.connections()]).toEqual([undefined, 'ok', 2]);
  });

  it('does not reuse an idle socket past its keepAliveTimeout', async () => {
    const sockets = new Set<Socket>();
    // No Keep-Alive hint in the response: the pool's own keepAliveTimeout applies.
    const up = await rawUpstream((s) => {
      sockets.add(s);
      s.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
    });
    const p = pool(up.port, { keepAliveTimeout: 50 });
    await call(p, {});
    await new Promise((r) => setTimeout(r, 150));
    await call(p, {});
    // The first socket was idle three times its allowance: a request must not be written on it.
    expect(sockets.size).toBe(2);
  });

  it("a server's Keep-Alive hint, less the threshold, shortens the idle time but never lengthens it", async () => {
    /** Connections two calls took, with `pauseMs` between them, to a node:http upstream whose hint is `serverKeepAliveMs`. */
    const connectionsFor = async (serverKeepAliveMs: number, options: Http1PoolOptions, pauseMs: number) => {
      const up = await upstream((_req, res) => res.end('ok'), serverKeepAliveMs);
      const p = pool(up.port, options);
      await call(p, {});
      await new Promise((r) => setTimeout(r, pauseMs));
      await call(p, {});
      return up.distinct();
    };
    // `Keep-Alive: timeout=10` allows 9 s, but keepAliveTimeout (50 ms) bounds the pool's idle sockets.
    expect(await connectionsFor(10_000, { keepAliveTimeout: 50 }, 150)).toBe(2);
    // Within both, the socket is reused.
    expect(await connectionsFor(10_000, { keepAliveTimeout: 1_000 }, 150)).toBe(1);
    // `timeout=1` less the 1 s threshold leaves nothing: the socket closes after each response.
    expect(await connectionsFor(1_000, {}, 0)).toBe(2);
    // The hint is capped by keepAliveMaxTimeout.
    expect(await connectionsFor(10_000, { keepAliveMaxTimeout: 50 }, 150)).toBe(2);
  });

  it('fails on a reset, a response cut short, a refused connection, a malformed head', async () => {
    const reset = await rawUpstream((s) => {
      s.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n0123456789');
      setTimeout(() => s.resetAndDestroy(), 20);
    });
    const r1 = await call(pool(reset.port), {});
    expect(r1.status).toBe(200);
    expect(r1.error?.code).toBe('ECONNRESET');
    // An orderly close (FIN) before the response ended is undici's "other side closed".
    const fin = await rawUpstream((s) => s.end('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n0123456789'));
    const rf = await call(pool(fin.port), {});
    expect(rf.error?.code).toBe('UND_ERR_SOCKET');
    const cut = await rawUpstream((s) => s.end('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n'));
    const r2 = await call(pool(cut.port), {});
    expect(r2.error).toBeDefined();
    expect(r2.body.toString()).toBe('hello');
    const tmp = createTcpServer();
    await new Promise<void>((r) => tmp.listen(0, '127.0.0.1', r));
    const port = (tmp.address() as AddressInfo).port;
    await new Promise((r) => tmp.close(r));
    expect((await call(pool(port), {})).error?.code).toBe('ECONNREFUSED');
    const bad = await rawUpstream((s) =>
      s.write('HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\nab'),
    );
    expect((await call(pool(bad.port), {})).error?.code).toBe('UND_ERR_SOCKET');
  });

  it('fails a response to a request that asked for no upgrade when the upstream switches protocols (101)', async () => {
    const switched = await rawUpstream((s) =>
      s.write('HTTP/1.1 101 Switching Protocols\r\nupgrade: x\r\nconnection: upgrade\r\n\r\n\x00\x01'),
    );
    const u = await call(pool(switched.port), {});
    expect(u.error?.message).toContain('switched protocols unasked');
  });

  it('reads a head split across reads, and a 1xx answer before the final one', async () => {
    const head = 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\ncontent-length: 5\r\nx-a: b\r\n\r\n';
    const up = await rawUpstream((s) => {
      s.write(head.slice(0, 20));
      setTimeout(() => s.write(head.slice(20, head.length - 1)), 30);
      setTimeout(() => s.write(`${head.slice(-1)}hello`), 60);
    });
    const r = await call(pool(up.port), {});
    expect(r.informational).toEqual([100]);
    expect([r.status, r.headers['x-a'], r.body.toString()]).toEqual([201, 'b', 'hello']);
  });

  it('does not take stale bytes of an earlier read for the end of a response head', async () => {
    // The first response leaves "\r\n\r\n" at offset 34 of whatever buffer reads land in; the
    // second one's first read ends at offset 36 with "…\r\n", the blank line following 30 ms later.
    const first = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello';
    const up = await rawUpstream((s, i) => {
      if (i === 0) s.write(first);
      else {
        s.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n');
        setTimeout(() => s.write('\r\nworld'), 30);
      }
    });
    const p = pool(up.port);
    expect((await call(p, {})).body.toString()).toBe('hello');
    const r = await call(p, {});
    expect([r.error, r.body.toString()]).toEqual([undefined, 'world']);
  });

  it('abort() from the handler fails the request once and closes the upstream socket', async () => {
    let closed = 0;
    const up = await upstream((_req, res) => res.on('close', () => closed++).write('partial'));
    const p = pool(up.port);
    let data = 0;
    const r = await call(p, {}, { onResponseStart: (c) => c.abort(new Error('stop')), onResponseData: () => data++ });
    expect(r.error?.message).toBe('stop');
    expect(data).toBe(0);
    await waitFor(() => closed === 1);
    const early = await call(p, {}, { onRequestStart: (c) => c.abort(new Error('early')) });
    expect(early.error?.message).toBe('early');
    expect(up.seen).toHaveLength(1);
  });

  it('pause() stops the flow until resume(); an 8 MB body arrives intact', async () => {
    const payload = Buffer.alloc(8 * 1024 * 1024);
    for (let i = 0; i < payload.length; i += 4) payload.writeUInt32LE(i, i);
    const up = await upstream((_req, res) => res.writeHead(200, { 'content-length': payload.length }).end(payload));
    const p = pool(up.port);
    let calls = 0;
    let duringPause = -1;
    const onResponseData = (c: Dispatcher.DispatchController): void => {
      if (++calls !== 1 && calls !== 20) return;
      c.pause();
      const at = calls;
      setTimeout(() => {
        duringPause = Math.max(duringPause, calls - at);
        c.resume();
      }, 100);
    };
    const r = await call(p, {}, { onResponseData });
    expect(duringPause).toBe(0);
    expect(r.body.length).toBe(payload.length);
    expect(r.body.equals(payload)).toBe(true);
    expect((await call(p, { method: 'HEAD' })).status).toBe(200);
    expect(up.distinct()).toBe(1);
  });

  it('hands over the socket on 101 with bytes flowing both ways', async () => {
    const up = await upstream((_req, res) => res.end('no upgrade'));
    let seen: IncomingMessage['headers'] = {};
    up.server.on('upgrade', (req: IncomingMessage, socket: Socket) => {
      seen = req.headers;
      socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\nhello|');
      socket.on('data', (d) => socket.write(d));
    });
    const p = pool(up.port);
    type Upgraded = { status: number; headers: Record<string, unknown>; socket: Socket };
    const got = await new Promise<Upgraded>((resolve, reject) => {
      const onRequestUpgrade: Handler['onRequestUpgrade'] = (_c, status, headers, socket) =>
        resolve({ status, headers, socket: socket as Socket });
      p.dispatch(
        { method: 'GET', path: '/ws', upgrade: 'echo' },
        { onRequestUpgrade, onResponseError: (_c, e) => reject(e) },
      );
    });
    cleanups.push(() => got.socket.destroy());
    expect([got.status, got.headers.upgrade]).toEqual([101, 'echo']);
    expect([seen.connection?.toLowerCase(), seen.upgrade]).toEqual(['upgrade', 'echo']);
    const texts: string[] = [];
    // Attached a tick after the hand-over, as a promise-based caller (undici's upgrade()) does.
    got.socket.on('data', (d: Buffer) => texts.push(d.toString()));
    got.socket.resume();
    got.socket.write('ping|');
    got.socket.write('pong');
    await waitFor(() => texts.join('') === 'hello|ping|pong');
    // Plain requests still use the pool's own sockets.
    expect((await call(p, {})).body.toString()).toBe('no upgrade');
  });

  it('close() lets in-flight and queued requests finish, then refuses new ones', async () => {
    const up = await upstream((req, res) => setTimeout(() => res.end(req.url), 50));
    const p = pool(up.port, { connections: 1 });
    const a = call(p, { path: '/a' });
    const b = call(p, { path: '/b' });
    const closed: boolean[] = [];
    const closing = p.close().then(() => closed.push(true));
    expect((await a).body.toString()).toBe('/a');
    expect(closed).toEqual([]);
    expect((await b).body.toString()).toBe('/b');
    await closing;
    expect(p.connected).toBe(0);
    expect((await call(p, {})).error?.code).toBe('UND_ERR_CLOSED');
  });

  it('close() lets queued requests finish when each response closes its connection', async () => {
    const up = await upstream((req, res) => {
      res.setHeader('connection', 'close');
      setTimeout(() => res.end(req.url), 20);
    });
    const p = pool(up.port, { connections: 1 });
    const a = call(p, { path: '/a' });
    const b = call(p, { path: '/b' });
    const closing = p.close();
    expect((await a).body.toString()).toBe('/a');
    const rb = await b;
    expect([rb.error?.message, rb.body.toString()]).toEqual([undefined, '/b']);
    await closing;
    expect(p.connected).toBe(0);
  });

  it('destroy() fails in-flight and queued requests and closes the sockets', async () => {
    let closed = 0;
    const up = await upstream((_req, res) => res.on('close', () => closed++));
    const p = pool(up.port, { connections: 1 });
    const calls = [call(p, { path: '/1' }), call(p, { path: '/2' }), call(p, { path: '/3' })];
    await waitFor(() => up.seen.length === 1);
    await p.destroy();
    const codes = (await Promise.all(calls)).map((r) => r.error?.code);
    expect(codes).toEqual(['UND_ERR_DESTROYED', 'UND_ERR_DESTROYED', 'UND_ERR_DESTROYED']);
    await waitFor(() => closed === 1);
    expect(up.seen).toHaveLength(1);
    expect(p.connected).toBe(0);
  });
});
