/**
 * The controller's CA over real HTTP on loopback: issuance, refusals (401, 403, 400), the trust
 * bundle and its watch through a rotation, the operator's CA files and bad ones.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isWeftError } from '@weft/core';
import { caMaterial, createControlPlaneServer, generateCa } from '@weft/servers';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expiredCa, makeCsr, opensslCa } from './support.js';

let dir: string;
const apps: FastifyInstance[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'weft-identity-'));
});
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
  rmSync(dir, { recursive: true, force: true });
});

/** A control plane on loopback whose bearer token is the namespace (`trusted` mode). */
async function controlPlane(
  identity: Parameters<typeof createControlPlaneServer>[0] extends infer O
    ? O extends { identity?: infer I }
      ? I
      : never
    : never = {},
) {
  const app = await createControlPlaneServer({ auth: [{ type: 'trusted' }], identity });
  apps.push(app);
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, base };
}

async function requestCertificate(base: string, body: unknown, token?: string) {
  const res = await fetch(`${base}/v1/identity/certificates`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
    },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('the controller CA', () => {
  it('signs a workload certificate for the token’s namespace: URI SAN, chain to the bundle’s root, its lifetime', async () => {
    const { base } = await controlPlane({ certTtlMs: 3_600_000 });
    const uri = 'spiffe://weft.local/ns/team-a/svc/reviews';
    const { status, body } = await requestCertificate(
      base,
      { csr: await makeCsr([uri]), service: 'reviews' },
      'team-a',
    );
    expect(status).toBe(201);
    expect(body.spiffeId).toBe(uri);
    const leaf = new X509Certificate(body.certificate as string);
    expect(leaf.subjectAltName).toBe(`URI:${uri}`);
    expect(leaf.ca).toBe(false);
    const bundle = (await (
      await fetch(`${base}/v1/identity/bundle`, { headers: { authorization: 'Bearer team-a' } })
    ).json()) as {
      trustDomain: string;
      roots: string[];
    };
    expect(bundle.trustDomain).toBe('weft.local');
    expect(bundle.roots).toHaveLength(1);
    const root = new X509Certificate(bundle.roots[0] as string);
    expect(root.ca).toBe(true);
    expect(leaf.checkIssued(root)).toBe(true);
    expect(leaf.verify(root.publicKey)).toBe(true);
    expect(body.chain).toEqual([body.certificate]);
    expect(body.roots).toEqual(bundle.roots);
    const lifetime = leaf.validToDate.getTime() - Date.now();
    expect(lifetime).toBeGreaterThan(3_590_000);
    expect(lifetime).toBeLessThanOrEqual(3_600_000);
    expect(body.notAfter).toBe(leaf.validToDate.toISOString());
  });

  it('refuses without credentials (401), for another namespace or service (403, coded), and bad requests (400, by field)', async () => {
    const { base } = await controlPlane();
    const own = await makeCsr(['spiffe://weft.local/ns/team-a/svc/reviews']);
    const none = await requestCertificate(base, { csr: own, service: 'reviews' });
    expect(none.status).toBe(401);
    expect(none.body.code).toBe('WEFT_ERR_UNAUTHORIZED');

    const otherNamespace = await requestCertificate(base, { csr: own, service: 'reviews' }, 'team-b');
    expect(otherNamespace.status).toBe(403);
    expect(otherNamespace.body.code).toBe('WEFT_ERR_IDENTITY_FORBIDDEN');
    expect(otherNamespace.body.error).toContain('namespace team-a');

    const otherService = await requestCertificate(base, { csr: own, service: 'ratings' }, 'team-a');
    expect(otherService.status).toBe(403);
    expect(otherService.body.code).toBe('WEFT_ERR_IDENTITY_FORBIDDEN');
    expect(otherService.body.error).toContain('service reviews');

    const otherDomain = await requestCertificate(
      base,
      { csr: await makeCsr(['spiffe://evil.example/ns/team-a/svc/reviews']), service: 'reviews' },
      'team-a',
    );
    expect(otherDomain.status).toBe(403);

    const missing = await requestCertificate(base, {}, 'team-a');
    expect(missing.status).toBe(400);
    expect((missing.body.issues as { path: string }[]).map((i) => i.path)).toEqual(['csr', 'service']);

    const notCsr = await requestCertificate(base, { csr: 'hello', service: 'reviews' }, 'team-a');
    expect(notCsr.status).toBe(400);
    expect(notCsr.body.issues).toEqual([{ path: 'csr', message: expect.stringContaining('PKCS#10') }]);

    const extraSan = await requestCertificate(
      base,
      { csr: await makeCsr(['spiffe://weft.local/ns/team-a/svc/reviews'], ['reviews.local']), service: 'reviews' },
      'team-a',
    );
    expect(extraSan.status).toBe(400);
    expect(extraSan.body.issues).toEqual([
      { path: 'csr.subjectAltName', message: expect.stringContaining('exactly one') },
    ]);

    const badUri = await requestCertificate(
      base,
      { csr: await makeCsr(['spiffe://weft.local/reviews']), service: 'reviews' },
      'team-a',
    );
    expect(badUri.status).toBe(400);
    expect((badUri.body.issues as { path: string }[])[0]?.path).toBe('csr.subjectAltName');
  });

  it('pushes a rotation to bundle watchers (SSE): the new root first, the old one kept', async () => {
    const { app, base } = await controlPlane();
    const first = (await (
      await fetch(`${base}/v1/identity/bundle`, { headers: { authorization: 'Bearer default' } })
    ).json()) as {
      roots: string[];
    };
    const controller = new AbortController();
    const res = await fetch(`${base}/v1/identity/bundle`, {
      headers: { authorization: 'Bearer default', accept: 'text/event-stream', 'last-event-id': '1' },
      signal: controller.signal,
    });
    const reader = (res.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
    const ca = await app.certificateAuthority?.get();
    const next = await generateCa('weft.local', 86_400_000);
    ca?.rotate(caMaterial(next.certPem, next.keyPem, { cert: 'test', key: 'test' }));
    let text = '';
    while (!text.includes('id: 2')) text += (await reader.read()).value ?? '';
    controller.abort();
    const data = JSON.parse(/data: (.*)\n/.exec(text.slice(text.indexOf('id: 2')))?.[1] as string) as {
      roots: string[];
    };
    expect(data.roots).toEqual([next.certPem, first.roots[0]]);
  });

  it('signs with the operator’s CA files (openssl), and keeps a generated root in ca.file across restarts', async () => {
    const files = opensslCa(dir, 'operator');
    const { base } = await controlPlane({ ca: { certFile: files.certFile, keyFile: files.keyFile } });
    const { status, body } = await requestCertificate(
      base,
      { csr: await makeCsr(['spiffe://weft.local/ns/default/svc/reviews']), service: 'reviews' },
      'default',
    );
    expect(status).toBe(201);
    const operator = new X509Certificate(readFileSync(files.certFile));
    expect(new X509Certificate(body.certificate as string).verify(operator.publicKey)).toBe(true);
    expect(body.roots).toEqual([readFileSync(files.certFile, 'utf8').trim().concat('\n')]);

    const file = join(dir, 'state', 'ca.pem');
    const one = await controlPlane({ ca: { file } });
    const rootOne = (
      (await (await fetch(`${one.base}/v1/identity/bundle`, { headers: { authorization: 'Bearer x' } })).json()) as {
        roots: string[];
      }
    ).roots;
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const two = await controlPlane({ ca: { file } });
    const rootTwo = (
      (await (await fetch(`${two.base}/v1/identity/bundle`, { headers: { authorization: 'Bearer x' } })).json()) as {
        roots: string[];
      }
    ).roots;
    expect(rootTwo).toEqual(rootOne);
  });

  it('refuses to start on bad CA files, each with WEFT_ERR_CA_INVALID naming the setting', async () => {
    const refusal = async (ca: {
      certFile: string;
      keyFile: string;
    }): Promise<{ setting: string; message: string }> => {
      try {
        await createControlPlaneServer({ identity: { ca } });
      } catch (err) {
        expect(isWeftError(err, 'WEFT_ERR_CA_INVALID')).toBe(true);
        return { setting: (err as { setting: string }).setting, message: (err as Error).message };
      }
      throw new Error('started');
    };
    const good = opensslCa(dir, 'good');
    const other = opensslCa(dir, 'other');
    const leafOnly = opensslCa(dir, 'leaf', false);
    const expired = await expiredCa(dir);
    expect(await refusal(expired)).toEqual({
      setting: 'identity.ca.certFile',
      message: expect.stringContaining('expired on'),
    });
    expect(await refusal(leafOnly)).toEqual({
      setting: 'identity.ca.certFile',
      message: expect.stringContaining('not a CA'),
    });
    expect(await refusal({ certFile: good.certFile, keyFile: other.keyFile })).toEqual({
      setting: 'identity.ca.keyFile',
      message: expect.stringContaining('does not match'),
    });
    expect(await refusal({ certFile: join(dir, 'missing.crt'), keyFile: good.keyFile })).toEqual({
      setting: 'identity.ca.certFile',
      message: expect.stringContaining('does not exist'),
    });
    expect(await refusal({ certFile: good.keyFile, keyFile: good.keyFile })).toEqual({
      setting: 'identity.ca.certFile',
      message: expect.stringContaining('no PEM certificate'),
    });
  });
});
