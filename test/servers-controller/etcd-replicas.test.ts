import { randomUUID } from 'node:crypto';
import {
  type ControlPlaneServer,
  createControllerServer,
  createControlPlaneServer,
  createRegistryServer,
} from '@weft/servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EtcdServer, http, startEtcd, TcpCutProxy, waitFor } from '../servers/index.js';

// Two (or three) replicas of `weft control-plane` on one etcd, over real HTTP: what HA means.

let server: EtcdServer;
const closers: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  server = await startEtcd();
});
afterAll(async () => {
  for (const close of closers.reverse()) await close();
  await server?.stop();
});

interface Replica {
  readonly app: ControlPlaneServer;
  readonly url: string;
}

/** A replica with both stores on etcd under `prefix`, listening on loopback. */
async function replica(endpoint: string, prefix: string): Promise<Replica> {
  const app = await createControlPlaneServer({
    store: { type: 'etcd', endpoints: [endpoint], prefix, requestTimeoutMs: 1_500 },
    registry: { ttl: { minSeconds: 1, defaultSeconds: 2 } },
    logger: { level: 'silent' },
  });
  closers.push(() => app.close());
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  return { app, url: `http://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}` };
}

const rule = (id: string) => ({ id, destination: 'reviews', route: { backends: [{ tags: ['v1'] }] } });

/** The ids of a list in an answer (rules, instances). */
function ids(list: unknown): string[] {
  return Array.isArray(list) ? list.map((x: { id: string }) => x.id) : [];
}

async function json(url: string, options: Parameters<typeof http>[1] = {}) {
  const res = await http(url, options);
  return { status: res.status, body: res.body === '' ? undefined : (JSON.parse(res.body) as Record<string, unknown>) };
}

describe('control plane replicas on one etcd', () => {
  it('rules written through one replica are served by the others; concurrent writes all land', async () => {
    const prefix = `/weft-ha-${randomUUID()}`;
    const [a, b, c] = await Promise.all([0, 1, 2].map(() => replica(server.endpoint, prefix)));
    const posted = await json(`${a?.url}/v1/rules`, { body: { rules: [rule('first')] } });
    expect(posted.status).toBe(201);
    const read = await json(`${b?.url}/v1/rules`);
    expect(ids(read.body?.rules)).toEqual(['first']);
    // Six writers on three replicas at once: six revisions, six rules, nothing lost.
    const writes = await Promise.all(
      [a, b, c, a, b, c].map((r, i) => json(`${r?.url}/v1/rules`, { body: { rules: [rule(`w${i}`)] } })),
    );
    expect(writes.map((w) => w.status)).toEqual([201, 201, 201, 201, 201, 201]);
    expect(writes.map((w) => w.body?.revision).sort()).toEqual([2, 3, 4, 5, 6, 7]);
    const final = await json(`${c?.url}/v1/rules`);
    expect(final.body?.revision).toBe(7);
    expect(final.body?.rules).toHaveLength(7);
  });

  it('an instance registered through one replica is renewed by heartbeats through another, and expires without them', async () => {
    const prefix = `/weft-ha-${randomUUID()}`;
    const a = await replica(server.endpoint, prefix);
    const b = await replica(server.endpoint, prefix);
    const reg = await json(`${a.url}/api/v1/instances`, {
      body: { service_name: 'reviews', endpoint: { type: 'http', value: '10.0.0.7:9080' }, ttl: 2 },
    });
    expect(reg.status).toBe(201);
    const id = reg.body?.id as string;
    const listed = await json(`${b.url}/api/v1/services/reviews`);
    expect(ids(listed.body?.instances)).toEqual([id]);
    // 4 s of heartbeats through B (twice the TTL): still registered.
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 800));
      expect((await http(`${b.url}/api/v1/instances/${id}/heartbeat`, { method: 'PUT' })).status).toBe(200);
    }
    expect((await json(`${a.url}/api/v1/services/reviews`)).status).toBe(200);
    // No more heartbeats: the lease ends, and every replica sees the instance go.
    await waitFor(async () => (await http(`${a.url}/api/v1/services/reviews`)).status === 404, 8_000, {
      description: 'the instance expires',
    });
  });
});

describe('control plane replica while etcd is unreachable', () => {
  it('serves reads from its last state, refuses writes with 503 naming the store, reports it on /health, and recovers', async () => {
    const proxy = await TcpCutProxy.start({ targetPort: server.clientPort });
    closers.push(() => proxy.close());
    const prefix = `/weft-ha-${randomUUID()}`;
    const r = await replica(proxy.url(), prefix);
    expect((await json(`${r.url}/v1/rules`, { body: { rules: [rule('kept')] } })).status).toBe(201);
    const reg = await json(`${r.url}/api/v1/instances`, {
      body: { service_name: 'ratings', endpoint: { type: 'http', value: '10.0.0.8:9080' }, ttl: 30 },
    });
    expect(reg.status).toBe(201);
    // A reader of the registry: its watch is the state the replica keeps during an outage.
    expect((await json(`${r.url}/api/v1/services/ratings`)).status).toBe(200);
    expect((await json(`${r.url}/health`)).status).toBe(200);

    proxy.refuse(true);
    proxy.cut();
    await waitFor(async () => (await http(`${r.url}/health`)).status === 503, 10_000, {
      description: '/health reports the outage',
    });
    const health = await json(`${r.url}/health`);
    expect(health.body).toMatchObject({ status: 'unavailable' });
    expect(String(health.body?.error)).toContain(`etcd ${proxy.url()} ${prefix}`);

    const rules = await json(`${r.url}/v1/rules`);
    expect(rules.status).toBe(200);
    expect(ids(rules.body?.rules)).toEqual(['kept']);
    const services = await json(`${r.url}/api/v1/services/ratings`);
    expect(services.status).toBe(200);
    expect(services.body?.instances).toHaveLength(1);

    const write = await json(`${r.url}/v1/rules`, { body: { rules: [rule('lost')] } });
    expect(write.status).toBe(503);
    expect(write.body).toMatchObject({ code: 'WEFT_ERR_STORE_UNAVAILABLE', store: `etcd ${proxy.url()} ${prefix}` });
    const register = await json(`${r.url}/api/v1/instances`, {
      body: { service_name: 'details', endpoint: { type: 'http', value: '10.0.0.9:9080' } },
    });
    expect(register.status).toBe(503);
    expect(register.body).toMatchObject({ code: 'WEFT_ERR_STORE_UNAVAILABLE', Error: 'Failed to register instance' });
    expect(String(register.body?.message)).toContain(`etcd ${proxy.url()} ${prefix}`);

    proxy.refuse(false);
    await waitFor(async () => (await http(`${r.url}/health`)).status === 200, 20_000, {
      description: '/health recovers',
    });
    expect((await json(`${r.url}/v1/rules`, { body: { rules: [rule('after')] } })).status).toBe(201);
    const after = await json(`${r.url}/v1/rules`);
    expect(ids(after.body?.rules)).toEqual(['kept', 'after']);
  });
});

describe('weft registry and weft controller alone on etcd', () => {
  it('pass the TTL policy through, and keep prefixes apart', async () => {
    const prefix = `/weft-alone-${randomUUID()}`;
    const registry = await createRegistryServer({
      store: { type: 'etcd', endpoints: [server.endpoint], prefix },
      ttl: { maxSeconds: 20, defaultSeconds: 15 },
    });
    closers.push(() => registry.close());
    await registry.listen({ host: '127.0.0.1', port: 0 });
    const regUrl = `http://127.0.0.1:${(registry.server.address() as { port: number }).port}`;
    const reg = await json(`${regUrl}/api/v1/instances`, {
      body: { service_name: 'details', endpoint: { type: 'http', value: '10.0.0.5:80' }, ttl: 600 },
    });
    expect(reg.status).toBe(201);
    expect(reg.body?.ttl).toBe(20); // lowered to the policy's max, as the lease's TTL

    const controller = await createControllerServer({
      store: { type: 'etcd', endpoints: [server.endpoint], prefix },
    });
    closers.push(() => controller.close());
    await controller.rulesStore.add('default', [rule('alone')]);
    // A control plane on another prefix shares nothing with them.
    const other = await replica(server.endpoint, `${prefix}-other`);
    expect(ids((await json(`${other.url}/v1/rules`)).body?.rules)).toEqual([]);
    expect((await json(`${other.url}/api/v1/services/details`)).status).toBe(404);
    const same = await replica(server.endpoint, prefix);
    expect(ids((await json(`${same.url}/v1/rules`)).body?.rules)).toEqual(['alone']);
    expect((await json(`${same.url}/api/v1/services/details`)).status).toBe(200);
  });
});
