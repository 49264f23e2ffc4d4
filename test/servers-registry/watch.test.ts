/** Every registry read is watchable: long-poll (`?index=N&wait=`) and Server-Sent Events, over real sockets. */
import { MemoryRegistry } from '@weft/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createRegistryServer, type RegistryServer } from '../../packages/servers/src/index.js';
import { json, listen, openEvents, send } from './helpers.js';

const open: { close(): Promise<unknown> }[] = [];
afterEach(async () => {
  for (const c of open.splice(0).reverse()) await c.close();
});

async function started(options: Parameters<typeof createRegistryServer>[0] = {}): Promise<{
  app: RegistryServer;
  base: string;
}> {
  const app = await createRegistryServer(options);
  open.push(app);
  return { app, base: await listen(app) };
}

const reviews = (port: number, more: Record<string, unknown> = {}) => ({
  service_name: 'reviews',
  endpoint: { type: 'http', value: `10.0.0.1:${port}` },
  ...more,
});
const index = (headers: Record<string, unknown>): number => Number(headers['x-weft-index']);

describe('long-poll', () => {
  it('answers at once with the revision, then holds `?index=` until the next change', async () => {
    const { base } = await started();
    const first = await send(base, '/api/v1/services');
    expect(json(first)).toEqual({ services: [] });
    const rev = index(first.headers);
    expect(Number.isInteger(rev)).toBe(true);

    const started_ = Date.now();
    const waiting = send(base, `/api/v1/services?index=${rev}&wait=10s`);
    await new Promise((r) => setTimeout(r, 150));
    expect((await send(base, '/api/v1/instances', { body: reviews(1) })).status).toBe(201);
    const woken = await waiting;
    expect(Date.now() - started_).toBeLessThan(5000);
    expect(json(woken)).toEqual({ services: ['reviews'] });
    expect(index(woken.headers)).toBeGreaterThan(rev);
  });

  it('answers the same revision when the wait ends without a change (heartbeats are not changes)', async () => {
    const { base } = await started();
    const { id } = json<{ id: string }>(await send(base, '/api/v1/instances', { body: reviews(1) }));
    const now = await send(base, '/api/v1/instances');
    const heartbeat = setTimeout(() => void send(base, `/api/v1/instances/${id}/heartbeat`, { method: 'PUT' }), 100);
    const waited = await send(base, `/api/v1/instances?index=${index(now.headers)}&wait=400ms`);
    clearTimeout(heartbeat);
    expect(waited.status).toBe(200);
    expect(index(waited.headers)).toBe(index(now.headers));
  });

  it('filters and projects what it answers, as the plain read does', async () => {
    const { base } = await started();
    const before = await send(base, '/api/v1/instances?tags=v2&fields=tags');
    const waiting = send(base, `/api/v1/instances?tags=v2&fields=tags&index=${index(before.headers)}&wait=5s`);
    await send(base, '/api/v1/instances', { body: reviews(1, { tags: ['v1'] }) });
    await send(base, '/api/v1/instances', { body: reviews(2, { tags: ['v2'], status: 'STARTING' }) });
    const body = json<{ instances: Record<string, unknown>[] }>(await waiting);
    // Woken by the first registration (a v1 instance: filtered out) or by both.
    for (const i of body.instances) expect(Object.keys(i)).toEqual(['id', 'endpoint', 'tags']);
    expect(json(await send(base, '/api/v1/instances?tags=v2&fields=tags'))).toMatchObject({
      instances: [{ tags: ['v2'], endpoint: { value: '10.0.0.1:2' } }],
    });
  });

  it('waits for an unknown service to appear: 404 first, then its instances', async () => {
    const { base } = await started();
    const missing = await send(base, '/api/v1/services/ratings');
    expect(missing.status).toBe(404);
    const waiting = send(base, `/api/v1/services/ratings?index=${index(missing.headers)}&wait=5s`);
    await new Promise((r) => setTimeout(r, 100));
    await send(base, '/api/v1/instances', {
      body: { service_name: 'ratings', endpoint: { type: 'tcp', value: 'h:9' } },
    });
    const found = await waiting;
    expect(found.status).toBe(200);
    expect(json(found)).toMatchObject({ service_name: 'ratings', instances: [{ endpoint: { value: 'h:9' } }] });
  });

  it('frees its store watch when the client leaves', async () => {
    const registry = new MemoryRegistry();
    open.push(registry);
    const { base } = await started({ registry, watchLingerMs: 0 });
    const first = await send(base, '/api/v1/services');
    const leaving = send(base, `/api/v1/services?index=${index(first.headers)}&wait=60s`, { timeoutMs: 200 });
    await new Promise((r) => setTimeout(r, 100));
    expect(registry.stats().watchers).toBe(1);
    await expect(leaving).rejects.toThrow(/timed out/);
    await new Promise((r) => setTimeout(r, 200));
    expect(registry.stats().watchers).toBe(0);
  });

  it('names a malformed index or wait', async () => {
    const { base } = await started();
    const bad = await send(base, '/api/v1/services?index=abc');
    expect(bad.status).toBe(400);
    expect(json(bad)).toMatchObject({ issues: [{ path: 'index' }] });
  });
});

describe('Server-Sent Events', () => {
  it('sends the state, then one event per change, with the revision as id; Last-Event-ID resumes', async () => {
    const { base } = await started();
    const stream = await openEvents(base, '/api/v1/services/reviews');
    open.push({ close: async () => stream.close() });
    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    const first = await stream.next();
    // In a stream an unknown service is simply empty: there is no status line left to say 404.
    expect(JSON.parse(first.data)).toEqual({ service_name: 'reviews', instances: [] });
    await send(base, '/api/v1/instances', { body: reviews(1) });
    const second = await stream.next();
    expect(second.event).toBe('snapshot');
    expect(Number(second.id)).toBeGreaterThan(Number(first.id));
    expect(JSON.parse(second.data)).toMatchObject({ instances: [{ endpoint: { value: '10.0.0.1:1' } }] });
    stream.close();

    // Reconnecting with the last id: nothing until the next change…
    const resumed = await openEvents(base, '/api/v1/services/reviews', { 'last-event-id': String(second.id) });
    open.push({ close: async () => resumed.close() });
    await expect(resumed.next(300)).rejects.toThrow(/no event/);
    await send(base, '/api/v1/instances', { body: reviews(2) });
    expect(JSON.parse((await resumed.next()).data).instances).toHaveLength(2);
    resumed.close();
    // …and an old id gets the current state at once.
    const behind = await openEvents(base, '/api/v1/services/reviews', { 'last-event-id': String(first.id) });
    open.push({ close: async () => behind.close() });
    expect(JSON.parse((await behind.next()).data).instances).toHaveLength(2);
  });

  it('ends the streams and answers the long-polls when the server closes', async () => {
    const { app, base } = await started();
    const stream = await openEvents(base, '/api/v1/instances');
    await stream.next();
    const first = await send(base, '/api/v1/services');
    const polling = send(base, `/api/v1/services?index=${index(first.headers)}&wait=60s`);
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    await app.close();
    await stream.ended;
    expect((await polling).status).toBe(200);
    expect(Date.now() - t0).toBeLessThan(3000);
  });
});

describe('shared store watches', () => {
  it('serves many readers of a scope from one registry watch, released after the linger', async () => {
    const registry = new MemoryRegistry();
    open.push(registry);
    const { base } = await started({ registry, watchLingerMs: 200 });
    for (let i = 0; i < 5; i++) await send(base, '/api/v1/instances');
    const streams = await Promise.all([1, 2, 3].map(() => openEvents(base, '/api/v1/instances')));
    for (const s of streams) await s.next();
    expect(registry.stats().watchers).toBe(1);
    await send(base, '/api/v1/services/reviews'); // another scope: another watch
    expect(registry.stats().watchers).toBe(2);
    for (const s of streams) s.close();
    await new Promise((r) => setTimeout(r, 500));
    expect(registry.stats().watchers).toBe(0);
  });
});
