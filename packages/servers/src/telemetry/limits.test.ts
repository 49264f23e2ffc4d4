import { AccessLogStream } from '@weft/adapters/weft';
import { MemoryRegistry } from '@weft/core';
import { afterEach, describe, expect, it } from 'vitest';
import { type ControlPlaneServerOptions, createControlPlaneServer } from '../control-plane.js';
import { type ControllerServerOptions, createControllerServer } from '../controller/index.js';
import { RegisteredVersions } from './registered-versions.js';

const apps: { close(): Promise<unknown> }[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

async function controlPlane(options: ControlPlaneServerOptions = {}) {
  const app = await createControlPlaneServer(options);
  apps.push(app);
  return { app, url: await app.listen({ host: '127.0.0.1', port: 0 }) };
}

async function controller(options: ControllerServerOptions = {}) {
  const app = await createControllerServer(options);
  apps.push(app);
  return { app, url: await app.listen({ host: '127.0.0.1', port: 0 }) };
}

let n = 0;
const record = (src: string, dst: string) => ({
  src,
  dst,
  status: 200,
  request_time: 0.002,
  timestamp_in_ms: Date.now(),
  request_id: `limits-${++n}`,
  upstream_host: '127.0.0.1:9080',
});

async function post(url: string, body: unknown) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function getJson<T>(url: string): Promise<{ status: number; body: T }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as T };
}

interface Topology {
  nodes: { service: string; versions: string[]; instances: number; registered?: number }[];
  edges: { source: { service: string }; destination: { service: string; version?: string } }[];
  window: number;
}

const report = (runId: string) => ({ runId, passed: true, checks: [] });

describe('telemetry limits (TelemetrySettings)', () => {
  it('apply to the ring, the batch, the recipe runs, the topology windows and the rules history', async () => {
    const { url } = await controller({
      telemetry: {
        recordsPerNamespace: 3,
        maxBatchRecords: 500,
        runsPerNamespace: 2,
        topologyWindowS: 30,
        topologyMaxWindowS: 120,
        rulesHistory: 2,
      },
    });
    const accepted = await post(`${url}/v1/telemetry/access-log`, {
      records: ['a', 'b', 'c', 'd', 'e'].map((s) => record(`${s}:`, 'z:')),
    });
    expect(accepted).toEqual({ status: 202, body: { accepted: 5, index: 5 } });
    const held = await getJson<{ records: { src: string }[]; capacity: number; evicted: number }>(
      `${url}/v1/telemetry/access-log`,
    );
    expect(held.body.records.map((r) => r.src)).toEqual(['c:', 'd:', 'e:']);
    expect(held.body).toMatchObject({ capacity: 3, evicted: 2 });

    const tooMany = await post(`${url}/v1/telemetry/access-log`, {
      records: Array.from({ length: 501 }, () => record('a:', 'b:')),
    });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.issues).toEqual([
      { path: 'records', message: 'must list at most 500 records (send several batches)' },
    ]);

    for (const id of ['run-1', 'run-2', 'run-3'])
      expect((await post(`${url}/v1/recipes/runs`, report(id))).status).toBe(201);
    const runs = await getJson<{ runs: { runId: string }[]; index: number }>(`${url}/v1/recipes/runs`);
    expect(runs.body.runs.map((r) => r.runId)).toEqual(['run-3', 'run-2']);
    expect(runs.body.index).toBe(3);

    expect((await getJson<Topology>(`${url}/v1/topology`)).body.window).toBe(30);
    expect((await getJson<Topology>(`${url}/v1/topology?window=120`)).body.window).toBe(120);
    const tooLong = await getJson<{ issues: unknown[] }>(`${url}/v1/topology?window=121`);
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.issues).toEqual([
      { path: 'window', message: 'must be a whole number of seconds from 1 to 120 (got "121")' },
    ]);

    const rule = (id: string) => ({ id, destination: 'reviews', route: { backends: [{ tags: ['version=v1'] }] } });
    for (const id of ['a', 'b', 'c']) expect((await post(`${url}/v1/rules`, { rules: [rule(id)] })).status).toBe(201);
    const history = await getJson<{ revisions: { revision: number }[] }>(`${url}/v1/rules/history`);
    expect(history.body.revisions.map((r) => r.revision)).toEqual([3, 2]);
  });

  it('refuse a bad limit when the server is built, naming the field', async () => {
    await expect(createControllerServer({ telemetry: { recordsPerNamespace: 0 } })).rejects.toMatchObject({
      code: 'WEFT_ERR_INVALID_ARGUMENT',
      issues: [{ path: 'telemetry.recordsPerNamespace', message: 'must be a whole number from 1 to 1000000 (got 0)' }],
    });
  });

  it('turned off, answer 404 WEFT_ERR_NOT_FOUND, which a sidecar’s stream takes as a server without the route', async () => {
    const { url } = await controlPlane({ telemetry: { enabled: false } });
    const refused = await post(`${url}/v1/telemetry/access-log`, { records: [record('a:', 'b:')] });
    expect(refused.status).toBe(404);
    expect(refused.body).toMatchObject({
      code: 'WEFT_ERR_NOT_FOUND',
      error: expect.stringMatching(/telemetry\.enabled/),
    });
    // Refused before the body is read: a malformed batch gets the same answer, not a 400.
    expect((await post(`${url}/v1/telemetry/access-log`, { records: 'none' })).status).toBe(404);
    for (const path of ['/v1/telemetry/access-log', '/v1/topology'])
      expect((await getJson<{ code: string }>(`${url}${path}`)).body.code, path).toBe('WEFT_ERR_NOT_FOUND');
    // Recipe reports are still kept: they are posted by an operator's run, not streamed.
    expect((await post(`${url}/v1/recipes/runs`, report('run-1'))).status).toBe(201);

    const warnings: string[] = [];
    const stream = new AccessLogStream({ url, intervalMs: 20, onWarning: (m) => warnings.push(m) });
    stream.write(record('a:', 'b:'));
    const deadline = Date.now() + 3000;
    while (stream.stats().dropped.unsupported === 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    // Dropped and paused (asked again in a minute), never retried nor queued.
    expect(stream.stats()).toMatchObject({ failures: 0, queued: 0, dropped: { unsupported: 1, rejected: 0 } });
    expect(warnings).toEqual([expect.stringMatching(/does not take access-log records .*404/)]);
    await stream.close();
  });
});

describe('GET /v1/topology with the registry in the process (the control plane)', () => {
  it('adds registered services and versions that took no traffic, as nodes without edges', async () => {
    const { app, url } = await controlPlane();
    const register = (service: string, version: string, port: number) =>
      app.registry.register({
        service,
        endpoint: { type: 'http', value: `127.0.0.1:${port}` },
        tags: [`version=${version}`, 'zone=a'],
      });
    await register('reviews', 'v1', 9081);
    await register('reviews', 'v2', 9082);
    await register('reviews', 'v3', 9083);
    await register('details', 'v1', 9090);
    await post(`${url}/v1/telemetry/access-log`, {
      records: [record('front:version=v1', 'reviews:version=v1'), record('front:version=v1', 'reviews:version=v2')],
    });
    const topo = (await getJson<Topology>(`${url}/v1/topology`)).body;
    expect(topo.nodes).toEqual([
      { service: 'details', versions: ['version=v1'], instances: 0, registered: 1 },
      { service: 'front', versions: ['version=v1'], instances: 0, registered: 0 },
      { service: 'reviews', versions: ['version=v1', 'version=v2', 'version=v3'], instances: 1, registered: 3 },
    ]);
    expect(topo.edges.map((e) => e.destination.version)).toEqual(['version=v1', 'version=v2']);

    // Followed through the registry's watch: a version registered later shows at the next read.
    const v4 = await register('reviews', 'v4', 9084);
    await expect
      .poll(async () => (await getJson<Topology>(`${url}/v1/topology`)).body.nodes.find((x) => x.service === 'reviews'))
      .toMatchObject({ versions: ['version=v1', 'version=v2', 'version=v3', 'version=v4'], registered: 4 });
    await app.registry.deregister(v4.id);
    await expect
      .poll(async () => (await getJson<Topology>(`${url}/v1/topology`)).body.nodes.find((x) => x.service === 'reviews'))
      .toMatchObject({ versions: ['version=v1', 'version=v2', 'version=v3'], registered: 3 });
  });

  it('keeps each namespace to its own registry entries', async () => {
    const { app, url } = await controlPlane({ auth: [{ type: 'trusted' }] });
    await app.registry.register(
      { service: 'billing', endpoint: { type: 'http', value: '127.0.0.1:9000' }, tags: ['version=v9'] },
      { namespace: 'team-a' },
    );
    const read = async (team: string) =>
      ((await (await fetch(`${url}/v1/topology`, { headers: { authorization: `Bearer ${team}` } })).json()) as Topology)
        .nodes;
    expect(await read('team-a')).toEqual([
      { service: 'billing', versions: ['version=v9'], instances: 0, registered: 1 },
    ]);
    expect(await read('team-b')).toEqual([]);
  });

  it('is drawn from the records alone by the controller, which holds no registry', async () => {
    const { url } = await controller();
    await post(`${url}/v1/telemetry/access-log`, { records: [record('front:', 'reviews:version=v1')] });
    expect((await getJson<Topology>(`${url}/v1/topology`)).body.nodes).toEqual([
      { service: 'front', versions: [], instances: 0 },
      { service: 'reviews', versions: ['version=v1'], instances: 1 },
    ]);
  });
});

describe('RegisteredVersions', () => {
  it('holds one registry watch per namespace read, closed after the linger or beyond maxNamespaces', async () => {
    const registry = new MemoryRegistry();
    try {
      await registry.register({ service: 'reviews', endpoint: { type: 'http', value: '10.0.0.1:1' }, tags: ['v1'] });
      await registry.register({
        service: 'reviews',
        endpoint: { type: 'http', value: '10.0.0.2:1' },
        tags: ['version=v2', 'version=canary'],
      });
      const versions = new RegisteredVersions(registry, { lingerMs: 100, maxNamespaces: 2 });
      expect(versions.latest('default')).toBeUndefined();
      await versions.ready('default');
      // Only `version=` tags name a version; several are joined as the records' tag sets are.
      expect(versions.latest('default')).toEqual(
        new Map([['reviews', { versions: ['version=v2,version=canary'], instances: 2 }]]),
      );
      await versions.ready('a');
      await versions.ready('b');
      expect(versions.size).toBe(2);
      expect(versions.latest('default')).toBeUndefined();
      await new Promise((r) => setTimeout(r, 200));
      expect(versions.size).toBe(0);
      versions.close();
      await versions.ready('default');
      expect(versions.latest('default')).toBeUndefined();
    } finally {
      await registry.close();
    }
  });
});
