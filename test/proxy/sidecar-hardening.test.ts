/**
 * The sidecar against hostile clients and upstreams: no request may crash it, desync it or
 * starve other clients (issue 12's critical findings, each reproduced over real TCP).
 */
import { createHash } from 'node:crypto';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Http1Server } from '../../packages/proxy/src/http1/server.js';
import { Sidecar } from '../../packages/proxy/src/index.js';
import { discoveryOf, Upstream } from './helpers.js';
import { opened, Raw } from './raw-client.js';

/** Requests the upstream saw: method, path and body, in order. */
interface Seen {
  method: string;
  path: string;
  body: string;
  cookie: string | undefined;
}

describe('Sidecar hardening', () => {
  let up: Upstream;
  let seen: Seen[];
  /** Sockets the upstream accepted (pooled connections show up here). */
  let upstreamConnections = 0;
  let raw: Server;
  let sidecar: Sidecar | undefined;

  beforeAll(async () => {
    seen = [];
    up = new Upstream('u', [], (req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (d: Buffer) => parts.push(d));
      req.on('end', () => {
        const body = Buffer.concat(parts).toString('latin1');
        seen.push({ method: req.method ?? '', path: req.url ?? '', body, cookie: req.headers.cookie });
        if ((req.url ?? '').startsWith('/slow')) {
          setTimeout(() => res.end('slow'), 300);
          return;
        }
        res.end(`ok ${req.url}`);
      });
    });
    up.server.on('connection', () => upstreamConnections++);
    await up.listen();
    // An upstream that answers 101 to a plain GET, then speaks garbage.
    raw = createServer((s) => {
      s.on('error', () => {});
      s.once('data', () =>
        s.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\n\x00\x01'),
      );
    });
    await new Promise<void>((r) => raw.listen(0, '127.0.0.1', r));
  });

  afterEach(async () => {
    for (const s of opened.splice(0)) s.destroy();
    await sidecar?.close();
    sidecar = undefined;
  });

  afterAll(async () => {
    await new Promise<void>((r) => up.server.close(() => r()));
    up.server.closeAllConnections();
    await new Promise<void>((r) => raw.close(() => r()));
  });

  /** A fresh sidecar (no pooled upstream socket) for services `svc` and `raw`. */
  async function start(): Promise<number> {
    const { discovery, source } = discoveryOf([['svc', [up]]]);
    const rawPort = (raw.address() as AddressInfo).port;
    const endpoint = { type: 'http', value: `127.0.0.1:${rawPort}`, host: '127.0.0.1', port: rawPort } as const;
    source.set([up.instance('svc'), { ...up.instance('raw'), id: 'raw-1', service: 'raw', endpoint }]);
    sidecar = new Sidecar({ discovery, port: 0, admin: false, accessLog: false });
    return (await sidecar.listen()).port;
  }

  it.each([
    ['a chunk-size line ending in a bare CR', '5\rhello\r\n0\r\n\r\n'],
    ['a chunk extension over the limit', `5;${'x'.repeat(5000)}\r\nhello\r\n0\r\n\r\n`],
    ['junk after the chunk size', '5 junk\r\nhello\r\n0\r\n\r\n'],
  ])('answers 400 to %s on a fresh sidecar and stays up', async (_name, body) => {
    const port = await start();
    const c = await Raw.open(port);
    c.send(`POST /svc/upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${body}`);
    const r = await c.response();
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body.toString())).toMatchObject({ code: 'WEFT_ERR_BAD_REQUEST', status: 400 });
    expect(await c.closed()).toBe(true);
    // Nothing else is affected: the same sidecar answers the next client.
    await new Promise((r) => setTimeout(r, 50));
    const next = await Raw.open(port);
    expect((await next.send('GET /svc/after HTTP/1.1\r\nHost: x\r\n\r\n').response()).status).toBe(200);
  });

  it('frames the body of an upgrade request, never pools its upstream socket, and reads nothing after it as HTTP', async () => {
    const port = await start();
    seen.length = 0;
    const before = upstreamConnections;
    const c = await Raw.open(port);
    // The declared body is "hello". What follows an upgrade request belongs to the new protocol;
    // the upstream declines it (200), so the connection closes rather than parse it as a request
    // (a proxy in front may have tunnelled those bytes unseen).
    c.send(
      'POST /svc/up HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: x\r\nContent-Length: 5\r\n\r\nhello' +
        'GET /svc/smuggled HTTP/1.1\r\nHost: x\r\n\r\n',
    );
    const first = await c.response();
    expect(first.status).toBe(200);
    expect(first.body.toString()).toBe('ok /up');
    expect(first.headers.connection).toBe('close');
    expect(await c.closed()).toBe(true);
    // Another client with a cookie: its request must reach the upstream as its own exchange.
    const other = await Raw.open(port);
    const r = await other.send('GET /svc/mine HTTP/1.1\r\nHost: x\r\nCookie: user=other\r\n\r\n').response();
    expect(r.body.toString()).toBe('ok /mine');
    expect(seen.map((s) => [s.method, s.path, s.body])).toEqual([
      ['POST', '/up', 'hello'],
      ['GET', '/mine', ''],
    ]);
    expect(seen[1]?.cookie).toBe('user=other');
    // The upgrade request had a socket of its own, closed after its non-101 answer.
    expect(upstreamConnections - before).toBe(2);
  });

  it('ignores empty lines before a request line (RFC 9112 §2.2), as llhttp does', async () => {
    const port = await start();
    const c = await Raw.open(port);
    c.send(
      'POST /svc/a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi\r\n\r\nGET /svc/b HTTP/1.1\r\nHost: x\r\n\r\n',
    );
    expect((await c.response()).body.toString()).toBe('ok /a');
    expect((await c.response()).body.toString()).toBe('ok /b');
  });

  it('answers 502 when an upstream switches protocols on a request that asked for no upgrade', async () => {
    const port = await start();
    const c = await Raw.open(port);
    const r = await c.send('GET /raw/plain HTTP/1.1\r\nHost: x\r\n\r\n').response();
    expect([502, 504]).toContain(r.status);
    expect(r.body.toString()).toContain('switched protocols');
  });

  it('stops reading a client that pipelines without bound behind a slow request, and serves others meanwhile', async () => {
    const port = await start();
    const flood = await Raw.open(port);
    flood.send('GET /svc/slow HTTP/1.1\r\nHost: x\r\n\r\n');
    // 32 MB of pipelined requests behind the slow one.
    const one = Buffer.from('GET /svc/p HTTP/1.1\r\nHost: x\r\n\r\n', 'latin1');
    const block = Buffer.concat(Array.from({ length: Math.ceil((1 << 20) / one.length) }, () => one));
    for (let i = 0; i < 32; i++) flood.socket.write(block);
    const started = performance.now();
    const other = await Raw.open(port);
    const r = await other.send('GET /svc/quick HTTP/1.1\r\nHost: x\r\n\r\n').response();
    expect(r.status).toBe(200);
    expect(performance.now() - started).toBeLessThan(1000);
    await new Promise((r) => setTimeout(r, 100));
    // The sidecar read at most its pipeline limit plus what the kernel buffers: the client's
    // socket still holds most of the 32 MB.
    expect(flood.socket.writableLength).toBeGreaterThan(16 << 20);
  });
});

describe('Sidecar streaming', () => {
  it('relays a large response byte for byte to a slow reader (upstream read buffers are lent, never overwritten)', async () => {
    // 24 MB of a pattern that differs at every offset, written in uneven pieces.
    const total = 24 << 20;
    const pattern = Buffer.alloc(1 << 20);
    for (let i = 0; i < pattern.length; i++) pattern[i] = (i * 2654435761) >>> 24;
    const expected = createHash('sha256');
    for (let sent = 0; sent < total; sent += pattern.length) expected.update(pattern);
    const big = new Upstream('big', [], (_req, res) => {
      res.writeHead(200, { 'content-length': total });
      let sent = 0;
      let piece = 1;
      const pump = (): void => {
        while (sent < total) {
          piece = (piece * 7 + 13) % 70_000;
          const n = Math.min(piece + 1, total - sent);
          const at = sent % pattern.length;
          const m = Math.min(n, pattern.length - at);
          sent += m;
          if (!res.write(pattern.subarray(at, at + m))) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      pump();
    });
    await big.listen();
    // A second stream at the same time shares the sidecar's read path.
    const { discovery } = discoveryOf([['big', [big]]]);
    const sidecar = new Sidecar({ discovery, port: 0, admin: false, accessLog: false });
    const { port } = await sidecar.listen();
    const download = (): Promise<string> =>
      new Promise((resolve, reject) => {
        const hash = createHash('sha256');
        const socket = connect(port, '127.0.0.1');
        let head: Buffer | null = Buffer.alloc(0);
        let got = 0;
        let lastPause = 0;
        socket.on('error', reject);
        socket.on('data', (d: Buffer) => {
          let body = d;
          if (head !== null) {
            head = Buffer.concat([head, d]);
            const at = head.indexOf('\r\n\r\n');
            if (at < 0) return;
            body = head.subarray(at + 4);
            head = null;
          }
          hash.update(body);
          got += body.length;
          if (got >= total) {
            socket.destroy();
            resolve(hash.digest('hex'));
            return;
          }
          // A slow reader (~10 MB/s): once the kernel's buffers are full, the sidecar's writes queue.
          if (got - lastPause > 128 * 1024) {
            lastPause = got;
            socket.pause();
            setTimeout(() => socket.resume(), 10);
          }
        });
        socket.write('GET /big/x HTTP/1.1\r\nHost: x\r\n\r\n');
      });
    const [a, b] = await Promise.all([download(), download()]);
    const want = expected.digest('hex');
    expect(a).toBe(want);
    expect(b).toBe(want);
    await sidecar.close();
    big.server.closeAllConnections();
    await new Promise<void>((r) => big.server.close(() => r()));
  }, 60_000);
});

describe('Http1Server limits', () => {
  const options = { maxHeaderSize: 16384, headersTimeout: 5000, requestTimeout: 5000, keepAliveTimeout: 5000 };

  it('buffers at most its pipeline limit behind a response in progress, and reads on once it is done', async () => {
    const held: Array<() => void> = [];
    let answered = 0;
    const server = new Http1Server(options, (ex) => {
      const answer = (): void => {
        answered++;
        ex.writeHead(200, 'OK', [], 2);
        ex.end(Buffer.from('ok'));
      };
      if (ex.head.target === '/hold') held.push(answer);
      else answer();
    });
    const port = await server.listen(0, '127.0.0.1');
    const socket: Socket = connect(port, '127.0.0.1');
    socket.on('error', () => {});
    socket.on('data', () => {});
    const one = Buffer.from('GET /p HTTP/1.1\r\nHost: x\r\n\r\n', 'latin1');
    const block = Buffer.concat(Array.from({ length: Math.ceil((1 << 20) / one.length) }, () => one));
    socket.write('GET /hold HTTP/1.1\r\nHost: x\r\n\r\n');
    for (let i = 0; i < 16; i++) socket.write(block);
    await new Promise((r) => setTimeout(r, 300));
    const conn = [...server.connections][0];
    expect(held.length).toBe(1);
    // 64 KiB limit, plus at most one read past it.
    expect(conn?.bufferedBytes).toBeLessThanOrEqual(192 * 1024);
    expect(socket.writableLength).toBeGreaterThan(4 << 20);
    held[0]?.();
    // Once the held response is done, the pipelined requests are read and answered in turn.
    const deadline = Date.now() + 5000;
    while (answered < 1 + block.length / one.length && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(answered).toBeGreaterThan(block.length / one.length);
    socket.destroy();
    await server.close();
  });

  it('cuts off a client that stops reading its response', async () => {
    const big = Buffer.alloc(8 << 20, 97);
    const server = new Http1Server({ ...options, sendTimeout: 300 }, (ex) => {
      ex.writeHead(200, 'OK', [], big.length);
      ex.end(big);
    });
    const port = await server.listen(0, '127.0.0.1');
    const socket: Socket = connect(port, '127.0.0.1');
    socket.on('error', () => {});
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    socket.pause(); // never reads
    await new Promise((r) => setTimeout(r, 100));
    expect(server.connections.size).toBe(1);
    // The sweeper runs once a second; the connection goes within sendTimeout + one sweep.
    const closed = await new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(false), 3000);
      const check = setInterval(() => {
        if (server.connections.size === 0) {
          clearTimeout(t);
          clearInterval(check);
          resolve(true);
        }
      }, 50);
    });
    expect(closed).toBe(true);
    socket.destroy();
    await server.close();
  });
});
