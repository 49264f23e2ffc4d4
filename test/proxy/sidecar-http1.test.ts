import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sidecar } from '../../packages/proxy/src/index.js';
import { discoveryOf, Upstream } from './helpers.js';
import { opened, Raw } from './raw-client.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('Sidecar over its own HTTP/1.1 stack', () => {
  let up: Upstream;
  /** A raw upstream (service `raw`) that answers what node:http would not send. */
  let raw: Server;
  let sidecar: Sidecar;
  let port: number;
  /** Upstream responses that were cut before they ended. */
  let cut = 0;

  beforeAll(async () => {
    up = new Upstream('u', [], (req, res) => {
      const path = req.url ?? '';
      if (path.startsWith('/slow/')) {
        setTimeout(() => res.end(path), Number(path.split('/')[2]));
        return;
      }
      if (path === '/chunked') {
        res.write('one-');
        setTimeout(() => res.write('two-'), 10);
        setTimeout(() => res.end('three'), 20);
        return;
      }
      if (path === '/stream') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('first chunk');
        res.on('close', () => {
          if (!res.writableEnded) cut++;
        });
        return;
      }
      const parts: Buffer[] = [];
      req.on('data', (d: Buffer) => parts.push(d));
      req.on('end', () => {
        const body = Buffer.concat(parts);
        const { 'transfer-encoding': te, 'content-length': cl } = req.headers;
        const json = JSON.stringify({ method: req.method, path, te, cl, length: body.length, sha: sha(body) });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
        res.end(req.method === 'HEAD' ? undefined : json);
      });
    });
    up.server.on('upgrade', (req: IncomingMessage, socket: Socket) => {
      up.hits++;
      up.lastHeaders = req.headers;
      socket.on('error', () => {});
      socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\nhello|');
      socket.on('data', (d) => socket.write(d));
      socket.on('end', () => socket.end());
    });
    await up.listen();
    raw = createServer((s) => {
      s.on('error', () => {});
      s.on('data', (d) => {
        if (d.includes('/tecl '))
          s.write('HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n');
        else s.end('HTTP/1.0 200 OK\r\ncontent-type: text/plain\r\n\r\nuntil the end');
      });
    });
    await new Promise<void>((r) => raw.listen(0, '127.0.0.1', r));
    const rawPort = (raw.address() as AddressInfo).port;
    const { discovery, source } = discoveryOf([['svc', [up]]]);
    const endpoint = { type: 'http', value: `127.0.0.1:${rawPort}`, host: '127.0.0.1', port: rawPort } as const;
    source.set([up.instance('svc'), { ...up.instance('raw'), id: 'raw-1', service: 'raw', endpoint }]);
    sidecar = new Sidecar({ discovery, port: 0, admin: false, accessLog: false, maxBodyBytes: 10_000 });
    port = (await sidecar.listen()).port;
  });

  afterAll(async () => {
    for (const s of opened) s.destroy();
    await sidecar.close();
    await up.kill();
    await new Promise((r) => raw.close(r));
  });

  it('answers an HTTP/1.0 client and closes, or keeps the connection when asked to', async () => {
    const c = await Raw.open(port);
    const r = await c.send('GET /svc/echo HTTP/1.0\r\n\r\n').response();
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body.toString())).toMatchObject({ method: 'GET', path: '/echo' });
    expect(r.headers['content-length']).toBe(String(r.body.length));
    expect(r.headers.connection).toBe('close');
    expect(await c.closed()).toBe(true);

    const k = await Raw.open(port);
    const r1 = await k.send('GET /svc/echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\n').response();
    expect([r1.status, r1.headers.connection]).toEqual([200, 'keep-alive']);
    const r2 = await k.send('GET /svc/echo?again HTTP/1.0\r\nConnection: keep-alive\r\n\r\n').response();
    expect(JSON.parse(r2.body.toString())).toMatchObject({ path: '/echo?again' });
    expect(k.ended).toBe(false);

    const close11 = await Raw.open(port);
    const r3 = await close11.send('GET /svc/echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n').response();
    expect([r3.status, r3.headers.connection]).toEqual([200, 'close']);
    expect(await close11.closed()).toBe(true);
  });

  it('answers pipelined requests in order on one connection', async () => {
    const c = await Raw.open(port);
    c.send(
      'GET /svc/slow/120 HTTP/1.1\r\nHost: x\r\n\r\n' +
        'HEAD /svc/echo HTTP/1.1\r\nHost: x\r\n\r\n' +
        'POST /svc/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello' +
        'GET /svc/slow/0 HTTP/1.1\r\nHost: x\r\n\r\n',
    );
    const a = await c.response();
    expect(a.body.toString()).toBe('/slow/120');
    const b = await c.response(true);
    expect(b.status).toBe(200);
    expect(Number(b.headers['content-length'])).toBeGreaterThan(0);
    const p = await c.response();
    expect(JSON.parse(p.body.toString())).toMatchObject({ method: 'POST', length: 5, sha: sha(Buffer.from('hello')) });
    const d = await c.response();
    expect(d.body.toString()).toBe('/slow/0');
    expect(c.buf.length).toBe(0);
    expect(c.ended).toBe(false);
  });

  it('says 100 Continue to Expect: 100-continue before the body is sent, then answers', async () => {
    const c = await Raw.open(port);
    c.send('POST /svc/echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 11\r\n\r\n');
    const cont = await c.response();
    expect(cont.status).toBe(100);
    c.send('hello world');
    const r = await c.response();
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body.toString())).toMatchObject({ length: 11, sha: sha(Buffer.from('hello world')) });
    expect((await c.send('GET /svc/echo HTTP/1.1\r\nHost: x\r\n\r\n').response()).status).toBe(200);
  });

  it('forwards a chunked request body intact (extensions and trailers dropped)', async () => {
    const data = Buffer.alloc(7000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31) & 255;
    const c = await Raw.open(port);
    c.send('POST /svc/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n');
    const pieces = [data.subarray(0, 1000), data.subarray(1000, 1001), data.subarray(1001)];
    for (const [i, piece] of pieces.entries()) {
      c.send(Buffer.concat([Buffer.from(`${piece.length.toString(16)};n=${i}\r\n`), piece, Buffer.from('\r\n')]));
      await new Promise((r) => setTimeout(r, 10));
    }
    c.send('0\r\nX-Trailer: t\r\n\r\n');
    const r = await c.response();
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body.toString())).toMatchObject({ te: 'chunked', length: data.length, sha: sha(data) });
  });

  it('relays a chunked upstream response chunked to HTTP/1.1 clients, close-delimited to HTTP/1.0 ones', async () => {
    const c = await Raw.open(port);
    const r = await c.send('GET /svc/chunked HTTP/1.1\r\nHost: x\r\n\r\n').response();
    expect(r.headers['transfer-encoding']).toBe('chunked');
    expect(r.headers['content-length']).toBeUndefined();
    expect(r.body.toString()).toBe('one-two-three');
    expect((await c.send('GET /svc/echo HTTP/1.1\r\nHost: x\r\n\r\n').response()).status).toBe(200);

    const old = await Raw.open(port);
    old.send('GET /svc/chunked HTTP/1.0\r\n\r\n');
    await old.closed();
    const r10 = await old.response();
    expect(r10.headers['transfer-encoding']).toBeUndefined();
    expect(r10.body.toString()).toBe('one-two-three');
  });

  it.each([
    [
      'Content-Length with Transfer-Encoding',
      'POST /svc/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      400,
    ],
    ['obs-fold', 'GET /svc/echo HTTP/1.1\r\nHost: x\r\nX-A: b\r\n c\r\n\r\n', 400],
    ['a bare LF', 'GET /svc/echo HTTP/1.1\r\nHost: x\nX-A: b\r\n\r\n', 400],
    ['an unknown transfer coding', 'POST /svc/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n', 501],
    ['HTTP/2.0', 'GET /svc/echo HTTP/2.0\r\nHost: x\r\n\r\n', 505],
  ])('answers a request with %s with a JSON error and closes, ignoring what follows', async (_n, bad, status) => {
    const hits = up.hits;
    const c = await Raw.open(port);
    c.send(`${bad}GET /svc/echo HTTP/1.1\r\nHost: x\r\n\r\n`);
    const r = await c.response();
    expect(r.status).toBe(status);
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.headers.connection).toBe('close');
    expect(JSON.parse(r.body.toString())).toMatchObject({ code: 'WEFT_ERR_BAD_REQUEST', status });
    expect(await c.closed()).toBe(true);
    expect(c.buf.length).toBe(0);
    expect(up.hits).toBe(hits);
  });

  it('answers 431 to a request head over 16 KiB, complete or not', async () => {
    const big = `GET /svc/echo HTTP/1.1\r\nHost: x\r\nX-Big: ${'y'.repeat(20_000)}\r\n\r\n`;
    const c = await Raw.open(port);
    expect((await c.send(big).response()).status).toBe(431);
    expect(await c.closed()).toBe(true);
    const unfinished = await Raw.open(port);
    expect((await unfinished.send(big.slice(0, 18_000)).response()).status).toBe(431);
  });

  it('splices a protocol upgrade through, bytes both ways, greeting included', async () => {
    const c = await Raw.open(port);
    c.send('GET /svc/ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n');
    const r = await c.response(true);
    expect(r.status).toBe(101);
    expect(r.headers.upgrade).toBe('echo');
    expect(up.lastHeaders.upgrade).toBe('echo');
    c.send('ping|');
    c.send('pong');
    await c.until(() => c.buf.toString() === 'hello|ping|pong');
    c.socket.end();
    expect(await c.closed()).toBe(true);
  });

  it('survives a client leaving mid-response: the upstream call is cut, later requests work', async () => {
    const before = cut;
    const c = await Raw.open(port);
    c.send('GET /svc/stream HTTP/1.1\r\nHost: x\r\n\r\n');
    await c.until(() => c.buf.includes('first chunk'));
    c.socket.destroy();
    const deadline = Date.now() + 2000;
    while (cut === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(cut).toBe(before + 1);
    const next = await Raw.open(port);
    expect((await next.send('GET /svc/echo HTTP/1.1\r\nHost: x\r\n\r\n').response()).status).toBe(200);
  });

  it('answers 413 to a Content-Length over maxBodyBytes without calling upstream, and keeps the connection', async () => {
    const hits = up.hits;
    const c = await Raw.open(port);
    c.send(`POST /svc/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 20000\r\n\r\n${'z'.repeat(20_000)}`);
    const r = await c.response();
    expect(r.status).toBe(413);
    expect(JSON.parse(r.body.toString())).toMatchObject({ code: 'WEFT_ERR_PAYLOAD_TOO_LARGE', status: 413 });
    expect(r.headers.connection).toBeUndefined();
    // The rest of the body was read and dropped: the next request on the connection is served.
    const next = await c.send('GET /svc/echo HTTP/1.1\r\nHost: x\r\n\r\n').response();
    expect(JSON.parse(next.body.toString())).toMatchObject({ path: '/echo' });
    expect(up.hits).toBe(hits + 1);
  });

  it('answers 413 to a body too large to drop, and says the connection closes', async () => {
    const c = await Raw.open(port);
    c.send(
      Buffer.concat([
        Buffer.from('PUT /svc/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n'),
        Buffer.alloc(1000),
      ]),
    );
    const r = await c.response();
    expect(r.status).toBe(413);
    expect(await c.closed()).toBe(true);
    // A client reusing a connection the response did not declare closing would fail its next request.
    expect(r.headers.connection).toBe('close');
  });

  it('answers 413 to Expect: 100-continue with a Content-Length over the limit, without saying 100', async () => {
    const c = await Raw.open(port);
    c.send('POST /svc/echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 20000\r\n\r\n');
    const r = await c.response();
    expect(r.status).toBe(413);
    expect(r.headers.connection).toBe('close');
    expect(await c.closed()).toBe(true);
  });

  it('leaves the upstream connection clean when a chunked upload is cut at maxBodyBytes', async () => {
    const c = await Raw.open(port);
    c.send(`POST /svc/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1770\r\n${'a'.repeat(6000)}\r\n`);
    await new Promise((r) => setTimeout(r, 30));
    c.send(`1770\r\n${'b'.repeat(6000)}\r\n0\r\n\r\n`);
    expect((await c.response()).status).toBe(413);
    // The next request to the same upstream must not be written after the half-sent body.
    const next = await Raw.open(port);
    const r = await next.send('GET /svc/echo?after HTTP/1.1\r\nHost: x\r\n\r\n').response();
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body.toString())).toMatchObject({ method: 'GET', path: '/echo?after' });
  });

  it('refuses an upstream response with both Transfer-Encoding and Content-Length (as llhttp does), keeping the client in step', async () => {
    const c = await Raw.open(port);
    const r = await c.send('GET /raw/tecl HTTP/1.1\r\nHost: x\r\n\r\n').response();
    // A gateway error (502, or 504 once the retries that a protocol error allows ran out), with the reason.
    expect([502, 504]).toContain(r.status);
    expect(r.body.toString()).toContain('both Transfer-Encoding and Content-Length');
    const next = await c.send('GET /raw/close HTTP/1.1\r\nHost: x\r\n\r\n').response();
    expect(next.status).toBe(200);
    // A close-delimited upstream answer reaches an HTTP/1.1 client chunked, on a connection that stays open.
    expect(next.headers['transfer-encoding']).toBe('chunked');
    expect(next.body.toString()).toBe('until the end');
    expect(c.ended).toBe(false);
  });
});
