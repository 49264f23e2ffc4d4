/**
 * Push over real sockets: Server-Sent Events and long-polls of the controller's reads, a proxy
 * reconnecting after an outage, tenants on push, and graceful close with open streams.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createControllerServer, MemoryRulesStore } from '../../packages/servers/src/index.js';
import { openSse, type SseStream } from './sse-client.js';

const jason = {
  id: 'jason',
  priority: 2,
  destination: 'reviews',
  match: { headers: { Cookie: '^(.*?;)?(user=jason)(;.*)?$' } },
  route: { backends: [{ tags: ['version=v2'] }] },
};
const v1 = { id: 'default', priority: 1, destination: 'reviews', route: { backends: [{ tags: ['version=v1'] }] } };

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function start(options: Parameters<typeof createControllerServer>[0] = {}) {
  const store = options.rulesStore ?? new MemoryRulesStore();
  const app = await createControllerServer({ ...options, rulesStore: store });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  cleanup.push(() => app.close());
  const send = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const init: RequestInit =
      body === undefined
        ? { method, headers }
        : { method, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
    const res = await fetch(`${address}${path}`, init);
    return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
  };
  const sse = async (path: string, headers: Record<string, string> = {}): Promise<SseStream> => {
    const stream = await openSse(`${address}${path}`, headers);
    cleanup.push(() => stream.close());
    return stream;
  };
  return { app, store, address, send, sse };
}

async function until(check: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('controller push over real sockets', () => {
  it('SSE: the current rules at once, then every change, each event id = revision', async () => {
    const { send, sse } = await start();
    await send('POST', '/v1/rules', { rules: [v1] });
    const stream = await sse('/v1/rules');
    expect(stream.status).toBe(200);
    const first = await stream.next();
    expect(first).toMatchObject({ id: '1', event: 'snapshot' });
    expect(JSON.parse(first.data)).toEqual({ rules: [v1], revision: 1 });
    await send('POST', '/v1/rules', { rules: [jason] });
    const second = await stream.next();
    expect(second.id).toBe('2');
    expect(JSON.parse(second.data)).toEqual({ rules: [v1, jason], revision: 2 });
  });

  it('streams of different reads each get their own body for the same change', async () => {
    const { send, sse } = await start();
    const all = await sse('/v1/rules');
    const reviews = await sse('/v1/rules?destination=reviews');
    const reviewsToo = await sse('/v1/rules?destination=reviews');
    const ratings = await sse('/v1/rules?destination=ratings');
    const actions = await sse('/v1/rules/actions');
    for (const s of [all, reviews, reviewsToo, ratings, actions]) await s.next();
    const delay = { id: 'delay', destination: 'ratings', actions: [{ action: 'delay', duration: 1 }] };
    await send('POST', '/v1/rules', { rules: [v1, delay] });
    const bodies = await Promise.all(
      [all, reviews, reviewsToo, ratings, actions].map(async (s) => JSON.parse((await s.next()).data)),
    );
    expect(bodies).toEqual([
      { rules: [v1, delay], revision: 1 },
      { rules: [v1], revision: 1 },
      { rules: [v1], revision: 1 },
      { rules: [delay], revision: 1 },
      { services: { ratings: [delay] }, revision: 1 },
    ]);
  });

  it('a proxy reconnecting after an outage with Last-Event-ID converges to the newest revision, never an older one', async () => {
    const { send, sse, store } = await start();
    await send('POST', '/v1/rules', { rules: [v1] });
    const before = await sse('/v1/rules/routes');
    const seen = await before.next();
    expect(seen.id).toBe('1');
    before.close();
    await until(() => (store as MemoryRulesStore).watchCount() === 0);

    // Two changes while the proxy is away.
    await send('POST', '/v1/rules', { rules: [jason] });
    await send('PUT', '/v1/rules', { rules: [{ ...jason, priority: 3 }] });

    const after = await sse('/v1/rules/routes', { 'last-event-id': seen.id as string });
    const caughtUp = await after.next();
    expect(caughtUp.id).toBe('3');
    expect(JSON.parse(caughtUp.data)).toEqual({ services: { reviews: [v1, { ...jason, priority: 3 }] }, revision: 3 });
    // Nothing older follows, and the next change comes as 4.
    await send('DELETE', '/v1/rules?id=jason');
    const next = await after.next();
    expect(next.id).toBe('4');
    expect(after.events.map((e) => Number(e.id))).toEqual([3, 4]);
  });

  it('SSE reconnecting with the current revision waits for the next change instead of repeating it', async () => {
    const { send, sse } = await start();
    await send('POST', '/v1/rules', { rules: [v1] });
    const stream = await sse('/v1/rules', { 'last-event-id': '1' });
    await new Promise((r) => setTimeout(r, 150));
    expect(stream.events).toEqual([]);
    await send('POST', '/v1/rules', { rules: [jason] });
    expect((await stream.next()).id).toBe('2');
  });

  it('a Last-Event-ID from before a restart (above the current revision) gets the current rules at once', async () => {
    const { send, sse } = await start();
    await send('POST', '/v1/rules', { rules: [v1] });
    const stream = await sse('/v1/rules', { 'last-event-id': '57' });
    const event = await stream.next(1000);
    expect(event.id).toBe('1');
    expect(JSON.parse(event.data)).toEqual({ rules: [v1], revision: 1 });
  });

  it('long-poll: an old index returns at once with the newest rules; the current one waits for the change', async () => {
    const { address, send } = await start();
    await send('POST', '/v1/rules', { rules: [v1] });
    await send('POST', '/v1/rules', { rules: [jason] });

    const t0 = performance.now();
    const old = await fetch(`${address}/v1/rules?index=1&wait=10s`);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(old.headers.get('x-weft-index')).toBe('2');
    expect(await old.json()).toEqual({ rules: [v1, jason], revision: 2 });

    const t1 = performance.now();
    const pending = fetch(`${address}/v1/rules/routes/reviews?index=2&wait=10s`);
    await new Promise((r) => setTimeout(r, 200));
    await send('DELETE', '/v1/rules?id=jason');
    const answered = await pending;
    const waited = performance.now() - t1;
    expect(waited).toBeGreaterThanOrEqual(150);
    expect(waited).toBeLessThan(2000);
    expect(answered.headers.get('x-weft-index')).toBe('3');
    expect(await answered.json()).toEqual({ rules: [v1], revision: 3 });
  });

  it('long-poll: a wait that ends without change answers the current state; an index from before a restart answers at once', async () => {
    const { address, send } = await start();
    await send('POST', '/v1/rules', { rules: [v1] });
    const t0 = performance.now();
    const timedOut = await fetch(`${address}/v1/rules?index=1&wait=300ms`);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(250);
    expect(await timedOut.json()).toEqual({ rules: [v1], revision: 1 });
    const t1 = performance.now();
    const ahead = await fetch(`${address}/v1/rules?index=99&wait=10s`);
    expect(performance.now() - t1).toBeLessThan(1000);
    expect(ahead.headers.get('x-weft-index')).toBe('1');
  });

  it('plain GETs stay available for polling proxies', async () => {
    const { address, send } = await start();
    await send('POST', '/v1/rules', { rules: [v1] });
    const res = await fetch(`${address}/v1/rules`);
    expect(res.headers.get('x-weft-index')).toBe('1');
    expect(await res.json()).toEqual({ rules: [v1], revision: 1 });
  });

  it('explain is watchable too: a new event when a rule change alters the decision', async () => {
    const { send, sse } = await start();
    await send('POST', '/v1/rules', { rules: [v1] });
    const stream = await sse('/v1/rules/explain?destination=reviews&header=Cookie:%20user%3Djason');
    expect(JSON.parse((await stream.next()).data)).toMatchObject({ decision: { backend: { tags: ['version=v1'] } } });
    await send('POST', '/v1/rules', { rules: [jason] });
    expect(JSON.parse((await stream.next()).data)).toMatchObject({ decision: { backend: { tags: ['version=v2'] } } });
  });

  it("tenants on push: B's stream hears nothing of A's changes", async () => {
    const { send, sse } = await start({ auth: [{ type: 'trusted' }] });
    const a = { authorization: 'Bearer tenant-a' };
    const b = { authorization: 'Bearer tenant-b' };
    const streamB = await sse('/v1/rules', b);
    const streamA = await sse('/v1/rules', a);
    expect((await streamB.next()).id).toBe('0');
    expect((await streamA.next()).id).toBe('0');
    await send('POST', '/v1/rules', { rules: [v1] }, a);
    expect((await streamA.next()).id).toBe('1');
    await new Promise((r) => setTimeout(r, 150));
    expect(streamB.events).toHaveLength(1);
    expect(JSON.parse(streamB.events[0]?.data ?? '')).toEqual({ rules: [], revision: 0 });
    const unauthenticated = await openSse(`${(await start({ auth: [{ type: 'trusted' }] })).address}/v1/rules`);
    expect(unauthenticated.status).toBe(401);
    unauthenticated.close();
  });

  it('closed connections release their watches', async () => {
    const { address, store, sse } = await start();
    const streams = await Promise.all([sse('/v1/rules'), sse('/v1/rules/routes'), sse('/v1/rules/actions/x')]);
    const poll = new AbortController();
    const pending = fetch(`${address}/v1/rules?index=0&wait=30s`, { signal: poll.signal }).catch(() => undefined);
    await until(() => (store as MemoryRulesStore).watchCount() === 4);
    for (const s of streams) s.close();
    poll.abort();
    await pending;
    await until(() => (store as MemoryRulesStore).watchCount() === 0);
  });

  it('close() ends open streams and long-polls promptly and leaves an injected store open', async () => {
    const store = new MemoryRulesStore();
    cleanup.push(() => store.close());
    const app = await createControllerServer({ rulesStore: store });
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    const stream = await openSse(`${address}/v1/rules`);
    await stream.next();
    const poll = fetch(`${address}/v1/rules?index=0&wait=60s`);
    await until(() => store.watchCount() === 2);
    const t0 = performance.now();
    await app.close();
    expect(performance.now() - t0).toBeLessThan(2000);
    await stream.ended;
    expect((await poll).status).toBe(200);
    expect(store.watchCount()).toBe(0);
    await store.check();
  });
});
