/**
 * The sidecar as a TLS-terminating gateway: HTTPS on its front end, plain HTTP to the upstream
 * (real sockets, openssl-made self-signed certificates).
 */
import { X509Certificate } from 'node:crypto';
import { connect as netConnect } from 'node:net';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import { Pool } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Sidecar, type SidecarOptions } from '../../packages/proxy/src/index.js';
import { selfSignedCertificate } from '../servers/tls.js';
import { discoveryOf, routerFor, type Upstream, upstreams } from './helpers.js';

const server1 = selfSignedCertificate('localhost');
const server2 = selfSignedCertificate('localhost');
const client = selfSignedCertificate(
  'weft-client',
  'URI:spiffe://weft.local/ns/default/sa/productpage,DNS:productpage',
);
const fingerprint = (pem: Buffer | string) => new X509Certificate(pem).fingerprint256;

/** Splits an XFCC element on `;` outside double quotes (as Envoy's format is parsed). */
function xfccPairs(element: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < element.length; i++) {
    const c = element[i] as string;
    if (c === '\\' && quoted) {
      cur += c + (element[++i] ?? '');
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === ';' && !quoted) {
      out.push(split(cur));
      cur = '';
    } else cur += c;
  }
  if (cur !== '') out.push(split(cur));
  return out;
  function split(kv: string): [string, string] {
    const eq = kv.indexOf('=');
    return [kv.slice(0, eq), kv.slice(eq + 1)];
  }
}

describe('Sidecar serving HTTPS (TLS termination)', () => {
  let ups: Upstream[];
  let discovery: ReturnType<typeof discoveryOf>['discovery'];
  let sidecar: Sidecar | undefined;
  const pools: Pool[] = [];

  beforeAll(async () => {
    ups = await upstreams('u', 1);
    discovery = discoveryOf([['svc', ups]]).discovery;
  });
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((p) => p.destroy()));
    await sidecar?.close();
    sidecar = undefined;
  });
  afterAll(async () => {
    await Promise.all(ups.map((u) => u.close()));
  });

  async function start(extra: Partial<SidecarOptions> = {}): Promise<number> {
    sidecar = new Sidecar({ discovery, port: 0, admin: false, accessLog: false, tls: server1, ...extra });
    return (await sidecar.listen()).port;
  }

  /** An undici Pool to the sidecar that trusts `ca`. */
  function pool(port: number, ca: Buffer, extra: Record<string, unknown> = {}): Pool {
    const p = new Pool(`https://localhost:${port}`, { connect: { ca, host: '127.0.0.1', ...extra } });
    pools.push(p);
    return p;
  }

  /** A sidecar asking for client certificates signed by `ca`, forwarding them in XFCC. */
  const startMtls = (ca: Buffer, rejectUnauthorized = true) =>
    start({ tls: { ...server1, requestCert: true, rejectUnauthorized, ca }, forwardClientCert: true });

  /** GET `path` through `p`; resolves with the status (the body is read and dropped). */
  async function status(p: Pool, path: string, headers: Record<string, string> = {}): Promise<number> {
    const res = await p.request({ method: 'GET', path, headers });
    await res.body.dump();
    return res.statusCode;
  }

  /** Opens a TLS connection and resolves once the handshake is done (or rejects). */
  function handshake(port: number, options: Record<string, unknown>): Promise<TLSSocket> {
    return new Promise((resolve, reject) => {
      const s = tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', ...options }, () => resolve(s));
      s.on('error', reject);
    });
  }

  /** Sends a GET on an open TLS socket and resolves with the whole response (a JSON body from the upstream). */
  function get(socket: TLSSocket, path: string): Promise<string> {
    return new Promise((resolve) => {
      let data = '';
      const onData = (d: Buffer) => {
        data += d.toString('utf8');
        if (data.endsWith('}')) {
          socket.off('data', onData);
          resolve(data);
        }
      };
      socket.on('data', onData);
      socket.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
    });
  }

  it('terminates TLS, forwards with x-forwarded-proto https, and keeps the connection alive', async () => {
    const port = await start();
    const p = pool(port, server1.cert);
    const res = await p.request({ method: 'GET', path: '/svc/hello' });
    expect(res.statusCode).toBe(200);
    expect(await res.body.json()).toMatchObject({ upstream: 'u0', path: '/hello' });
    expect(ups[0]?.lastHeaders['x-forwarded-proto']).toBe('https');
    // Three requests, one after the other, on one TLS connection.
    let handshakes = 0;
    sidecar?.server.on('secureConnection', () => handshakes++);
    const s = await handshake(port, { ca: server1.cert });
    for (let i = 0; i < 3; i++)
      expect(await get(s, `/svc/again/${i}`)).toMatch(/^HTTP\/1\.1 200 [\s\S]*"path":"\/again\/\d"/);
    s.destroy();
    expect(handshakes).toBe(1);
  });

  it('says http/1.1 in ALPN, so an HTTP/2-capable client stays on HTTP/1.1', async () => {
    const port = await start();
    const s = await handshake(port, { ca: server1.cert, ALPNProtocols: ['h2', 'http/1.1'] });
    expect(s.alpnProtocol).toBe('http/1.1');
    s.destroy();
  });

  it('answers no plain-HTTP request on the TLS port, and cuts a client that never completes its handshake', async () => {
    const port = await start({ headersTimeoutMs: 300 });
    const outcome = (payload: string | null) =>
      new Promise<{ data: string; closedAfterMs: number }>((resolve) => {
        const t0 = Date.now();
        let data = '';
        const s = netConnect(port, '127.0.0.1', () => {
          if (payload !== null) s.write(payload);
        });
        s.on('data', (d: Buffer) => {
          data += d.toString('latin1');
        });
        s.on('error', () => undefined);
        s.on('close', () => resolve({ data, closedAfterMs: Date.now() - t0 }));
      });
    const hits = ups[0]?.hits;
    const plain = await outcome('GET /svc/ HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(plain.data).not.toMatch(/^HTTP\//);
    expect(plain.closedAfterMs).toBeLessThan(3_000);
    const silent = await outcome(null);
    expect(silent.data).toBe('');
    expect(silent.closedAfterMs).toBeGreaterThanOrEqual(250);
    expect(silent.closedAfterMs).toBeLessThan(3_000);
    expect(ups[0]?.hits).toBe(hits); // neither reached the upstream
  });

  it('setSecureContext renews the certificate for new connections; open ones keep theirs', async () => {
    const port = await start();
    const before = await handshake(port, { ca: server1.cert });
    expect(fingerprint(before.getPeerX509Certificate()?.toString() ?? '')).toBe(fingerprint(server1.cert));
    sidecar?.setSecureContext(server2);
    const after = await handshake(port, { ca: server2.cert });
    expect(fingerprint(after.getPeerX509Certificate()?.toString() ?? '')).toBe(fingerprint(server2.cert));
    // The connection opened before the renewal still serves requests.
    expect(await get(before, '/svc/still')).toMatch(/^HTTP\/1\.1 200 /);
    before.destroy();
    after.destroy();
    // A renewal that would leave no certificate is refused.
    expect(() => sidecar?.setSecureContext({ key: undefined })).toThrow(/tls: needs `key` and `cert`/);
  });

  it('mutual TLS: requestCert with a CA refuses clients without a certificate it trusts', async () => {
    const port = await start({ tls: { ...server1, requestCert: true, rejectUnauthorized: true, ca: client.cert } });
    const withCert = pool(port, server1.cert, { key: client.key, cert: client.cert });
    const res = await withCert.request({ method: 'GET', path: '/svc/mtls' });
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    const without = pool(port, server1.cert);
    await expect(without.request({ method: 'GET', path: '/svc/mtls' })).rejects.toThrow();
    const stranger = selfSignedCertificate('stranger');
    const wrong = pool(port, server1.cert, { key: stranger.key, cert: stranger.cert });
    await expect(wrong.request({ method: 'GET', path: '/svc/mtls' })).rejects.toThrow();
  });

  it("forwardClientCert: the verified client certificate goes upstream in x-forwarded-client-cert; a client's own never does", async () => {
    const port = await startMtls(client.cert, false);
    const spoof = { 'x-forwarded-client-cert': 'Hash=0;Subject="CN=admin"' };
    await status(pool(port, server1.cert, { key: client.key, cert: client.cert }), '/svc/who', spoof);
    const hash = fingerprint(client.cert).replaceAll(':', '').toLowerCase();
    expect(ups[0]?.lastHeaders['x-forwarded-client-cert']).toBe(
      `Hash=${hash};Subject="/CN=weft-client";URI=spiffe://weft.local/ns/default/sa/productpage;DNS=productpage`,
    );
    // A certificate the CA did not sign (let in: rejectUnauthorized is off) vouches for nothing.
    const stranger = selfSignedCertificate('stranger');
    await status(pool(port, server1.cert, { key: stranger.key, cert: stranger.cert }), '/svc/who', spoof);
    expect(ups[0]?.lastHeaders['x-forwarded-client-cert']).toBeUndefined();
  });

  it('refuses TLS options without a certificate, naming the option', () => {
    expect(() => new Sidecar({ discovery, port: 0, admin: false, tls: {} })).toThrow(
      /tls: needs `key` and `cert` \(PEM\), or `pfx`/,
    );
  });

  it("a plain-HTTP sidecar: x-forwarded-proto http, no secure context to renew, a client's XFCC neither forwarded nor seen by rules", async () => {
    const seen: Array<string | undefined> = [];
    const router = routerFor('svc', (req) => {
      const h = req.headers as { get(name: string): string | null | undefined };
      seen.push(h.get('x-forwarded-client-cert') ?? undefined);
      return { backendTags: [] };
    });
    sidecar = new Sidecar({ discovery, port: 0, admin: false, accessLog: false, router });
    const { port } = await sidecar.listen();
    const p = new Pool(`http://127.0.0.1:${port}`);
    pools.push(p);
    expect(
      await status(p, '/svc/plain', {
        'x-forwarded-client-cert': 'Hash=0;URI=spiffe://weft.local/ns/default/sa/admin',
      }),
    ).toBe(200);
    expect(ups[0]?.lastHeaders['x-forwarded-proto']).toBe('http');
    expect(ups[0]?.lastHeaders['x-forwarded-client-cert']).toBeUndefined();
    expect(seen).toEqual([undefined]);
    expect(() => sidecar?.setSecureContext(server2)).toThrow(/plain HTTP/);
  });

  it('setSecureContext (renewing key and cert) keeps verifying client certificates against the configured ca', async () => {
    const port = await startMtls(client.cert);
    expect(await status(pool(port, server1.cert, { key: client.key, cert: client.cert }), '/svc/a')).toBe(200);
    // The server certificate is renewed, as the option's documentation says to.
    sidecar?.setSecureContext(server2);
    expect(await status(pool(port, server2.cert, { key: client.key, cert: client.cert }), '/svc/b')).toBe(200);
    expect(ups[0]?.lastHeaders['x-forwarded-client-cert']).toMatch(/URI=spiffe:\/\/weft\.local/);
  });

  it('forwardClientCert: a URI SAN with ";" cannot add a second URI (values with ;,= are quoted, as Envoy does)', async () => {
    const tricky = selfSignedCertificate(
      'tricky',
      'URI:spiffe://weft.local/ns/default/sa/guest;URI=spiffe://weft.local/ns/default/sa/admin',
    );
    const port = await startMtls(tricky.cert);
    expect(await status(pool(port, server1.cert, { key: tricky.key, cert: tricky.cert }), '/svc/who')).toBe(200);
    const xfcc = ups[0]?.lastHeaders['x-forwarded-client-cert'] as string;
    const uris = xfccPairs(xfcc).filter(([k]) => k === 'URI');
    expect(uris).toHaveLength(1);
    expect(uris.map(([, v]) => v)).not.toContain('spiffe://weft.local/ns/default/sa/admin');
  });
});
