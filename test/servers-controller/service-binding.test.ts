/**
 * The controller's writes take namespace-wide credentials, over real HTTP (`jwt` mode), on the
 * controller server and on the control plane: a token bound to a workload's service reads the
 * namespace's rules and authorization policies (its sidecar does) and explains them, but every
 * write of them — add, update, replace, delete, set or remove the policies — is refused with 403
 * `WEFT_ERR_BINDING_FORBIDDEN` before its body is read, and changes nothing. A token without the
 * services claim (the operator's) writes them.
 */
import { SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import type { AuthMode } from '../../packages/servers/src/auth/authenticator.js';
import { createControlPlaneServer } from '../../packages/servers/src/control-plane.js';
import { createControllerServer } from '../../packages/servers/src/controller/server.js';

const SECRET = 'controller-binding-test-secret-0123456789';
const AUTH: AuthMode[] = [{ type: 'jwt', secret: SECRET }];
const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

const servers = [
  {
    name: 'controller server',
    async start(): Promise<string> {
      const app = await createControllerServer({ auth: AUTH });
      closers.push(() => app.close());
      return app.listen({ host: '127.0.0.1', port: 0 });
    },
  },
  {
    name: 'control plane',
    async start(): Promise<string> {
      const app = await createControlPlaneServer({ auth: AUTH, dashboard: false });
      closers.push(() => app.close());
      return app.listen({ host: '127.0.0.1', port: 0 });
    },
  },
];

function token(claims: Record<string, unknown>): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(SECRET));
}

const route = (id: string) => ({
  id,
  priority: 1,
  destination: 'reviews',
  route: { backends: [{ tags: ['version=v1'] }] },
});
const policies = {
  defaultAction: 'deny',
  policies: [
    { id: 'productpage-reads', destination: 'reviews', action: 'allow', from: [{ services: ['productpage'] }] },
  ],
};

async function call(base: string, jwt: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${jwt}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe.each(servers)('service-bound credentials on the controller ($name)', ({ start }) => {
  it('lets a bound token read and explain the rules and policies, and refuses it every write of them', async () => {
    const base = await start();
    const reviews = await token({ namespace: 'team-a', services: ['reviews'] });
    const operator = await token({ namespace: 'team-a' });

    // The operator writes: rules and policies.
    expect((await call(base, operator, 'POST', '/v1/rules', { rules: [route('reviews-default')] })).status).toBe(201);
    expect((await call(base, operator, 'PUT', '/v1/authorization', policies)).status).toBe(200);

    const refusals: [string, string, unknown, string][] = [
      ['POST', '/v1/rules', { rules: [route('reviews-hijack')] }, 'rules'],
      ['PUT', '/v1/rules', { rules: [{ ...route('reviews-default'), priority: 9 }] }, 'rules'],
      ['DELETE', '/v1/rules', undefined, 'rules'],
      ['PUT', '/v1/rules/routes/reviews', { rules: [route('reviews-hijack')] }, 'rules'],
      ['DELETE', '/v1/rules/routes/reviews', undefined, 'rules'],
      ['PUT', '/v1/rules/actions/ratings', { rules: [] }, 'rules'],
      ['DELETE', '/v1/rules/actions/ratings', undefined, 'rules'],
      ['PUT', '/v1/authorization', { defaultAction: 'allow', policies: [] }, 'authorization policies'],
      ['DELETE', '/v1/authorization', undefined, 'authorization policies'],
      // Refused before the body is read: a malformed one is a 403 too, not a 400.
      ['POST', '/v1/rules', '{not json', 'rules'],
    ];
    for (const [method, path, body, what] of refusals) {
      const res = await call(base, reviews, method, path, body);
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.body.code).toBe('WEFT_ERR_BINDING_FORBIDDEN');
      expect(res.body.error).toBe(
        `the request writes the namespace's ${what}: these credentials are bound to service reviews in namespace team-a, and only namespace-wide credentials write them`,
      );
    }

    // Nothing changed: the bound token reads the operator's rules and policies, at the same revision.
    const rules = await call(base, reviews, 'GET', '/v1/rules');
    expect(rules.status).toBe(200);
    expect(rules.body).toMatchObject({ revision: 2, rules: [route('reviews-default')] });
    expect((await call(base, reviews, 'GET', '/v1/authorization')).body).toEqual({ ...policies, revision: 2 });
    // Explains are reads.
    const explained = await call(base, reviews, 'POST', '/v1/authorization/explain', {
      destination: 'reviews',
      peer: { identity: 'spiffe://weft.local/ns/team-a/svc/productpage' },
    });
    expect(explained.status, JSON.stringify(explained.body)).toBe(200);
    expect((await call(base, reviews, 'POST', '/v1/rules/explain', { destination: 'reviews' })).status).toBe(200);

    // The operator's token still writes everything.
    expect((await call(base, operator, 'PUT', '/v1/rules/routes/reviews', { rules: [route('v2')] })).status).toBe(201);
    expect((await call(base, operator, 'DELETE', '/v1/authorization')).status).toBe(200);
    expect((await call(base, operator, 'DELETE', '/v1/rules')).status).toBe(200);
  });
});
