/** The registry API's behaviour beyond the recorded exchanges: validation, limits, TTLs, the status route, mounting. */
import { MemoryRegistry, type Registry, VirtualClock } from '@weft/core';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import {
  authenticate,
  createAuthenticator,
  createRegistryServer,
  type RegistryServer,
  registryRoutes,
} from '../../packages/servers/src/index.js';
import { json, listen, send } from './helpers.js';

const closing: { close(): Promise<unknown> }[] = [];
afterEach(async () => {
  for (const c of closing.splice(0).reverse()) await c.close();
});

async function server(registry?: Registry, capacity?: number): Promise<RegistryServer> {
  const s = await createRegistryServer(
    registry === undefined ? (capacity === undefined ? {} : { capacity }) : { registry },
  );
  closing.push(s);
  return s;
}

function virtualRegistry(clock: VirtualClock, capacity?: number): MemoryRegistry {
  const r = new MemoryRegistry({ clock, ...(capacity === undefined ? {} : { capacity }) });
  closing.push(r);
  return r;
}

const reviews = (port: number, more: Record<string, unknown> = {}) => ({
  service_name: 'reviews',
  endpoint: { type: 'http', value: `10.0.0.1:${port}` },
  ...more,
});

interface Issue {
  path: string;
  message: string;
}

describe('POST /api/v1/instances', () => {
  it('answers 400 naming every bad field, with the Error text Amalgam8 gave for the first', async () => {
    const app = await server();
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/instances',
      payload: {
        service_name: '',
        endpoint: { type: 'icmp', value: 'no-port' },
        status: 'blah',
        tags: ['', 'ok'],
        metadata: { big: 'x'.repeat(1100) },
      },
    });
    expect(res.statusCode).toBe(400);
    const body = res.json<{ Error: string; code: string; issues: Issue[]; message: string }>();
    expect(body.Error).toBe('Service name is required');
    expect(body.code).toBe('WEFT_ERR_INVALID_ARGUMENT');
    expect(body.issues.map((i) => i.path).sort()).toEqual([
      'endpoint.type',
      'metadata',
      'service_name',
      'status',
      'tags[0]',
    ]);
    for (const path of ['service_name', 'endpoint.type', 'status', 'tags[0]', 'metadata'])
      expect(body.message).toContain(path);
  });

  it('checks the endpoint value against its type once the type is valid (host:port)', async () => {
    const app = await server();
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/instances',
      payload: { service_name: 's'.repeat(65), endpoint: { type: 'http', value: 'no-port' }, ttl: 30.5 },
    });
    const body = res.json<{ Error: string; issues: Issue[] }>();
    expect(res.statusCode).toBe(400);
    expect(body.Error).toBe('Failed to register instance'); // Go's decoder refused the fractional TTL first
    expect(body.issues.map((i) => i.path).sort()).toEqual(['endpoint.value', 'service_name', 'ttl']);
  });

  it('accepts what Amalgam8 accepted: any status case, unknown fields, extra endpoint fields, nulls', async () => {
    const app = await server();
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/instances',
      payload: {
        ...reviews(1, { status: 'Out_Of_Service', tags: null, metadata: null, ttl: null }),
        endpoint: { type: 'http', value: '10.0.0.1:1', weight: 3 },
        last_heartbeat: '0001-01-01T00:00:00Z',
        namespace: 'someone-else',
      },
    });
    expect(res.statusCode).toBe(201);
    const [instance] = await app.registry.instances({ status: 'ALL' });
    expect(instance).toMatchObject({ namespace: 'default', status: 'OUT_OF_SERVICE', ttl: 30, tags: [] });
  });

  it('refuses a body that would poison a prototype', async () => {
    const app = await server();
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/instances',
      headers: { 'content-type': 'application/json' },
      payload: `{"service_name":"x","endpoint":{"type":"http","value":"h:1"},"metadata":{"__proto__":{"polluted":true}}}`,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ Error: 'Failed to register instance', code: 'WEFT_ERR_INVALID_ARGUMENT' });
    expect(await app.registry.instances({ status: 'ALL' })).toEqual([]);
  });

  it('takes JSON in UTF-8 only, as Amalgam8 did (415 otherwise)', async () => {
    const app = await server();
    const latin1 = await app.inject({
      method: 'POST',
      url: '/api/v1/instances',
      headers: { 'content-type': 'application/json; charset=latin1' },
      payload: JSON.stringify(reviews(1)),
    });
    expect(latin1.statusCode).toBe(415);
    expect(latin1.json()).toMatchObject({ code: 'WEFT_ERR_UNSUPPORTED_MEDIA_TYPE' });
    const utf8 = await app.inject({
      method: 'POST',
      url: '/api/v1/instances',
      headers: { 'content-type': 'application/json; charset=UTF-8' },
      payload: JSON.stringify(reviews(1)),
    });
    expect(utf8.statusCode).toBe(201);
  });

  it('answers 403 beyond the namespace capacity, re-registration excepted', async () => {
    const app = await server(undefined, 2);
    for (const port of [1, 2])
      expect((await app.inject({ method: 'POST', url: '/api/v1/instances', payload: reviews(port) })).statusCode).toBe(
        201,
      );
    const over = await app.inject({ method: 'POST', url: '/api/v1/instances', payload: reviews(3) });
    expect(over.statusCode).toBe(403);
    expect(over.json()).toMatchObject({
      Error: 'Failed to register instance',
      code: 'WEFT_ERR_NAMESPACE_CAPACITY',
      status: 403,
    });
    const again = await app.inject({ method: 'POST', url: '/api/v1/instances', payload: reviews(2, { tags: ['v2'] }) });
    expect(again.statusCode).toBe(201);
  });
});

describe('GET /api/v1/services/{name}', () => {
  it('serves a 64-byte name of multi-byte characters, percent-encoded in the path', async () => {
    const app = await server();
    const name = 'é'.repeat(32);
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/instances',
      payload: { service_name: name, endpoint: { type: 'http', value: 'h:1' } },
    });
    expect(created.statusCode).toBe(201);
    const res = await app.inject({ url: `/api/v1/services/${encodeURIComponent(name)}` });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ service_name: name, instances: [{ endpoint: { value: 'h:1' } }] });
  });
});

describe('TTLs, heartbeats and expiry', () => {
  it('lists the latest heartbeat, and answers 410 once the TTL ran out', async () => {
    const clock = new VirtualClock(Date.UTC(2026, 11, 3, 10, 0, 0, 120));
    const app = await server(virtualRegistry(clock));
    const created = await app.inject({ method: 'POST', url: '/api/v1/instances', payload: reviews(1, { ttl: 10 }) });
    const { id } = created.json<{ id: string }>();
    clock.advance(7_000);
    expect((await app.inject({ method: 'PUT', url: `/api/v1/instances/${id}/heartbeat` })).statusCode).toBe(200);
    const listed = await app.inject({ url: '/api/v1/instances' });
    expect(listed.json()).toMatchObject({ instances: [{ id, last_heartbeat: '2026-12-03T10:00:07.12Z' }] });
    clock.advance(10_001);
    const late = await app.inject({ method: 'PUT', url: `/api/v1/instances/${id}/heartbeat` });
    expect(late.statusCode).toBe(410);
    expect(late.json()).toMatchObject({
      Error: 'Failed to renew instance registration',
      code: 'WEFT_ERR_UNKNOWN_INSTANCE',
    });
    expect((await app.inject({ url: '/api/v1/instances?status=ALL' })).json()).toEqual({ instances: [] });
  });

  it('ignores a heartbeat body, even malformed JSON, as Amalgam8 did', async () => {
    const app = await server();
    const { id } = (await app.inject({ method: 'POST', url: '/api/v1/instances', payload: reviews(1) })).json<{
      id: string;
    }>();
    const res = await app.inject({
      method: 'PUT',
      url: `/api/v1/instances/${id}/heartbeat`,
      headers: { 'content-type': 'application/json' },
      payload: '{not json',
    });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('');
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
  });
});

describe('PUT /api/v1/instances/{id}/status (Weft)', () => {
  it('parks an instance OUT_OF_SERVICE (hidden, never expiring) and brings it back', async () => {
    const clock = new VirtualClock(0);
    const app = await server(virtualRegistry(clock));
    const { id } = (
      await app.inject({ method: 'POST', url: '/api/v1/instances', payload: reviews(1, { ttl: 10 }) })
    ).json<{
      id: string;
    }>();
    const parked = await app.inject({
      method: 'PUT',
      url: `/api/v1/instances/${id}/status`,
      payload: { status: 'out_of_service' },
    });
    expect(parked.statusCode).toBe(200);
    expect(parked.json()).toMatchObject({ id, service_name: 'reviews', status: 'OUT_OF_SERVICE', ttl: 10 });
    expect((await app.inject({ url: '/api/v1/instances' })).json()).toEqual({ instances: [] });
    clock.advance(3_600_000);
    expect((await app.inject({ url: '/api/v1/instances?status=OUT_OF_SERVICE' })).json()).toMatchObject({
      instances: [{ id }],
    });
    const back = await app.inject({ method: 'PUT', url: `/api/v1/instances/${id}/status`, payload: { status: 'UP' } });
    expect(back.json()).toMatchObject({ status: 'UP' });
    clock.advance(10_001); // the TTL runs again from the change
    expect((await app.inject({ method: 'PUT', url: `/api/v1/instances/${id}/heartbeat` })).statusCode).toBe(410);
  });

  it('answers 400 for a bad status and 410 for an unknown instance', async () => {
    const app = await server();
    const bad = await app.inject({
      method: 'PUT',
      url: '/api/v1/instances/0000000000000000/status',
      payload: { status: 'DOWN' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({
      Error: 'Valid statuses are: UP, STARTING, OUT_OF_SERVICE',
      issues: [{ path: 'status' }],
    });
    const unknown = await app.inject({
      method: 'PUT',
      url: '/api/v1/instances/0000000000000000/status',
      payload: { status: 'UP' },
    });
    expect(unknown.statusCode).toBe(410);
    expect(unknown.json()).toMatchObject({ code: 'WEFT_ERR_UNKNOWN_INSTANCE' });
  });
});

describe('mounting registryRoutes', () => {
  async function mounted(setup: (app: FastifyInstance) => Promise<void>): Promise<FastifyInstance> {
    const app = Fastify();
    closing.push(app);
    await setup(app);
    return app;
  }

  it('serves under any prefix, with links that include it, next to the app’s own routes', async () => {
    const registry = new MemoryRegistry();
    closing.push(registry);
    const app = await mounted(async (a) => {
      a.get('/api/v1/instances', async () => ({ mine: true })); // the app's, outside the prefix
      await a.register(registryRoutes, { prefix: '/mesh/registry', registry, authenticator: createAuthenticator() });
    });
    const base = await listen(app);
    const created = await send(base, '/mesh/registry/api/v1/instances', { body: reviews(1) });
    expect(created.status).toBe(201);
    const { id, links } = json<{ id: string; links: { self: string; heartbeat: string } }>(created);
    expect(links.self).toBe(`${base}/mesh/registry/api/v1/instances/${id}`);
    expect(created.headers.location).toBe(links.self);
    expect((await send(links.heartbeat, '', { method: 'PUT' })).status).toBe(200);
    expect(json(await send(base, '/api/v1/instances'))).toEqual({ mine: true });
    expect(json(await send(base, '/mesh/registry/api/v1/nothing'))).toMatchObject({ Error: 'Resource not found' });
  });

  it('uses the app’s authentication when it has one, and refuses to start without any', async () => {
    const registry = new MemoryRegistry();
    closing.push(registry);
    const app = await mounted(async (a) => {
      authenticate(a, createAuthenticator([{ type: 'trusted' }]));
      await a.register(registryRoutes, { registry });
    });
    expect((await app.inject({ url: '/api/v1/services' })).statusCode).toBe(401);
    const ok = await app.inject({ url: '/api/v1/services', headers: { authorization: 'Bearer team-a' } });
    expect(ok.statusCode).toBe(200);

    const bare = Fastify();
    closing.push(bare);
    await expect(bare.register(registryRoutes, { registry })).rejects.toThrow(/no namespace/);
    const twice = Fastify();
    closing.push(twice);
    authenticate(twice, createAuthenticator());
    await expect(twice.register(registryRoutes, { registry, authenticator: createAuthenticator() })).rejects.toThrow(
      /already authenticates/,
    );
  });

  it('fails closed when the app’s auth hook let a request through without a namespace', async () => {
    const registry = new MemoryRegistry();
    closing.push(registry);
    const app = await mounted(async (a) => {
      authenticate(a, createAuthenticator(), () => true); // skips every request
      await a.register(registryRoutes, { registry });
    });
    const res = await app.inject({ method: 'POST', url: '/api/v1/instances', payload: reviews(1) });
    expect(res.statusCode).toBe(500);
    expect(await registry.instances({ status: 'ALL' })).toEqual([]);
  });

  it('redirects plain HTTP to HTTPS before authenticating, when asked', async () => {
    const registry = new MemoryRegistry();
    closing.push(registry);
    const app = await mounted(async (a) => {
      await a.register(registryRoutes, {
        registry,
        requireHttps: true,
        authenticator: createAuthenticator([{ type: 'trusted' }]),
      });
    });
    const plain = await app.inject({ url: '/api/v1/services?x=1', headers: { host: 'registry.example:8080' } });
    expect(plain.statusCode).toBe(301);
    expect(plain.headers.location).toBe('https://registry.example:8080/api/v1/services?x=1');
    const proxied = await app.inject({ url: '/api/v1/services', headers: { 'x-forwarded-proto': 'https' } });
    expect(proxied.statusCode).toBe(401); // through to authentication
  });
});

describe('durability', () => {
  type Persisting = Registry & { flushes: number; pending: boolean };

  /** A registry whose store persists in the background (slowly): acknowledgements must wait for it. */
  function persisting(inner: Registry, fail = false): Persisting {
    const wrapper: Persisting = {
      flushes: 0,
      pending: false,
      register: async (registration, options) => changed(await inner.register(registration, options)),
      deregister: async (id, options) => changed(await inner.deregister(id, options)),
      setStatus: async (id, status, options) => changed(await inner.setStatus(id, status, options)),
      renew: (id, options) => inner.renew(id, options),
      services: (options) => inner.services(options),
      instances: (query) => inner.instances(query),
      watch: (options, listener) => inner.watch(options, listener),
      close: () => inner.close(),
      flush: async () => {
        wrapper.flushes++;
        await new Promise((r) => setTimeout(r, 20));
        if (fail) throw new Error('EIO: disk on fire');
        wrapper.pending = false;
      },
    };
    const changed = <T>(value: T): T => {
      wrapper.pending = true;
      return value;
    };
    return wrapper;
  }

  it('flushes the store before acknowledging writes, never for heartbeats', async () => {
    const inner = new MemoryRegistry();
    closing.push(inner);
    const registry = persisting(inner);
    const app = await server(registry);
    const created = await app.inject({ method: 'POST', url: '/api/v1/instances', payload: reviews(1) });
    expect(created.statusCode).toBe(201);
    expect(registry).toMatchObject({ flushes: 1, pending: false });
    const { id } = created.json<{ id: string }>();
    await app.inject({ method: 'PUT', url: `/api/v1/instances/${id}/heartbeat` });
    expect(registry.flushes).toBe(1);
    await app.inject({ method: 'PUT', url: `/api/v1/instances/${id}/status`, payload: { status: 'STARTING' } });
    await app.inject({ method: 'DELETE', url: `/api/v1/instances/${id}` });
    expect(registry).toMatchObject({ flushes: 3, pending: false });
  });

  it('answers 500 (retry) when the change cannot be made durable', async () => {
    const inner = new MemoryRegistry();
    closing.push(inner);
    const app = await server(persisting(inner, true));
    const res = await app.inject({ method: 'POST', url: '/api/v1/instances', payload: reviews(1) });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toMatchObject({ Error: 'Internal server error', code: 'WEFT_ERR_INTERNAL' });
    expect(res.json<{ message: string }>().message).toMatch(/could not be made durable/);
  });
});
