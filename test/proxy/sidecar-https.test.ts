import { createSecureServer, type Http2Session } from 'node:http2';
import { createServer, type Server } from 'node:https';
import { type AddressInfo, connect } from 'node:net';
import { Pool } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { Sidecar, type SidecarOptions } from '../../packages/proxy/src/index.js';
import { http } from '../servers/http.js';
import { selfSignedCertificate } from '../servers/tls.js';
import { Discovery, loopbackInstance, ManualSource } from './helpers.js';

const selfSigned = () => selfSignedCertificate('localhost');

describe('Sidecar to an https upstream', () => {
  let upstream: Server | undefined;
  /** TLS handshakes the upstream completed. */
  let handshakes = 0;
  let discovery: Discovery;
  let sidecar: Sidecar | undefined;

  beforeAll(async () => {
    const server = createServer(selfSigned(), (req, res) => {
      req.resume();
      req.on('end', () => {
        const body = JSON.stringify({ path: req.url, xff: req.headers['x-forwarded-for'] ?? null });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      });
    });
    server.on('secureConnection', () => handshakes++);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    upstream = server;
    const instance = loopbackInstance('svc', 'https', (server.address() as AddressInfo).port);
    discovery = new Discovery({ sources: [new ManualSource('test', [instance])] });
  });

  afterEach(async () => {
    await sidecar?.close();
    sidecar = undefined;
    upstream?.closeAllConnections();
  });

  afterAll(async () => {
    const server = upstream;
    if (server !== undefined) await new Promise<void>((r) => server.close(() => r()));
  });

  async function start(extra: Partial<SidecarOptions> = {}): Promise<string> {
    sidecar = new Sidecar({ discovery, port: 0, admin: false, accessLog: false, ...extra });
    return `http://127.0.0.1:${(await sidecar.listen()).port}`;
  }

  it('without upstreamPool, answers 502 WEFT_ERR_INVALID_ARGUMENT naming the option', async () => {
    const base = await start();
    const r = await http(`${base}/svc/some/path`);
    expect(r.status).toBe(502);
    const body = JSON.parse(r.body);
    expect(body.code).toBe('WEFT_ERR_INVALID_ARGUMENT');
    expect(body.error).toMatch(/upstreamPool/);
    expect(handshakes).toBe(0);
  });

  it('with an undici Pool as upstreamPool, proxies over TLS and reuses the connection', async () => {
    const before = handshakes;
    const base = await start({
      upstreamPool: (origin, options) => new Pool(origin, { ...options, connect: { rejectUnauthorized: false } }),
    });
    const r1 = await http(`${base}/svc/some/path`);
    expect(r1.status).toBe(200);
    const b1 = JSON.parse(r1.body);
    expect(b1.path).toBe('/some/path');
    expect(b1.xff).toBe('127.0.0.1');
    const r2 = await http(`${base}/svc/again?x=1`);
    expect(r2.status).toBe(200);
    expect(JSON.parse(r2.body).path).toBe('/again?x=1');
    expect(handshakes - before).toBe(1);
  });

  it('with allowH2, proxies HTTP/1.1 clients to an HTTP/2 upstream over one TLS session', async () => {
    const sent: string[] = [];
    const sessions = new Set<Http2Session>();
    const h2 = createSecureServer({ ...selfSigned(), allowHTTP1: false }, (req, res) => {
      req.resume();
      req.on('end', () => {
        const { ':path': path, 'x-forwarded-for': xff } = req.headers;
        // `pad` makes the body span several HTTP/2 DATA frames (16 KiB each).
        const body = JSON.stringify({ path, xff, version: req.httpVersion, pad: 'x'.repeat(40_000) });
        sent.push(body);
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      });
    });
    let h2Handshakes = 0;
    h2.on('secureConnection', () => h2Handshakes++);
    h2.on('session', (s) => sessions.add(s));
    await new Promise<void>((r) => h2.listen(0, '127.0.0.1', r));
    // Runs after afterEach closed the sidecar (and with it the pool's HTTP/2 session).
    onTestFinished(async () => {
      for (const s of sessions) s.destroy();
      await new Promise<void>((r) => h2.close(() => r()));
    });
    const instance = loopbackInstance('h2svc', 'https', (h2.address() as AddressInfo).port);
    const base = await start({
      discovery: new Discovery({ sources: [new ManualSource('h2', [instance])] }),
      upstreamPool: (origin, options) =>
        new Pool(origin, { ...options, allowH2: true, connect: { rejectUnauthorized: false } }),
    });
    const r1 = await http(`${base}/h2svc/h2/path?q=1`);
    expect(r1.status).toBe(200);
    expect(r1.body).toBe(sent[0]);
    expect(JSON.parse(r1.body)).toMatchObject({ path: '/h2/path?q=1', xff: '127.0.0.1', version: '2.0' });
    // The second request by hand, to see the raw HTTP/1.1 head the client gets.
    const { port: sidecarPort } = new URL(base);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(sidecarPort), '127.0.0.1');
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      socket.on('error', reject);
      socket.write('GET /h2svc/h2/path?q=1 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    });
    const [head, body] = [raw.slice(0, raw.indexOf('\r\n\r\n')), raw.slice(raw.indexOf('\r\n\r\n') + 4)];
    expect(head).toMatch(/^HTTP\/1\.1 200 /);
    expect(head.split('\r\n').filter((line) => line.startsWith(':'))).toEqual([]);
    expect(body).toBe(sent[1]);
    expect(JSON.parse(body)).toMatchObject({ path: '/h2/path?q=1', version: '2.0' });
    expect(sent).toHaveLength(2);
    expect(h2Handshakes).toBe(1);
  });
});
