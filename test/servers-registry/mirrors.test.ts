/**
 * Mirrors: other catalogues shown read-only in the registry, against a real Consul agent and real
 * files, through the registry server over real sockets.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createControlPlaneServer,
  createRegistryServer,
  type RegistryServer,
} from '../../packages/servers/src/index.js';
import { type ConsulServer, http, startConsul } from '../servers/index.js';
import { type Answer, json, listen, openEvents, send } from './helpers.js';

interface WireInstance {
  id: string;
  service_name: string;
  endpoint: { type: string; value: string };
  ttl?: number;
  metadata?: Record<string, unknown>;
  tags?: string[];
}

let consul: ConsulServer;
let dir: string;
let catalogue: string;
let app: RegistryServer;
let base: string;

async function consulRegister(body: Record<string, unknown>): Promise<void> {
  const res = await http(`${consul.httpAddr}/v1/agent/service/register`, { method: 'PUT', body });
  if (res.status !== 200) throw new Error(`consul register -> ${res.status} ${res.body}`);
}

async function consulDeregister(id: string): Promise<void> {
  const res = await http(`${consul.httpAddr}/v1/agent/service/deregister/${id}`, { method: 'PUT' });
  if (res.status !== 200) throw new Error(`consul deregister -> ${res.status} ${res.body}`);
}

/** Polls a read until `check` holds (the sources are asynchronous); returns the last answer. */
async function until(path: string, check: (answer: Answer) => boolean, timeoutMs = 10_000): Promise<Answer> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await send(base, path);
    if (check(answer)) return answer;
    if (Date.now() > deadline) throw new Error(`timed out on ${path}; last: ${answer.status} ${answer.body}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const instancesOf = (answer: Answer): WireInstance[] =>
  answer.status === 200 ? json<{ instances: WireInstance[] }>(answer).instances : [];
const sourceOf = (i: WireInstance): unknown => i.metadata?.['weft.source'];

beforeAll(async () => {
  consul = await startConsul();
  dir = await mkdtemp(join(tmpdir(), 'weft-mirrors-'));
  catalogue = join(dir, 'external.yaml');
  await writeFile(catalogue, 'services: []\n');
  app = await createRegistryServer({
    ttl: { minSeconds: 1, defaultSeconds: 30 },
    mirrors: [
      { source: { type: 'consul', address: consul.httpAddr, waitSeconds: 2 } },
      { name: 'external', namespace: 'default', source: { type: 'file', path: catalogue } },
    ],
  });
  base = await listen(app);
}, 120_000);

afterAll(async () => {
  await app?.close();
  await consul?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('a registry mirroring Consul and a file', () => {
  let mirroredId: string;

  it('lists a service registered in Consul and the same service registered natively, each with its source', async () => {
    await consulRegister({ ID: 'details-1', Name: 'details', Address: '127.0.0.1', Port: 9080, Tags: ['version=v1'] });
    const created = await send(base, '/api/v1/instances', {
      body: { service_name: 'details', endpoint: { type: 'http', value: '127.0.0.1:9080' }, tags: ['version=v1'] },
    });
    expect(created.status).toBe(201);
    const nativeId = json<{ id: string }>(created).id;

    const answer = await until('/api/v1/services/details', (a) => instancesOf(a).length === 2);
    const [a, b] = instancesOf(answer);
    const mirrored = sourceOf(a as WireInstance) === 'consul' ? (a as WireInstance) : (b as WireInstance);
    const native = mirrored === a ? (b as WireInstance) : (a as WireInstance);
    mirroredId = mirrored.id;
    expect(native.id).toBe(nativeId);
    expect(mirrored.id).not.toBe(nativeId);
    // The native instance is what Amalgam8 answered, field for field: no metadata, a TTL.
    expect(Object.keys(native)).toEqual(['id', 'service_name', 'endpoint', 'ttl', 'status', 'last_heartbeat', 'tags']);
    expect(native.ttl).toBe(30);
    // The mirrored one: no TTL (it never expires), marked with its source in metadata.
    expect(mirrored).toMatchObject({
      service_name: 'details',
      endpoint: { type: 'http', value: '127.0.0.1:9080' },
      tags: ['version=v1'],
      metadata: { 'weft.source': 'consul', 'weft.mirror': 'consul:default', 'weft.source_id': 'details-1' },
    });
    expect(mirrored.ttl).toBeUndefined();
    expect(json<{ services: string[] }>(await send(base, '/api/v1/services')).services).toContain('details');
    // Filters apply to mirrored instances as to native ones.
    const byTag = instancesOf(await send(base, '/api/v1/instances?service_name=details&tags=version=v1'));
    expect(byTag.map(sourceOf).sort()).toEqual(['consul', undefined]);
  });

  it('refuses heartbeats, deregistration and status changes of a mirrored instance, naming the mirror', async () => {
    for (const [method, path, body] of [
      ['PUT', `/api/v1/instances/${mirroredId}/heartbeat`, undefined],
      ['DELETE', `/api/v1/instances/${mirroredId}`, undefined],
      ['PUT', `/api/v1/instances/${mirroredId}/status`, { status: 'OUT_OF_SERVICE' }],
    ] as const) {
      const answer = await send(base, path, { method, ...(body === undefined ? {} : { body }) });
      expect(answer.status, `${method} ${path}`).toBe(403);
      const error = json<{ Error: string; code: string; message: string }>(answer);
      expect(error.code).toBe('WEFT_ERR_MIRRORED_INSTANCE');
      expect(error.message).toContain('mirror "consul:default"');
      expect(error.message).toContain('consul');
    }
    expect(instancesOf(await send(base, '/api/v1/services/details')).map(sourceOf)).toContain('consul');
  });

  it('keeps a mirrored instance past any TTL while a native one expires', async () => {
    await consulRegister({ ID: 'ttl-1', Name: 'ttl-check', Address: '127.0.0.1', Port: 7001 });
    const created = await send(base, '/api/v1/instances', {
      body: { service_name: 'ttl-check', endpoint: { type: 'http', value: '127.0.0.1:7002' }, ttl: 1 },
    });
    expect(created.status).toBe(201);
    await until('/api/v1/services/ttl-check', (a) => instancesOf(a).length === 2);
    // No heartbeats: the native instance goes after its 1 s TTL, the mirrored one stays.
    const after = await until('/api/v1/services/ttl-check', (a) => instancesOf(a).length === 1, 8_000);
    expect(instancesOf(after).map(sourceOf)).toEqual(['consul']);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(instancesOf(await send(base, '/api/v1/services/ttl-check')).map(sourceOf)).toEqual(['consul']);
  });

  it('removes an instance deregistered in Consul, and a watcher sees it go', async () => {
    const events = await openEvents(base, '/api/v1/services/details');
    try {
      const first = await events.next();
      const firstInstances = (JSON.parse(first.data) as { instances: WireInstance[] }).instances;
      expect(firstInstances.map(sourceOf).sort()).toEqual(['consul', undefined]);
      await consulDeregister('details-1');
      let event = await events.next(10_000);
      let instances = (JSON.parse(event.data) as { instances: WireInstance[] }).instances;
      while (instances.some((i) => sourceOf(i) === 'consul')) {
        event = await events.next(10_000);
        instances = (JSON.parse(event.data) as { instances: WireInstance[] }).instances;
      }
      expect(instances.map(sourceOf)).toEqual([undefined]);
      expect(Number(event.id)).toBeGreaterThan(Number(first.id));
    } finally {
      events.close();
    }
    expect(instancesOf(await send(base, '/api/v1/services/details')).map(sourceOf)).toEqual([undefined]);
    const gone = await send(base, `/api/v1/instances/${mirroredId}/heartbeat`, { method: 'PUT' });
    expect(gone.status).toBe(410);
  });

  it('wakes a long-poll for a mirror change, with a higher revision', async () => {
    const first = await send(base, '/api/v1/services/longpoll');
    const revision = Number(first.headers['x-weft-index']);
    const waiting = send(base, `/api/v1/services/longpoll?index=${revision}&wait=10s`, { timeoutMs: 15_000 });
    await new Promise((r) => setTimeout(r, 100));
    await consulRegister({ ID: 'lp-1', Name: 'longpoll', Address: '127.0.0.1', Port: 7100 });
    const woken = await waiting;
    expect(woken.status).toBe(200);
    expect(Number(woken.headers['x-weft-index'])).toBeGreaterThan(revision);
    expect(instancesOf(woken).map(sourceOf)).toEqual(['consul']);
  });

  it('adds and removes the services of the file as it changes', async () => {
    await writeFile(
      catalogue,
      'services:\n  - name: payments\n    type: https\n    endpoints: ["10.1.0.5:443", "10.1.0.6:443"]\n    tags: [version=v1]\n',
    );
    const added = await until('/api/v1/services/payments', (a) => instancesOf(a).length === 2);
    expect(
      instancesOf(added).map((i) => [i.endpoint.type, i.endpoint.value, sourceOf(i), i.metadata?.['weft.mirror']]),
    ).toEqual(
      expect.arrayContaining([
        ['https', '10.1.0.5:443', 'file', 'external'],
        ['https', '10.1.0.6:443', 'file', 'external'],
      ]),
    );
    await writeFile(catalogue, 'services:\n  - name: payments\n    type: https\n    endpoints: ["10.1.0.6:443"]\n');
    const shrunk = await until('/api/v1/services/payments', (a) => instancesOf(a).length === 1);
    expect(instancesOf(shrunk)[0]?.endpoint.value).toBe('10.1.0.6:443');
    await writeFile(catalogue, 'services: []\n');
    await until('/api/v1/services/payments', (a) => a.status === 404);
  });

  it('reports the mirrors in /health and GET /api/v1/mirrors, and keeps the last state while Consul is down', async () => {
    const healthy = json<{ status: string; mirrors: { name: string; state: string }[] }>(await send(base, '/health'));
    expect(healthy).toEqual({
      status: 'ok',
      mirrors: [
        { name: 'consul:default', source: 'consul', state: 'ok', stale_since: null },
        { name: 'external', source: 'file', state: 'ok', stale_since: null },
      ],
    });
    const listed = json<{ mirrors: Record<string, unknown>[] }>(await send(base, '/api/v1/mirrors')).mirrors;
    expect(listed.map((m) => [m.name, m.namespace, m.source, m.state])).toEqual([
      ['consul:default', 'default', 'consul', 'ok'],
      ['external', 'default', 'file', 'ok'],
    ]);
    expect((await send(base, '/api/v1/mirrors', { method: 'POST', body: {} })).status).toBe(405);

    await consul.kill();
    const degraded = await until('/health', (a) => json<{ status: string }>(a).status === 'degraded');
    expect(degraded.status).toBe(200);
    const consulMirror = json<{ mirrors: Record<string, unknown>[] }>(await send(base, '/api/v1/mirrors')).mirrors[0];
    expect(consulMirror).toMatchObject({ name: 'consul:default', state: 'stale', error: expect.any(String) });
    expect(consulMirror?.stale_since).toEqual(expect.any(String));
    // The last state stays: the instances Consul had are still served.
    expect(instancesOf(await send(base, '/api/v1/services/ttl-check')).map(sourceOf)).toEqual(['consul']);
  });
});

describe('the control plane', () => {
  it('mirrors too, and its /health reports the mirrors next to both stores', async () => {
    const file = join(dir, 'cp.yaml');
    await writeFile(file, 'services:\n  - name: legacy\n    endpoints: ["10.2.0.1:80"]\n');
    const cp = await createControlPlaneServer({
      registry: { mirrors: [{ namespace: 'default', source: { type: 'file', path: file } }] },
    });
    try {
      const url = await listen(cp);
      const deadline = Date.now() + 5_000;
      let services: string[] = [];
      while (!services.includes('legacy') && Date.now() < deadline) {
        services = json<{ services: string[] }>(await send(url, '/api/v1/services')).services;
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(services).toEqual(['legacy']);
      expect(json(await send(url, '/health'))).toEqual({
        status: 'ok',
        mirrors: [{ name: 'file:default', source: 'file', state: 'ok', stale_since: null }],
      });
      await rm(file);
      // A file that went away: the mirror is stale, its last state kept, the control plane still 200.
      let degraded = await send(url, '/health');
      while (json<{ status: string }>(degraded).status !== 'degraded' && Date.now() < deadline + 5_000) {
        await new Promise((r) => setTimeout(r, 20));
        degraded = await send(url, '/health');
      }
      expect(degraded.status).toBe(200);
      expect(json(degraded)).toMatchObject({ status: 'degraded', mirrors: [{ state: 'stale' }] });
      expect(json<{ services: string[] }>(await send(url, '/api/v1/services')).services).toEqual(['legacy']);
    } finally {
      await cp.close();
    }
  });
});

describe('mirror options', () => {
  it('refuses a bad mirror, naming the field', async () => {
    const err = await createRegistryServer({
      mirrors: [{ source: { type: 'zookeeper' } } as never],
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as { code?: string }).code).toBe('WEFT_ERR_INVALID_ARGUMENT');
    expect((err as { issues: unknown[] }).issues).toEqual([
      { path: 'mirrors[0].source.type', message: 'must be one of consul, etcd, kubernetes, weave, file' },
    ]);
  });
});
