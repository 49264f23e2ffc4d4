/**
 * Credentials bound to services, against a real control plane on loopback (`jwt` mode): a token
 * bound to `reviews` gets the `reviews` identity and is refused `ratings` (403, coded, naming the
 * service and the binding) — however its CSR is dressed — while an unbound token stays
 * namespace-wide, unless `identity.requireServiceBinding`; `WorkloadIdentity` (what the sidecar
 * runs) presents a bound token as it is.
 */
import { X509Certificate } from 'node:crypto';
import { WorkloadIdentity } from '@weft/adapters/weft';
import { createControlPlaneServer, type IdentitySettings } from '@weft/servers';
import type { FastifyInstance } from 'fastify';
import { SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { makeCsr } from './support.js';

const SECRET = 'service-binding-test-secret-0123456789';
const closers: (() => unknown)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function controlPlane(identity: IdentitySettings = {}): Promise<string> {
  const app: FastifyInstance = await createControlPlaneServer({ auth: [{ type: 'jwt', secret: SECRET }], identity });
  closers.push(() => app.close());
  return app.listen({ host: '127.0.0.1', port: 0 });
}

function token(claims: Record<string, unknown>): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(SECRET));
}

const spiffe = (service: string) => `spiffe://weft.local/ns/team-a/svc/${service}`;

/** Asks for `service`'s certificate with a CSR for `csrService` (default: the same). */
async function ask(base: string, bearer: string, service: string, csrService = service) {
  const res = await fetch(`${base}/v1/identity/certificates`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` },
    body: JSON.stringify({ csr: await makeCsr([spiffe(csrService)]), service }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('service-bound credentials at the CA', () => {
  it('signs a bound token’s own service and refuses another one with 403, naming both', async () => {
    const base = await controlPlane();
    const reviews = await token({ namespace: 'team-a', services: ['reviews'] });

    const own = await ask(base, reviews, 'reviews');
    expect(own.status).toBe(201);
    expect(own.body.spiffeId).toBe(spiffe('reviews'));
    expect(new X509Certificate(own.body.certificate as string).subjectAltName).toBe(`URI:${spiffe('reviews')}`);

    const other = await ask(base, reviews, 'ratings');
    expect(other.status).toBe(403);
    expect(other.body.code).toBe('WEFT_ERR_IDENTITY_FORBIDDEN');
    expect(other.body.error).toBe(
      'the request asks for service ratings: these credentials are bound to service reviews in namespace team-a',
    );

    // A CSR for ratings sent as a request for reviews: the body's service and the CSR must agree.
    const smuggled = await ask(base, reviews, 'reviews', 'ratings');
    expect(smuggled.status).toBe(403);
    expect(smuggled.body.code).toBe('WEFT_ERR_IDENTITY_FORBIDDEN');
    expect(smuggled.body.error).toContain('for service ratings, but names service reviews');

    // A token bound to several services gets each of them.
    const both = await token({ namespace: 'team-a', services: ['reviews', 'ratings'] });
    expect((await ask(base, both, 'ratings')).status).toBe(201);
    const refused = await ask(base, both, 'details');
    expect(refused.status).toBe(403);
    expect(refused.body.error).toContain('bound to services reviews, ratings');
  });

  it('keeps an unbound token namespace-wide, and answers a malformed binding with a 401 naming the claim', async () => {
    const base = await controlPlane();
    const unbound = await token({ namespace: 'team-a' });
    for (const service of ['reviews', 'ratings']) {
      const res = await ask(base, unbound, service);
      expect(res.status, service).toBe(201);
      expect(res.body.spiffeId).toBe(spiffe(service));
    }
    const malformed = await ask(base, await token({ namespace: 'team-a', services: { reviews: true } }), 'reviews');
    expect(malformed.status).toBe(401);
    expect(malformed.body.code).toBe('WEFT_ERR_UNAUTHORIZED');
    expect(malformed.body.error).toContain('`services` claim');
  });

  it('refuses namespace-wide credentials altogether with identity.requireServiceBinding', async () => {
    const base = await controlPlane({ requireServiceBinding: true });
    const unbound = await ask(base, await token({ namespace: 'team-a' }), 'reviews');
    expect(unbound.status).toBe(403);
    expect(unbound.body.code).toBe('WEFT_ERR_IDENTITY_FORBIDDEN');
    expect(unbound.body.error).toContain('identity.requireServiceBinding');
    expect(unbound.body.error).toContain('namespace team-a');
    expect((await ask(base, await token({ namespace: 'team-a', services: 'reviews' }), 'reviews')).status).toBe(201);
    // requireServiceBinding gates identities only: the bundle (and the other routes) still answer an unbound token.
    const bundle = await fetch(`${base}/v1/identity/bundle`, {
      headers: { authorization: `Bearer ${await token({ namespace: 'team-a' })}` },
    });
    expect(bundle.status).toBe(200);
  });

  it('lets WorkloadIdentity (the sidecar’s) present a bound token: its own service only', async () => {
    const url = await controlPlane();
    const bound = await token({ namespace: 'team-a', services: ['reviews'] });
    const reviews = new WorkloadIdentity({ url, token: bound, service: 'reviews' });
    const ratings = new WorkloadIdentity({ url, token: bound, service: 'ratings', logger: { warn: () => {} } });
    closers.push(
      () => reviews.close(),
      () => ratings.close(),
    );
    await reviews.start();
    expect(reviews.spiffeId).toEqual({ trustDomain: 'weft.local', namespace: 'team-a', service: 'reviews' });
    await expect(ratings.start()).rejects.toMatchObject({ status: 403, code: 'WEFT_ERR_IDENTITY_FORBIDDEN' });
  });
});
