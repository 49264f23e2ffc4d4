/**
 * mTLS between proxies, client side, on real sockets with a throw-away CA: the sidecar's own
 * HTTP/1.1 pool, MeshAgent's undici pools and the `mesh()` interceptor reach an upstream that
 * requires client certificates when its endpoint announces `weft_mtls`, presenting the proxy's
 * identity; an upstream proving another identity (or chaining to another CA) is refused with
 * `WEFT_ERR_PEER_IDENTITY` as a connect failure; endpoints without the metadata stay plaintext;
 * a certificate rotation under load fails no request, keeps open connections and gives new
 * connections the new certificate.
 */
import { X509Certificate } from 'node:crypto';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { Discovery, ManualSource, Outcome, type ServiceInstance } from '@weft/core';
import { Agent, request } from 'undici';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  InboundProxy,
  MeshAgent,
  MeshRequestError,
  MTLS_METADATA_KEY,
  mesh,
  Sidecar,
} from '../../packages/proxy/src/index.js';
import { cleanupAfterEach, loopbackInstance, sleep, Upstream } from './helpers.js';
import { type Pem, TD, type TestCa, TestCredentials, testCa } from './test-certificates.js';

/** What the TLS upstream answers: the caller's URI SAN and which connection carried the request. */
interface Seen {
  client: string | undefined;
  conn: number;
}

/** A node:https upstream that requires a client certificate of the mesh CA. */
class TlsUpstream {
  server: HttpsServer;
  port = 0;
  /** Handshakes completed, in order: the client's URI SAN and when. */
  readonly handshakes: Array<{ client: string | undefined; serial: string; conn: number }> = [];
  delayMs = 0;
  private readonly ids = new WeakMap<object, number>();
  private next = 1;

  constructor(pem: Pem, ca: string) {
    this.server = createHttpsServer(
      { key: pem.key, cert: pem.cert, ca: [ca], requestCert: true, rejectUnauthorized: true },
      (req, res) => {
        const socket = req.socket as TLSSocket;
        const body: Seen = { client: socket.getPeerCertificate().subjectaltname, conn: this.ids.get(socket) ?? 0 };
        req.resume();
        setTimeout(() => {
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify(body));
        }, this.delayMs);
      },
    );
    this.server.on('secureConnection', (socket: TLSSocket) => {
      const conn = this.next++;
      this.ids.set(socket, conn);
      const peer = socket.getPeerCertificate();
      this.handshakes.push({ client: peer.subjectaltname, serial: peer.serialNumber.toLowerCase(), conn });
    });
  }

  async listen(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  /** The instance record of `service`, announcing `identity` for mTLS. */
  instance(service: string, identity: string): ServiceInstance {
    return { ...loopbackInstance(service, 'http', this.port), metadata: { [MTLS_METADATA_KEY]: identity } };
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

const cleanup = cleanupAfterEach();
let ca: TestCa;
let other: TestCa;
let reviewsPem: Pem;
let ratingsPem: Pem;
let strangerPem: Pem;
let callerPem: Pem;
let rotatedPem: Pem;

beforeAll(async () => {
  ca = await testCa('mesh');
  other = await testCa('other');
  [reviewsPem, ratingsPem, strangerPem, callerPem, rotatedPem] = await Promise.all([
    ca.issue('reviews', { uri: `${TD}/reviews` }),
    ca.issue('ratings', { uri: `${TD}/ratings` }),
    other.issue('reviews', { uri: `${TD}/reviews` }),
    ca.issue('productpage', { uri: `${TD}/productpage` }),
    ca.issue('productpage', { uri: `${TD}/productpage` }),
  ]);
});

async function tlsUpstream(pem: Pem): Promise<TlsUpstream> {
  const up = await new TlsUpstream(pem, ca.cert).listen();
  cleanup.push(() => up.close());
  return up;
}

function discoveryOf(instances: ServiceInstance[]): Discovery {
  return new Discovery({ sources: [new ManualSource('test', instances)] });
}

/** A caller through one of the three proxies: status, JSON body, and the error of a failed call. */
type Send = (path: string) => Promise<{ status: number; body: Record<string, unknown> }>;

interface ProxyOptions {
  discovery: Discovery;
  credentials?: TestCredentials;
  retry?: false;
  breaker?: { trip: { kind: 'consecutive'; threshold: number } };
}

async function viaSidecar(o: ProxyOptions): Promise<Send> {
  const sidecar = new Sidecar({
    discovery: o.discovery,
    port: 0,
    admin: false,
    accessLog: false,
    ...(o.credentials === undefined ? {} : { mtls: { credentials: o.credentials } }),
    ...(o.retry === undefined ? {} : { retry: o.retry }),
    ...(o.breaker === undefined ? {} : { breaker: o.breaker }),
  });
  const { port } = await sidecar.listen();
  const client = new Agent({ connections: 16 });
  cleanup.push(async () => {
    await client.close();
    await sidecar.close();
  });
  return async (path) => {
    const res = await request(`http://127.0.0.1:${port}${path}`, { headers: { host: 'reviews' }, dispatcher: client });
    return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
  };
}

async function viaAgent(o: ProxyOptions): Promise<Send> {
  const agent = new MeshAgent({
    discovery: o.discovery,
    ...(o.credentials === undefined ? {} : { mtls: { credentials: o.credentials } }),
    ...(o.retry === undefined ? {} : { retry: o.retry }),
    ...(o.breaker === undefined ? {} : { breaker: o.breaker }),
  });
  cleanup.push(() => agent.close());
  return async (path) => {
    try {
      const res = await request(`http://reviews${path}`, { dispatcher: agent });
      return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
    } catch (err) {
      if (!(err instanceof MeshRequestError)) throw err;
      return { status: err.status, body: { code: err.code, message: err.message, attempts: err.attempts } };
    }
  };
}

async function viaInterceptor(o: ProxyOptions): Promise<Send> {
  const weft = mesh({
    discovery: o.discovery,
    ...(o.credentials === undefined ? {} : { mtls: { credentials: o.credentials } }),
    ...(o.retry === undefined ? {} : { retry: o.retry }),
  });
  const dispatcher = new Agent().compose(weft);
  cleanup.push(async () => {
    await weft.close();
    await dispatcher.close();
  });
  return async (path) => {
    try {
      const res = await request(`http://reviews${path}`, { dispatcher });
      return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
    } catch (err) {
      if (!(err instanceof MeshRequestError)) throw err;
      return { status: err.status, body: { code: err.code, message: err.message, attempts: err.attempts } };
    }
  };
}

const proxies = { sidecar: viaSidecar, MeshAgent: viaAgent, interceptor: viaInterceptor } as const;

describe.each(Object.entries(proxies))('mTLS to upstreams through the %s', (name, via) => {
  it('presents the proxy identity to an endpoint that announces weft_mtls, and verifies the upstream', async () => {
    const up = await tlsUpstream(reviewsPem);
    const credentials = new TestCredentials(callerPem, ca.cert);
    const send = await via({ discovery: discoveryOf([up.instance('reviews', `${TD}/reviews`)]), credentials });
    const r = await send('/x');
    expect(r.status).toBe(200);
    expect(r.body.client).toBe(`URI:${TD}/productpage`);
    // Keep-alive: later requests reuse the connection (undici's Pool opens a second one for the
    // request right after the first, with or without mTLS; the sidecar's pool does not).
    for (let i = 0; i < 5; i++) expect((await send('/y')).body.client).toBe(`URI:${TD}/productpage`);
    expect(up.handshakes.length).toBeLessThanOrEqual(name === 'sidecar' ? 1 : 2);
  });

  it('refuses an upstream proving another service, or chaining to another CA, as a connect failure', async () => {
    for (const [pem, announced] of [
      [ratingsPem, `${TD}/reviews`], // the certificate is ratings', the endpoint says reviews
      [ratingsPem, `${TD}/ratings`], // an endpoint of reviews announcing ratings' identity
      [strangerPem, `${TD}/reviews`], // the right SAN from a CA outside the bundle
    ] as const) {
      const up = await new TlsUpstream(pem, ca.cert).listen();
      cleanup.push(() => up.close());
      const credentials = new TestCredentials(callerPem, ca.cert);
      const send = await via({ discovery: discoveryOf([up.instance('reviews', announced)]), credentials });
      const r = await send('/x');
      if (name === 'sidecar') {
        expect(r.status).toBeGreaterThanOrEqual(502);
        // The sidecar's error answer carries each attempt's outcome word and error message.
        const attempts = r.body.attempts as Array<{ outcome: string; error: string }>;
        expect(attempts.length).toBeGreaterThan(0);
        for (const a of attempts) {
          expect(a.outcome).toBe('connect-failure');
          expect(a.error).toMatch(/instead of|another service|not trusted/);
        }
      } else {
        const attempts = r.body.attempts as Array<{ outcome: number; error?: { code?: string } }>;
        expect(attempts.length).toBeGreaterThan(0);
        for (const a of attempts) {
          expect(a.outcome).toBe(Outcome.ConnectFailure);
          expect(a.error?.code).toBe('WEFT_ERR_PEER_IDENTITY');
        }
      }
      // The upstream never got a request over the refused connection.
      expect(up.handshakes.every((h) => h.client === `URI:${TD}/productpage`)).toBe(true);
    }
  });

  it('fails a call cleanly while the proxy has no certificate yet', async () => {
    const up = await tlsUpstream(reviewsPem);
    const credentials = new TestCredentials(callerPem, ca.cert);
    credentials.tlsOptions = () => {
      throw new Error('identity:default/productpage: no certificate yet (await start())');
    };
    const send = await via({ discovery: discoveryOf([up.instance('reviews', `${TD}/reviews`)]), credentials });
    const r = await send('/x');
    expect(r.status).toBeGreaterThanOrEqual(500);
    expect(JSON.stringify(r.body)).toContain('no certificate yet');
    expect(up.handshakes).toEqual([]);
  });

  it('leaves an endpoint without weft_mtls on plaintext, and a proxy without mtls on plaintext', async () => {
    const plain = await new Upstream('plain').listen();
    cleanup.push(() => plain.close());
    const credentials = new TestCredentials(callerPem, ca.cert);
    const withMtls = await via({ discovery: discoveryOf([plain.instance('reviews')]), credentials });
    expect((await withMtls('/a')).body.upstream).toBe('plain');
    // A proxy without `mtls` ignores the metadata: plaintext to the announced port, as before.
    const announced = { ...plain.instance('reviews'), metadata: { [MTLS_METADATA_KEY]: `${TD}/reviews` } };
    const without = await via({ discovery: discoveryOf([announced]) });
    expect((await without('/b')).body.upstream).toBe('plain');
  });
});

describe('sidecar to sidecar', () => {
  it("reaches another proxy's strict inbound listener, which sees the caller's identity", async () => {
    const app = await new Upstream('app', [], (req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ xfcc: req.headers['x-forwarded-client-cert'] ?? null }));
    }).listen();
    cleanup.push(() => app.close());
    const inbound = new InboundProxy({
      service: 'reviews',
      app: { port: app.port },
      port: 0,
      host: '127.0.0.1',
      accessLog: false,
      mtls: { credentials: new TestCredentials(reviewsPem, ca.cert), mode: 'strict' },
    });
    const { port } = await inbound.listen();
    cleanup.push(() => inbound.close());
    const announced: ServiceInstance = {
      ...loopbackInstance('reviews', 'http', port),
      metadata: { [MTLS_METADATA_KEY]: `${TD}/reviews` },
    };
    for (const via of [viaSidecar, viaAgent]) {
      const send = await via({
        discovery: discoveryOf([announced]),
        credentials: new TestCredentials(callerPem, ca.cert),
      });
      const r = await send('/x');
      expect(r.status).toBe(200);
      expect(r.body.xfcc).toContain(`URI=${TD}/productpage`);
    }
  });
});

describe('breakers and outlier detection see a refused identity as a connect failure', () => {
  it('opens the breaker after consecutive identity failures (MeshAgent)', async () => {
    const up = await tlsUpstream(ratingsPem);
    const credentials = new TestCredentials(callerPem, ca.cert);
    const send = await viaAgent({
      discovery: discoveryOf([up.instance('reviews', `${TD}/reviews`)]),
      credentials,
      retry: false,
      breaker: { trip: { kind: 'consecutive', threshold: 2 } },
    });
    for (let i = 0; i < 2; i++) expect((await send('/x')).body.code).not.toBe('WEFT_ERR_CIRCUIT_OPEN');
    const handshakes = up.handshakes.length;
    const third = await send('/x');
    expect(JSON.stringify(third.body)).toMatch(/CIRCUIT_OPEN|NO_ENDPOINTS|rejected/);
    expect(up.handshakes.length).toBe(handshakes);
  });
});

describe.each([
  ['sidecar', viaSidecar],
  ['MeshAgent', viaAgent],
] as const)('certificate rotation through the %s', (_name, via) => {
  it('keeps open connections, gives new ones the new certificate, and fails no request', async () => {
    const up = await tlsUpstream(reviewsPem);
    up.delayMs = 5;
    const credentials = new TestCredentials(callerPem, ca.cert);
    const send = await via({ discovery: discoveryOf([up.instance('reviews', `${TD}/reviews`)]), credentials });
    const results: Array<{ status: number; client: unknown; conn: unknown; afterRotation: boolean }> = [];
    const failures: unknown[] = [];
    let rotated = false;
    let stop = false;
    const worker = async () => {
      while (!stop) {
        const after = rotated;
        try {
          const r = await send('/load');
          results.push({ status: r.status, client: r.body.client, conn: r.body.conn, afterRotation: after });
        } catch (err) {
          failures.push(err);
        }
      }
    };
    const first = [worker(), worker()];
    await sleep(150);
    const oldConns = new Set(up.handshakes.map((h) => h.conn));
    credentials.rotate(rotatedPem);
    rotated = true;
    // More concurrency than open connections: the pool opens new ones, after the rotation.
    const more = [worker(), worker(), worker(), worker()];
    await sleep(250);
    stop = true;
    await Promise.all([...first, ...more]);

    expect(failures).toEqual([]);
    expect(results.every((r) => r.status === 200)).toBe(true);
    // Connections opened before the rotation kept serving after it (not dropped)…
    expect(results.some((r) => r.afterRotation && oldConns.has(r.conn as number))).toBe(true);
    // …and every connection opened after it presented the new certificate.
    const newHandshakes = up.handshakes.filter((h) => !oldConns.has(h.conn));
    expect(newHandshakes.length).toBeGreaterThan(0);
    const serial = (pem: Pem) => new X509Certificate(pem.cert).serialNumber.toLowerCase();
    expect(up.handshakes.filter((h) => oldConns.has(h.conn)).map((h) => h.serial)).toEqual(
      [...oldConns].map(() => serial(callerPem)),
    );
    expect(newHandshakes.map((h) => h.serial)).toEqual(newHandshakes.map(() => serial(rotatedPem)));
  });
});
