/**
 * The sidecar's inbound mTLS listener on real sockets, with a throw-away CA: callers with the
 * mesh's certificates, without one, with another CA's, and plain HTTP, in permissive and strict
 * mode; the local application sees plain HTTP and `x-forwarded-client-cert`; authorization by
 * the caller's identity; a certificate rotation while connections are open.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import { Agent, request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InboundProxy, type MtlsMode } from '../../packages/proxy/src/sidecar/inbound.js';
import { type Pem, TD, type TestCa, TestCredentials, testCa } from './test-certificates.js';

interface Seen {
  headers: IncomingMessage['headers'];
  url: string | undefined;
}

let ca: TestCa;
let other: TestCa;
let serverPem: Pem;
let aPem: Pem;
let cPem: Pem;
let strangerPem: Pem;
let app: Server;
let appPort: number;
const seen: Seen[] = [];
const cleanup: Array<() => Promise<void>> = [];

beforeAll(async () => {
  ca = await testCa('mesh');
  other = await testCa('other');
  [serverPem, aPem, cPem, strangerPem] = await Promise.all([
    ca.issue('b', { uri: `${TD}/b` }),
    ca.issue('a', { uri: `${TD}/a` }),
    ca.issue('c', { uri: `${TD}/c` }),
    other.issue('a', { uri: `${TD}/a` }),
  ]);
  // The local application: plain HTTP, tells what it received.
  app = createServer((req, res) => {
    seen.push({ headers: req.headers, url: req.url });
    if (req.url === '/reset') {
      req.socket.destroy();
      return;
    }
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({
        xfcc: req.headers['x-forwarded-client-cert'] ?? null,
        proto: req.headers['x-forwarded-proto'],
        url: req.url,
      }),
    );
  });
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  appPort = (app.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((r) => app.close(() => r()));
});

afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
  seen.length = 0;
});

async function inbound(mode: MtlsMode, extra: { authorization?: unknown } = {}) {
  const credentials = new TestCredentials(serverPem, ca.cert);
  const proxy = new InboundProxy({
    service: 'b',
    app: { port: appPort },
    port: 0,
    host: '127.0.0.1',
    accessLog: false,
    mtls: { credentials, mode },
    ...(extra.authorization === undefined
      ? {}
      : { authorization: extra.authorization as { policies: unknown[]; defaultAction?: string } }),
  });
  const { port } = await proxy.listen();
  cleanup.push(() => proxy.close());
  return { proxy, port, credentials };
}

interface Answer {
  status: number;
  body: { xfcc?: string | null; proto?: string; url?: string; code?: string; policy?: string };
  serverCert?: PeerCertificate;
}

/** One request over TLS, presenting `client` (or nothing), trusting the mesh CA. */
function tlsCall(port: number, path: string, client: Pem | undefined): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        path,
        agent: false,
        ca: ca.cert,
        ...(client === undefined ? {} : { cert: client.cert, key: client.key }),
        // The server proves a SPIFFE ID (a URI SAN), not a host name.
        checkServerIdentity: () => undefined,
      },
      (res) => {
        const serverCert = (res.socket as TLSSocket).getPeerCertificate();
        let text = '';
        res.on('data', (c: Buffer) => {
          text += c.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text), serverCert }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function plainCall(port: number, path: string): Promise<Answer> {
  const res = await request(`http://127.0.0.1:${port}${path}`);
  return { status: res.statusCode, body: (await res.body.json()) as Answer['body'] };
}

describe('InboundProxy, permissive', () => {
  it('forwards mTLS callers to the app in plain HTTP, naming the caller in x-forwarded-client-cert', async () => {
    const { port } = await inbound('permissive');
    const answer = await tlsCall(port, '/api/items?x=1', aPem);
    expect(answer.status).toBe(200);
    expect(answer.body.url).toBe('/api/items?x=1');
    expect(answer.body.proto).toBe('https');
    expect(answer.body.xfcc).toMatch(
      /^Hash=[0-9a-f]{64};Subject="\/CN=a";URI=spiffe:\/\/weft\.test\/ns\/default\/svc\/a$/,
    );
    expect(answer.serverCert?.subjectaltname).toBe(`URI:${TD}/b`);
  });

  it('serves plain HTTP on the same port, without an identity (a forged XFCC is dropped)', async () => {
    const { port } = await inbound('permissive');
    const res = await request(`http://127.0.0.1:${port}/plain`, {
      headers: { 'x-forwarded-client-cert': `URI=${TD}/a` },
    });
    const body = (await res.body.json()) as Answer['body'];
    expect(res.statusCode).toBe(200);
    expect(body).toMatchObject({ xfcc: null, proto: 'http', url: '/plain' });
  });

  it('lets a TLS caller without a certificate, or with another CA’s, in without an identity', async () => {
    const { port } = await inbound('permissive');
    expect((await tlsCall(port, '/x', undefined)).body.xfcc).toBeNull();
    expect((await tlsCall(port, '/x', strangerPem)).body.xfcc).toBeNull();
  });

  it('judges callers by their verified identity: only a may call b', async () => {
    const { port } = await inbound('permissive', {
      authorization: {
        policies: [{ id: 'only-a', destination: 'b', action: 'allow', from: [{ services: ['a'] }] }],
        defaultAction: 'deny',
      },
    });
    expect((await tlsCall(port, '/x', aPem)).status).toBe(200);
    const refused = await tlsCall(port, '/x', cPem);
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('WEFT_ERR_FORBIDDEN');
    // Another CA's certificate naming a proves nothing; plain HTTP has no identity at all.
    expect((await tlsCall(port, '/x', strangerPem)).status).toBe(403);
    expect((await plainCall(port, '/x')).status).toBe(403);
    expect(seen).toHaveLength(1);
  });

  it('swaps its certificate on rotation: new connections see the new one, an open one keeps working', async () => {
    const { port, credentials } = await inbound('permissive');
    const agent = new Agent({
      connect: { ca: ca.cert, cert: aPem.cert, key: aPem.key, checkServerIdentity: () => undefined },
      connections: 1,
    });
    cleanup.push(() => agent.close());
    const first = await request(`https://127.0.0.1:${port}/1`, { dispatcher: agent });
    expect(first.statusCode).toBe(200);
    await first.body.text();
    const before = (await tlsCall(port, '/x', aPem)).serverCert?.serialNumber;
    const renewed = await ca.issue('b', { uri: `${TD}/b` });
    credentials.rotate(renewed);
    const after = (await tlsCall(port, '/x', aPem)).serverCert?.serialNumber;
    expect(after).not.toBe(before);
    expect(after?.toLowerCase()).toBe(
      new (await import('node:crypto')).X509Certificate(renewed.cert).serialNumber.toLowerCase(),
    );
    // The keep-alive connection opened before the rotation still carries requests.
    const again = await request(`https://127.0.0.1:${port}/2`, { dispatcher: agent });
    expect(again.statusCode).toBe(200);
    await again.body.text();
  });

  it('leaves retries to the caller’s proxy: a reset reaches the app once', async () => {
    const { port } = await inbound('permissive');
    const res = await request(`http://127.0.0.1:${port}/reset`);
    const body = (await res.body.json()) as { attempts?: unknown[] };
    // The sidecar's answer for an upstream that reset (504 once its attempts are over).
    expect(res.statusCode).toBe(504);
    expect(body.attempts).toHaveLength(1);
    expect(seen.filter((s) => s.url === '/reset')).toHaveLength(1);
  });
});

describe('InboundProxy, strict', () => {
  it('serves mTLS callers with a verified certificate', async () => {
    const { port } = await inbound('strict');
    const answer = await tlsCall(port, '/x', aPem);
    expect(answer.status).toBe(200);
    expect(answer.body.xfcc).toContain(`URI=${TD}/a`);
  });

  it('answers plain HTTP with 403 WEFT_ERR_FORBIDDEN and closes, reaching nothing', async () => {
    const { port } = await inbound('strict');
    const refused = await plainCall(port, '/x');
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('WEFT_ERR_FORBIDDEN');
    expect(seen).toHaveLength(0);
  });

  it('refuses the handshake of a caller without a certificate, or with another CA’s', async () => {
    const { port } = await inbound('strict');
    await expect(tlsCall(port, '/x', undefined)).rejects.toThrow();
    await expect(tlsCall(port, '/x', strangerPem)).rejects.toThrow();
    expect(seen).toHaveLength(0);
  });
});
