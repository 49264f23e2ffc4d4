/**
 * WorkloadIdentity against a real controller (`weft controller`'s server) on loopback: a mutual-TLS handshake between two
 * workloads with their issued certificates and the bundle, renewal at half-life (3 s
 * certificates) swapped into a live TLS server without dropping its open connection, renewal
 * failures that keep the certificate until it expires, and a refused identity.
 */

import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer, type PeerCertificate, type Server, type TLSSocket } from 'node:tls';
import { type AdapterWarning, WorkloadIdentity, type WorkloadIdentityOptions } from '@weft/adapters/weft';
import { createControllerServer, type IdentitySettings } from '@weft/servers';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { until } from '../sidecar-agent/helpers.js';

let dir: string;
const closers: (() => Promise<unknown> | unknown)[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'weft-workload-identity-'));
});
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  rmSync(dir, { recursive: true, force: true });
});

async function controller(identity: IdentitySettings = {}, port = 0): Promise<{ app: FastifyInstance; url: string }> {
  const app = await createControllerServer({ auth: [{ type: 'trusted' }], identity });
  closers.push(() => app.close());
  const url = await app.listen({ host: '127.0.0.1', port });
  return { app, url };
}

function workload(url: string, service: string, options: Partial<WorkloadIdentityOptions> = {}) {
  const warnings: AdapterWarning[] = [];
  const identity = new WorkloadIdentity({
    url,
    token: 'default',
    service,
    logger: { warn: (w) => warnings.push(w) },
    ...options,
  });
  closers.push(() => identity.close());
  return { identity, warnings };
}

/** The next `event` of an identity (events.once would also reject on its `error` events, which go on during outages). */
function next(identity: WorkloadIdentity, event: 'rotated' | 'expired'): Promise<void> {
  return new Promise((resolve) => identity.once(event, () => resolve()));
}

const spiffe = (service: string) => `spiffe://weft.local/ns/default/svc/${service}`;

/** `checkServerIdentity` for mesh peers: the peer's URI SAN must be the destination's SPIFFE ID. */
function expectIdentity(uri: string) {
  return (_host: string, cert: PeerCertificate): Error | undefined =>
    cert.subjectaltname === `URI:${uri}` ? undefined : new Error(`peer is ${cert.subjectaltname}, not ${uri}`);
}

/** A TLS echo server requiring client certificates, that records its peers' URI SANs. */
async function echoServer(identity: WorkloadIdentity): Promise<{ server: Server; port: number; peers: string[] }> {
  const peers: string[] = [];
  const server = createServer({ ...identity.tlsOptions(), requestCert: true, rejectUnauthorized: true }, (socket) => {
    peers.push(socket.getPeerCertificate().subjectaltname ?? '');
    socket.on('data', (d) => socket.write(d));
    socket.on('error', () => undefined);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  closers.push(() => new Promise((resolve) => server.close(resolve)));
  return { server, port: (server.address() as AddressInfo).port, peers };
}

async function dial(port: number, identity: WorkloadIdentity, expected: string): Promise<TLSSocket> {
  const socket = connect({
    host: '127.0.0.1',
    port,
    ...identity.tlsOptions(),
    servername: 'mesh',
    checkServerIdentity: expectIdentity(expected),
  });
  closers.push(() => socket.destroy());
  await once(socket, 'secureConnect');
  return socket;
}

async function echo(socket: TLSSocket, text: string): Promise<string> {
  socket.write(text);
  const [data] = (await once(socket, 'data')) as [Buffer];
  return data.toString();
}

describe('WorkloadIdentity', () => {
  it('gets certificates for two workloads that authenticate each other by SPIFFE ID over mutual TLS', async () => {
    const { url } = await controller();
    const reviews = workload(url, 'reviews').identity;
    const productpage = workload(url, 'productpage').identity;
    const rotations: string[] = [];
    reviews.on('rotated', (reason) => rotations.push(reason));
    await Promise.all([reviews.start(), productpage.start()]);
    await new Promise((r) => setTimeout(r, 100));
    expect(rotations).toEqual(['certificate']); // one certificate at start, not one per bundle read
    expect(reviews.certificate?.spiffeId).toBe(spiffe('reviews'));
    expect(reviews.bundle).toHaveLength(1);

    const { port, peers } = await echoServer(reviews);
    const socket = await dial(port, productpage, spiffe('reviews'));
    expect(socket.authorized).toBe(true);
    expect(await echo(socket, 'hello')).toBe('hello');
    expect(peers).toEqual([`URI:${spiffe('productpage')}`]);

    // Expecting another service's identity fails the handshake on the client side.
    const wrong = connect({
      host: '127.0.0.1',
      port,
      ...productpage.tlsOptions(),
      checkServerIdentity: expectIdentity(spiffe('ratings')),
    });
    const [err] = (await once(wrong, 'error')) as [Error];
    expect(err.message).toContain('not spiffe://weft.local/ns/default/svc/ratings');
    // A client without a certificate is refused by the server.
    const anonymous = connect({
      host: '127.0.0.1',
      port,
      ca: [...(reviews.bundle ?? [])],
      checkServerIdentity: () => undefined,
    });
    const refused = await new Promise<Error>((resolve) => anonymous.on('error', resolve));
    expect(refused.message).toContain('certificate required');
    expect(peers).toHaveLength(1);
  });

  it('renews at half-life and swaps the context into a live server: the open connection stays, new ones see the new certificate', async () => {
    const { url } = await controller({ certTtlMs: 3_000 });
    const reviews = workload(url, 'reviews').identity;
    const productpage = workload(url, 'productpage').identity;
    await Promise.all([reviews.start(), productpage.start()]);
    const first = reviews.certificate;
    const lifetime = (first?.notAfter.getTime() ?? 0) - Date.now();
    expect(lifetime).toBeLessThanOrEqual(3_000);

    const { server, port } = await echoServer(reviews);
    reviews.on('rotated', () => server.setSecureContext(reviews.tlsOptions()));
    const open = await dial(port, productpage, spiffe('reviews'));
    expect(open.getPeerCertificate().serialNumber).toBe(first?.serialNumber);

    const received = Date.now();
    const remaining = (first?.notAfter.getTime() ?? 0) - received; // X.509 times are whole seconds
    await next(reviews, 'rotated');
    const renewedAfter = Date.now() - received;
    const second = reviews.certificate;
    expect(second?.serialNumber).not.toBe(first?.serialNumber);
    expect(second?.key).not.toBe(first?.key); // a fresh key pair per certificate
    // Half of the lifetime left when it arrived, less up to 10 % of it (jitter).
    expect(renewedAfter).toBeGreaterThan(remaining * 0.4 - 50);
    expect(renewedAfter).toBeLessThan(remaining * 0.5 + 400);

    // Past the first certificate's expiry, the connection made with it still carries data…
    await new Promise((r) => setTimeout(r, Math.max(0, (first?.notAfter.getTime() ?? 0) - Date.now() + 100)));
    expect(await echo(open, 'still here')).toBe('still here');
    // …and a new connection is served with the renewed certificate (the client renewed too).
    const fresh = await dial(port, productpage, spiffe('reviews'));
    expect(fresh.getPeerCertificate().serialNumber).toBe(reviews.certificate?.serialNumber);
    expect(fresh.getPeerCertificate().serialNumber).not.toBe(first?.serialNumber);
  });

  it('keeps its certificate while renewals fail, warns (renewal, then expiry), and renews once the controller is back', async () => {
    const file = join(dir, 'ca.pem'); // the same root across the restart
    const first = await controller({ certTtlMs: 3_000, ca: { file } });
    const port = Number(new URL(first.url).port);
    const { identity, warnings } = workload(first.url, 'reviews', {
      retryBackoff: { baseMs: 100, maxMs: 300 },
      transport: 'poll',
      pollIntervalMs: 100,
    });
    await identity.start();
    const held = identity.certificate;
    await first.app.close();

    await next(identity, 'expired');
    expect(identity.certificate).toBe(held); // kept, never dropped
    expect(warnings.map((w) => w.code)).toEqual(
      expect.arrayContaining(['WEFT_WARN_IDENTITY_RENEWAL', 'WEFT_WARN_IDENTITY_EXPIRED']),
    );
    expect(warnings.filter((w) => w.code === 'WEFT_WARN_IDENTITY_RENEWAL')).toHaveLength(1); // once per streak

    await controller({ certTtlMs: 3_000, ca: { file } }, port);
    await next(identity, 'rotated');
    expect(identity.certificate?.serialNumber).not.toBe(held?.serialNumber);
    expect(identity.certificate?.notAfter.getTime()).toBeGreaterThan(Date.now());
  });

  it('follows the bundle watch: a controller with a new root makes it renew at once from the new CA', async () => {
    const first = await controller();
    const port = Number(new URL(first.url).port);
    const { identity } = workload(first.url, 'reviews', { backoff: { baseMs: 50, maxMs: 200 } });
    await identity.start();
    const before = { roots: identity.bundle, serial: identity.certificate?.serialNumber };
    await first.app.close();
    const reasons: string[] = [];
    identity.on('rotated', (reason) => reasons.push(reason));
    await controller({}, port); // a memory CA: a new root, and the old one is gone
    await until('a certificate from the new CA', async () =>
      identity.certificate?.serialNumber !== before.serial ? true : undefined,
    );
    expect(reasons).toEqual(['bundle', 'certificate']);
    expect(identity.bundle).not.toEqual(before.roots);
    const root = new X509Certificate(identity.bundle?.[0] as string);
    expect(new X509Certificate(identity.certificate?.chain[0] as string).verify(root.publicKey)).toBe(true);
  });

  it('asks in the namespace its token gives, as the controller says with the bundle', async () => {
    const { url } = await controller();
    const { identity } = workload(url, 'ratings', { token: 'team-a' });
    await identity.start();
    expect(identity.certificate?.spiffeId).toBe('spiffe://weft.local/ns/team-a/svc/ratings');
    expect(identity.spiffeId).toEqual({ trustDomain: 'weft.local', namespace: 'team-a', service: 'ratings' });
  });

  it('rejects start with the controller’s 403 when the token’s namespace is not the identity’s', async () => {
    const { url } = await controller();
    const { identity } = workload(url, 'reviews', { token: 'team-b', namespace: 'default' });
    await expect(identity.start()).rejects.toMatchObject({ status: 403, code: 'WEFT_ERR_IDENTITY_FORBIDDEN' });
  });

  it('checks its options, naming each bad field', () => {
    expect(() => new WorkloadIdentity({ url: 'ftp://x', service: 'a b', renewAt: 2 })).toThrow(
      expect.objectContaining({
        code: 'WEFT_ERR_INVALID_ARGUMENT',
        issues: expect.arrayContaining([
          expect.objectContaining({ path: 'url' }),
          expect.objectContaining({ path: 'service' }),
          expect.objectContaining({ path: 'renewAt' }),
        ]),
      }),
    );
  });
});
