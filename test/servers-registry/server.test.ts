/** createRegistryServer: options, /health, extension before listen, the registry it owns or borrows, logging, restarts. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { isWeftError, MemoryRegistry } from '@weft/core';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRegistryServer, type RegistryServerOptions } from '../../packages/servers/src/index.js';
import { json, listen, send } from './helpers.js';

const open: { close(): Promise<unknown> }[] = [];
afterEach(async () => {
  for (const c of open.splice(0).reverse()) await c.close();
});
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'weft-registry-server-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const body = { service_name: 'reviews', endpoint: { type: 'http', value: '10.0.0.1:9080' } };

describe('createRegistryServer', () => {
  it('serves /health without credentials and the API only with them', async () => {
    const app = await createRegistryServer({ auth: [{ type: 'trusted' }] });
    open.push(app);
    const base = await listen(app);
    expect(json(await send(base, '/health'))).toEqual({ status: 'ok' });
    const refused = await send(base, '/api/v1/services');
    expect(refused.status).toBe(401);
    expect(refused.headers['www-authenticate']).toBe('Bearer');
    // Refused before the handler: nothing registered in any namespace.
    expect((await send(base, '/api/v1/instances', { body })).status).toBe(401);
    expect((await send(base, '/api/v1/instances', { body, headers: { authorization: 'Basic eDp5' } })).status).toBe(
      401,
    );
    expect(await app.registry.instances({ namespace: 'default', status: 'ALL' })).toEqual([]);
    const ok = await send(base, '/api/v1/services', { headers: { authorization: 'Bearer team-a' } });
    expect(json(ok)).toEqual({ services: [] });
  });

  it('can be extended before listen: a platform’s own hook in front, its own routes beside', async () => {
    const app = await createRegistryServer();
    open.push(app);
    app.addHook('onRequest', async (request, reply) => {
      if (request.url.startsWith('/api/') && request.headers['x-platform-pass'] !== 'yes')
        await reply.code(403).send({ error: 'platform says no' });
    });
    app.get('/platform/info', async (request) => ({
      namespace: request.namespace,
      services: await app.registry.services(),
    }));
    const base = await listen(app);
    expect((await send(base, '/api/v1/instances', { body })).status).toBe(403);
    expect((await send(base, '/api/v1/instances', { body, headers: { 'x-platform-pass': 'yes' } })).status).toBe(201);
    expect(json(await send(base, '/platform/info'))).toEqual({ namespace: 'default', services: ['reviews'] });
  });

  it('applies the store options: TTL policy, capacity, prefix', async () => {
    const app = await createRegistryServer({
      ttl: { defaultSeconds: 45, maxSeconds: 60 },
      capacity: 1,
      prefix: '/registry',
    });
    open.push(app);
    const first = await app.inject({ method: 'POST', url: '/registry/api/v1/instances', payload: body });
    expect(first.json()).toMatchObject({ ttl: 45 });
    const second = await app.inject({
      method: 'POST',
      url: '/registry/api/v1/instances',
      payload: { ...body, endpoint: { type: 'http', value: '10.0.0.2:1' }, ttl: 3600 },
    });
    expect(second.statusCode).toBe(403);
    expect((await app.inject({ url: '/api/v1/services' })).statusCode).toBe(404);
  });

  it('names every bad option', async () => {
    const options = {
      store: { type: 'file' },
      capacity: -1,
      prefix: 'registry/',
      watch: { heartbeatMs: 0 },
      colour: 'blue',
    } as unknown as RegistryServerOptions;
    const err = await createRegistryServer(options).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isWeftError(err, 'WEFT_ERR_INVALID_ARGUMENT')).toBe(true);
    for (const field of ['store.path', 'capacity', 'prefix', 'watch.heartbeatMs', 'colour'])
      expect((err as Error).message).toContain(field);
    const borrowed = new MemoryRegistry();
    await expect(createRegistryServer({ registry: borrowed, capacity: 3 })).rejects.toThrow(/capacity/);
    await borrowed.close();
  });

  it('closes the registry it created, not one it was given; a closed store answers 503', async () => {
    const owned = await createRegistryServer();
    await owned.inject({ method: 'POST', url: '/api/v1/instances', payload: body });
    await owned.close();
    await expect(owned.registry.services()).rejects.toSatisfy((e: unknown) => isWeftError(e, 'WEFT_ERR_CLOSED'));

    const given = new MemoryRegistry();
    const borrowing = await createRegistryServer({ registry: given });
    await borrowing.inject({ method: 'POST', url: '/api/v1/instances', payload: body });
    await borrowing.close();
    expect(await given.services()).toEqual(['reviews']);

    const again = await createRegistryServer({ registry: given });
    open.push(again);
    await given.close();
    const read = await again.inject({ url: '/api/v1/instances' });
    expect(read.statusCode).toBe(503);
    expect(read.json()).toMatchObject({ Error: 'Failed to enumerate instances', code: 'WEFT_ERR_CLOSED' });
    expect((await again.inject({ method: 'POST', url: '/api/v1/instances', payload: body })).statusCode).toBe(503);
    expect((await again.inject({ url: '/health' })).statusCode).toBe(503);
  });

  it('logs through the pino logger it is given (failures with their cause)', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    });
    const registry = new MemoryRegistry();
    open.push(registry);
    const broken = Object.assign(Object.create(registry) as MemoryRegistry, {
      renew: async () => {
        throw new Error('store unreachable');
      },
    });
    const app = await createRegistryServer({ registry: broken, loggerInstance: pino({ level: 'info' }, sink) });
    open.push(app);
    const res = await app.inject({ method: 'PUT', url: '/api/v1/instances/0123456789abcdef/heartbeat' });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toMatchObject({ Error: 'Internal server error', code: 'WEFT_ERR_INTERNAL' });
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 50, err: expect.objectContaining({ message: 'store unreachable' }) }),
    );
    // Requests themselves are not logged by default (heartbeats would flood the log).
    expect(lines.filter((l) => l.msg === 'incoming request')).toEqual([]);
  });

  it('restores a file store after a restart, TTLs re-armed', async () => {
    const path = join(dir, 'restart.json');
    const first = await createRegistryServer({ store: { type: 'file', path } });
    const { id } = (await first.inject({ method: 'POST', url: '/api/v1/instances', payload: body })).json<{
      id: string;
    }>();
    await first.close();
    const second = await createRegistryServer({ store: { type: 'file', path } });
    open.push(second);
    expect((await second.inject({ method: 'PUT', url: `/api/v1/instances/${id}/heartbeat` })).statusCode).toBe(200);
  });
});
