/**
 * Tenants cannot reach each other, by construction: every route acts in the namespace the
 * authenticator gave the request, and nothing else. For every auth mode (and a chain of them),
 * tenant A can neither read, heartbeat, change, delete nor watch tenant B's instances — nor learn
 * that they exist: B's ids (which A can compute: they are deterministic) are as unknown to A as
 * ids nobody registered, and B's writes move no revision A sees.
 */
import { MemoryRegistry } from '@weft/core';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthMode, createRegistryServer, type RegistryServer } from '../../packages/servers/src/index.js';
import { type Answer, json, listen, openEvents, send } from './helpers.js';

const SECRET = 'a-test-secret-of-at-least-32-characters!';
const jwt = (namespace: string): Promise<string> =>
  new SignJWT({ namespace })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(SECRET));

/** A tenant as a client sees it: where it sends requests, with what credentials. */
interface Tenant {
  base: string;
  headers: Record<string, string>;
}

/** An auth setup: the servers it needs (over one shared registry) and tenants A and B. */
interface Setup {
  name: string;
  make(registry: MemoryRegistry): Promise<{ servers: RegistryServer[]; a: Tenant; b: Tenant }>;
}

async function serve(registry: MemoryRegistry, auth: AuthMode[]): Promise<{ server: RegistryServer; base: string }> {
  const server = await createRegistryServer({ registry, auth });
  return { server, base: await listen(server) };
}

const setups: Setup[] = [
  {
    name: 'none (one server per tenant, one shared store)',
    async make(registry) {
      const a = await serve(registry, [{ type: 'none', namespace: 'tenant-a' }]);
      const b = await serve(registry, [{ type: 'none', namespace: 'tenant-b' }]);
      return { servers: [a.server, b.server], a: { base: a.base, headers: {} }, b: { base: b.base, headers: {} } };
    },
  },
  {
    name: 'trusted',
    async make(registry) {
      const s = await serve(registry, [{ type: 'trusted' }]);
      return {
        servers: [s.server],
        a: { base: s.base, headers: { authorization: 'Bearer tenant-a' } },
        b: { base: s.base, headers: { authorization: 'Bearer tenant-b' } },
      };
    },
  },
  {
    name: 'jwt',
    async make(registry) {
      const s = await serve(registry, [{ type: 'jwt', secret: SECRET }]);
      return {
        servers: [s.server],
        a: { base: s.base, headers: { authorization: `Bearer ${await jwt('tenant-a')}` } },
        b: { base: s.base, headers: { authorization: `Bearer ${await jwt('tenant-b')}` } },
      };
    },
  },
  {
    name: 'admin',
    async make(registry) {
      const s = await serve(registry, [{ type: 'admin', token: 'the-admin-token' }]);
      const as = (ns: string) => ({ authorization: 'Bearer the-admin-token', 'a8-namespace': ns });
      return {
        servers: [s.server],
        a: { base: s.base, headers: as('tenant-a') },
        b: { base: s.base, headers: as('tenant-b') },
      };
    },
  },
  {
    name: 'chained (jwt, admin, trusted, none): A by JWT, B by the admin token',
    async make(registry) {
      const s = await serve(registry, [
        { type: 'jwt', secret: SECRET },
        { type: 'admin', token: 'the-admin-token' },
        { type: 'trusted' },
        { type: 'none' },
      ]);
      return {
        servers: [s.server],
        a: { base: s.base, headers: { authorization: `Bearer ${await jwt('tenant-a')}` } },
        b: { base: s.base, headers: { authorization: 'Bearer the-admin-token', 'a8-namespace': 'tenant-b' } },
      };
    },
  },
];

const body = { service_name: 'reviews', endpoint: { type: 'http', value: '10.0.0.1:9080' }, tags: ['v1'] };
const rev = (a: Answer): number => Number(a.headers['x-weft-index']);

describe.each(setups)('namespaces under auth mode $name', (setup) => {
  let registry: MemoryRegistry;
  let servers: RegistryServer[];
  let a: Tenant;
  let b: Tenant;
  let idB: string;
  const as = (t: Tenant, path: string, ask: { method?: string; body?: unknown } = {}) =>
    send(t.base, path, { ...ask, headers: t.headers });

  beforeAll(async () => {
    registry = new MemoryRegistry();
    ({ servers, a, b } = await setup.make(registry));
    const created = await as(b, '/api/v1/instances', { body });
    expect(created.status).toBe(201);
    idB = json<{ id: string }>(created).id;
  });
  afterAll(async () => {
    for (const s of servers) await s.close();
    await registry.close();
  });

  it('B’s instance is in B’s namespace only', async () => {
    expect(await registry.instances({ namespace: 'tenant-b' })).toMatchObject([{ id: idB }]);
    expect(json(await as(b, '/api/v1/services'))).toEqual({ services: ['reviews'] });
  });

  it('A cannot read it: instances, services, the service, by id, in any status', async () => {
    expect(json(await as(a, '/api/v1/instances?status=ALL'))).toEqual({ instances: [] });
    expect(json(await as(a, `/api/v1/instances?id=${idB}`))).toEqual({ instances: [] });
    expect(json(await as(a, '/api/v1/services'))).toEqual({ services: [] });
    const service = await as(a, '/api/v1/services/reviews');
    expect(service.status).toBe(404);
    // The same answer as for a service nobody registered anywhere.
    const nobody = await as(a, '/api/v1/services/nobody');
    expect(json(service).Error).toBe(json(nobody).Error);
  });

  it('A cannot heartbeat, change or delete it, and learns no more than for an id nobody has', async () => {
    for (const [method, suffix, payload] of [
      ['PUT', '/heartbeat', undefined],
      ['PUT', '/status', { status: 'OUT_OF_SERVICE' }],
      ['DELETE', '', undefined],
    ] as const) {
      const theirs = await as(a, `/api/v1/instances/${idB}${suffix}`, { method, body: payload });
      const nobodys = await as(a, `/api/v1/instances/ffffffffffffffff${suffix}`, { method, body: payload });
      expect(theirs.status, `${method} ${suffix}`).toBe(410);
      const strip = (x: Answer) => json<{ message: string }>(x).message.replace(/"[0-9a-f]{16}"/, '"ID"');
      expect(strip(theirs)).toBe(strip(nobodys));
      expect(strip(theirs)).not.toContain('tenant-b');
    }
    expect(await registry.instances({ namespace: 'tenant-b' })).toMatchObject([{ id: idB, status: 'UP' }]);
    expect((await as(b, `/api/v1/instances/${idB}/heartbeat`, { method: 'PUT' })).status).toBe(200);
  });

  it('A’s own registration of the same endpoint is A’s: same id, separate record', async () => {
    const created = await as(a, '/api/v1/instances', { body: { ...body, namespace: 'tenant-b', tags: ['a'] } });
    expect(json(created)).toMatchObject({ id: idB }); // deterministic: service/type/value
    expect(json(await as(b, '/api/v1/instances'))).toMatchObject({ instances: [{ tags: ['v1'] }] });
    expect((await as(a, `/api/v1/instances/${idB}`, { method: 'DELETE' })).status).toBe(200);
    expect(json(await as(b, '/api/v1/instances'))).toMatchObject({ instances: [{ id: idB, tags: ['v1'] }] });
  });

  it('A cannot name B’s namespace in a query either', async () => {
    expect((await as(a, '/api/v1/instances?namespace=tenant-b')).status).toBe(400);
    expect(json(await as(a, '/api/v1/services?namespace=tenant-b'))).toEqual({ services: [] });
  });

  it('A’s watches do not wake, nor do A’s revisions move, for B’s writes', async () => {
    const before = await as(a, '/api/v1/instances?status=ALL');
    const stream = await openEvents(a.base, '/api/v1/instances?status=ALL', a.headers);
    try {
      expect(JSON.parse((await stream.next()).data)).toEqual({ instances: [] });
      const poll = as(a, `/api/v1/services?index=${rev(before)}&wait=700ms`);
      await new Promise((r) => setTimeout(r, 100));
      const second = { ...body, endpoint: { type: 'http', value: '10.0.0.2:9080' } };
      const id2 = json<{ id: string }>(await as(b, '/api/v1/instances', { body: second })).id;
      await as(b, `/api/v1/instances/${id2}/status`, { method: 'PUT', body: { status: 'STARTING' } });
      await as(b, `/api/v1/instances/${id2}`, { method: 'DELETE' });
      const polled = await poll;
      expect(json(polled)).toEqual({ services: [] });
      expect(rev(polled)).toBe(rev(before));
      await expect(stream.next(300)).rejects.toThrow(/no event/);
      expect(rev(await as(a, '/api/v1/instances'))).toBe(rev(before));
    } finally {
      stream.close();
    }
  });
});
