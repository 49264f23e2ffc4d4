import { AccessLogStream } from '@weft/adapters/weft';
import { afterEach, describe, expect, it } from 'vitest';
import { type ControlPlaneServer, createControlPlaneServer } from '../control-plane.js';
import { createControllerServer } from '../controller/server.js';

const apps: { close(): Promise<unknown> }[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

async function controlPlane(options: Parameters<typeof createControlPlaneServer>[0] = {}): Promise<{
  app: ControlPlaneServer;
  url: string;
}> {
  const app = await createControlPlaneServer(options);
  apps.push(app);
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, url };
}

let n = 0;
/** A record as a sidecar of `src` writes it for a call to `dst`. */
const record = (src: string, dst: string, extra: Record<string, unknown> = {}) => ({
  src,
  dst,
  status: 200,
  start_time: new Date(Date.now() - 5).toISOString(),
  request_time: 0.005,
  upstream_response_time: 0.004,
  timestamp_in_ms: Date.now(),
  method: 'GET',
  path: '/',
  request_id: `req-${++n}`,
  upstream_host: '127.0.0.1:9080',
  attempts: 1,
  ...extra,
});

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function getJson<T>(url: string, headers: Record<string, string> = {}): Promise<T> {
  const res = await fetch(url, { headers });
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as T;
}

interface Topology {
  nodes: { service: string; versions: string[]; instances: number }[];
  edges: {
    source: { service: string; version?: string };
    destination: { service: string; version?: string };
    requestsPerSecond: number;
    errorRate: number;
    p99Ms: number;
    share: number;
    requests: number;
  }[];
  window: number;
  index: number;
}

describe('POST /v1/telemetry/access-log', () => {
  it('keeps the batches of two sidecars, and reads them back filtered, oldest first, with index and next', async () => {
    const { url } = await controlPlane();
    const a = await post(`${url}/v1/telemetry/access-log`, {
      records: [record('entry:', 'front:', { request_id: 'recipe-1-1' }), record('entry:', 'front:')],
    });
    expect(a).toEqual({ status: 202, body: { accepted: 2, index: 2 } });
    const b = await post(`${url}/v1/telemetry/access-log`, {
      records: [record('front:version=v1', 'back:version=v2', { gremlin_recipe_id: 'recipe-1', request_id: 'x' })],
    });
    expect(b.body).toEqual({ accepted: 1, index: 3 });
    const all = await getJson<{ records: { src: string }[]; index: number; next: number; size: number }>(
      `${url}/v1/telemetry/access-log`,
    );
    expect(all.records.map((r) => r.src)).toEqual(['entry:', 'entry:', 'front:version=v1']);
    expect(all).toMatchObject({ index: 3, next: 3, size: 3, capacity: 10_000, evicted: 0, rules_revision: null });
    // A recipe's records: by request id prefix, or tagged by its trace rules.
    const recipe = await getJson<{ records: { request_id: string }[] }>(
      `${url}/v1/telemetry/access-log?recipe=recipe-1`,
    );
    expect(recipe.records.map((r) => r.request_id)).toEqual(['recipe-1-1', 'x']);
    const back = await getJson<{ records: unknown[] }>(`${url}/v1/telemetry/access-log?service=back`);
    expect(back.records).toHaveLength(1);
    // Following: since=<seq>, a page of limit, next continues.
    const page = await getJson<{ records: { request_id: string }[]; next: number; index: number }>(
      `${url}/v1/telemetry/access-log?since=0&limit=2`,
    );
    expect(page.records).toHaveLength(2);
    expect(page).toMatchObject({ next: 2, index: 3 });
    const rest = await getJson<{ records: { request_id: string }[]; next: number }>(
      `${url}/v1/telemetry/access-log?since=${page.next}&limit=2`,
    );
    expect(rest.records.map((r) => r.request_id)).toEqual(['x']);
    expect(rest.next).toBe(3);
    // Without since, limit keeps the newest.
    const newest = await getJson<{ records: { request_id: string }[] }>(`${url}/v1/telemetry/access-log?limit=1`);
    expect(newest.records.map((r) => r.request_id)).toEqual(['x']);
  });

  it('answers a bad batch 400 with a coded error naming each field, and too large a body 413', async () => {
    const { url } = await controlPlane();
    const bad = await post(`${url}/v1/telemetry/access-log`, {
      records: [record('a:', 'b:'), { ...record('a:', 'b:'), status: 'ok' }, { ...record('a:', 'b:'), dst: undefined }],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('WEFT_ERR_INVALID_ARGUMENT');
    expect(bad.body.issues).toEqual([
      { path: 'records[1].status', message: 'must be an HTTP status (a whole number)' },
      { path: 'records[2].dst', message: 'must be the destination, "service:backend tags"' },
    ]);
    const none = await post(`${url}/v1/telemetry/access-log`, { records: [] });
    expect(none.body.issues).toEqual([{ path: 'records', message: 'must list at least one record' }]);
    const many = await post(`${url}/v1/telemetry/access-log`, {
      records: Array.from({ length: 2001 }, () => ({ ...record('a:', 'b:'), path: '/' })),
    });
    expect(many.status).toBe(400);
    expect(many.body.issues).toEqual([
      { path: 'records', message: 'must list at most 2000 records (send several batches)' },
    ]);
    const extra = await post(`${url}/v1/telemetry/access-log`, { records: [record('a:', 'b:')], from: 'me' });
    expect(extra.status).toBe(400);
    expect((extra.body.issues as { path: string }[])[0]?.path).toBe('');
    const huge = await post(`${url}/v1/telemetry/access-log`, {
      records: [{ ...record('a:', 'b:'), padding: 'x'.repeat(3 * 1024 * 1024) }],
    });
    expect(huge.status).toBe(413);
    expect(huge.body.code).toBe('WEFT_ERR_PAYLOAD_TOO_LARGE');
    const query = await fetch(`${url}/v1/telemetry/access-log?since=yesterday&limit=0`);
    expect(query.status).toBe(400);
    expect(((await query.json()) as { issues: unknown }).issues).toEqual([
      { path: 'since', message: 'must be a whole number of 0 or more (got "yesterday")' },
      { path: 'limit', message: 'must be between 1 and 10000 (got 0)' },
    ]);
    // Nothing of it was kept.
    expect((await getJson<{ index: number }>(`${url}/v1/telemetry/access-log`)).index).toBe(0);
  });

  it('keeps each namespace to itself, as the rest of the API', async () => {
    const { url } = await controlPlane({ auth: [{ type: 'trusted' }] });
    expect((await post(`${url}/v1/telemetry/access-log`, { records: [record('a:', 'b:')] })).status).toBe(401);
    const team = { authorization: 'Bearer team-a' };
    expect((await post(`${url}/v1/telemetry/access-log`, { records: [record('a:', 'b:')] }, team)).status).toBe(202);
    const mine = await getJson<{ records: unknown[] }>(`${url}/v1/telemetry/access-log`, team);
    const theirs = await getJson<{ records: unknown[] }>(`${url}/v1/telemetry/access-log`, {
      authorization: 'Bearer team-b',
    });
    expect([mine.records.length, theirs.records.length]).toEqual([1, 0]);
  });

  it('is served by the controller alone too, and counts what it took in /metrics', async () => {
    const app = await createControllerServer();
    apps.push(app);
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    await post(`${url}/v1/telemetry/access-log`, { records: [record('a:', 'b:'), record('a:', 'b:')] });
    const text = await (await fetch(`${url}/metrics`)).text();
    expect(text).toContain('weft_telemetry_records_ingested_total{namespace="default"} 2');
    expect(text).toContain('weft_telemetry_records{namespace="default"} 2');
    expect(text).toMatch(/# TYPE weft_telemetry_records_evicted_total counter/);
  });
});

describe('GET /v1/topology', () => {
  it('draws the edges with rate, errors, p99 and the version split, live over Server-Sent Events', async () => {
    const { url } = await controlPlane();
    const calls = [
      ...Array.from({ length: 90 }, (_, i) =>
        record('front:version=v1', 'back:version=v1', { request_time: (i + 1) / 1000 }),
      ),
      ...Array.from({ length: 10 }, () =>
        record('front:version=v1', 'back:version=v2', { upstream_host: '127.0.0.1:9081' }),
      ),
      record('entry:', 'front:', { status: 503, error_code: 'WEFT_ERR_CIRCUIT_OPEN' }),
      record('entry:', 'front:'),
      // Outside the window: not counted.
      record('entry:', 'front:', { timestamp_in_ms: Date.now() - 120_000 }),
    ];
    await post(`${url}/v1/telemetry/access-log`, { records: calls });
    const topo = await getJson<Topology>(`${url}/v1/topology?window=60`);
    expect(topo.window).toBe(60);
    expect(topo.index).toBe(103);
    // The control plane's registry is empty: every node is seen in the records only (registered: 0).
    expect(topo.nodes).toEqual([
      { service: 'back', versions: ['version=v1', 'version=v2'], instances: 2, registered: 0 },
      { service: 'entry', versions: [], instances: 0, registered: 0 },
      { service: 'front', versions: ['version=v1'], instances: 1, registered: 0 },
    ]);
    expect(topo.edges).toEqual([
      {
        source: { service: 'entry' },
        destination: { service: 'front' },
        requestsPerSecond: 0.033,
        errorRate: 0.5,
        p99Ms: 5,
        share: 1,
        requests: 2,
      },
      {
        source: { service: 'front', version: 'version=v1' },
        destination: { service: 'back', version: 'version=v1' },
        requestsPerSecond: 1.5,
        errorRate: 0,
        p99Ms: 90,
        share: 0.9,
        requests: 90,
      },
      {
        source: { service: 'front', version: 'version=v1' },
        destination: { service: 'back', version: 'version=v2' },
        requestsPerSecond: 0.167,
        errorRate: 0,
        p99Ms: 5,
        share: 0.1,
        requests: 10,
      },
    ]);
    const bad = await fetch(`${url}/v1/topology?window=0`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { issues: { path: string }[] }).issues[0]?.path).toBe('window');

    // Live: a stream gets the picture now, then again after the next batch.
    const stream = await fetch(`${url}/v1/topology?window=60`, { headers: { accept: 'text/event-stream' } });
    const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
    const snapshots: Topology[] = [];
    let buffered = '';
    const nextSnapshot = async (): Promise<Topology> => {
      for (;;) {
        const m = /data: (.*)\n\n/.exec(buffered);
        if (m !== null) {
          buffered = buffered.slice((m.index ?? 0) + m[0].length);
          return JSON.parse(m[1] as string) as Topology;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error('the stream ended');
        buffered += new TextDecoder().decode(value);
      }
    };
    snapshots.push(await nextSnapshot());
    await post(`${url}/v1/telemetry/access-log`, { records: [record('front:version=v1', 'ratings:')] });
    snapshots.push(await nextSnapshot());
    await reader.cancel();
    expect(snapshots.map((s) => s.index)).toEqual([103, 104]);
    expect(snapshots[1]?.edges.map((e) => e.destination.service)).toContain('ratings');
  });
});

describe('/v1/recipes/runs', () => {
  it('keeps the reports posted, newest first, and refuses one without a verdict', async () => {
    const { url } = await controlPlane();
    const report = (runId: string, passed: boolean) => ({
      runId,
      passed,
      checks: [{ name: 'http_status', passed, records: 20 }],
      startedAt: new Date().toISOString(),
      durationMs: 1234,
      notes: [],
    });
    expect(await post(`${url}/v1/recipes/runs`, report('recipe-a', true))).toEqual({
      status: 201,
      body: { runId: 'recipe-a', index: 1 },
    });
    await post(`${url}/v1/recipes/runs`, report('recipe-b', false));
    const runs = await getJson<{ runs: { runId: string; passed: boolean; receivedAt: string }[]; index: number }>(
      `${url}/v1/recipes/runs`,
    );
    expect(runs.index).toBe(2);
    expect(runs.runs.map((r) => [r.runId, r.passed])).toEqual([
      ['recipe-b', false],
      ['recipe-a', true],
    ]);
    expect(Date.parse(runs.runs[0]?.receivedAt ?? '')).toBeGreaterThan(0);
    expect((await getJson<{ runs: unknown[] }>(`${url}/v1/recipes/runs?limit=1`)).runs).toHaveLength(1);
    // A long-poll at the current index waits for the next run.
    const waiting = getJson<{ index: number }>(`${url}/v1/recipes/runs?index=2&wait=5s`);
    await post(`${url}/v1/recipes/runs`, report('recipe-c', true));
    expect((await waiting).index).toBe(3);
    const bad = await post(`${url}/v1/recipes/runs`, { runId: 'recipe-d', checks: [] });
    expect(bad.status).toBe(400);
    expect(bad.body.issues).toEqual([{ path: 'passed', message: 'must be true or false: whether every check passed' }]);
  });
});

describe('AccessLogStream (@weft/adapters/weft) against the control plane', () => {
  it('streams records in batches, failing over from a dead replica to a live one', async () => {
    const { url } = await controlPlane();
    const dead = await controlPlane();
    await dead.app.close();
    const warnings: string[] = [];
    const stream = new AccessLogStream({
      url: [dead.url, url],
      intervalMs: 50,
      maxBatch: 100,
      backoff: { baseMs: 10, maxMs: 20 },
      onWarning: (m) => warnings.push(m),
    });
    for (let i = 0; i < 250; i++) stream.write(record('ratings:version=v1', 'reviews:'));
    const deadline = Date.now() + 5000;
    while (stream.stats().sent < 250 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(stream.stats()).toMatchObject({ sent: 250, queued: 0, dropped: { queue_full: 0, rejected: 0 } });
    expect(stream.stats().batches).toBeGreaterThanOrEqual(3);
    expect(stream.stats().failures).toBeGreaterThanOrEqual(1);
    expect(warnings[0]).toMatch(/failed .*ECONNREFUSED/);
    expect((await getJson<{ index: number }>(`${url}/v1/telemetry/access-log`)).index).toBe(250);
    await stream.close();
  });

  it('never makes a writer wait on a dead control plane: the queue is bounded and drops are counted', async () => {
    const dead = await controlPlane();
    await dead.app.close();
    const stream = new AccessLogStream({ url: dead.url, maxQueue: 100, maxBatch: 10, onWarning: () => {} });
    const begin = performance.now();
    for (let i = 0; i < 10_000; i++) stream.write(record('a:', 'b:'));
    const tookMs = performance.now() - begin;
    // 10 000 writes, each a push or a counted drop: far below a millisecond each.
    expect(tookMs).toBeLessThan(200);
    await new Promise((r) => setTimeout(r, 100));
    const stats = stream.stats();
    expect(stats.sent).toBe(0);
    expect(stats.queued).toBeLessThanOrEqual(100);
    expect(stats.dropped.queue_full).toBeGreaterThanOrEqual(9900);
    const closing = performance.now();
    await stream.close();
    expect(performance.now() - closing).toBeLessThan(2500);
    expect(stream.stats().dropped.closed + stream.stats().dropped.queue_full).toBe(10_000);
  });

  it('refuses bad options with a coded error naming each', () => {
    expect(() => new AccessLogStream({ url: 'ftp://x', maxBatch: 5000, maxQueue: 0 })).toThrow(
      expect.objectContaining({
        code: 'WEFT_ERR_INVALID_ARGUMENT',
        issues: [
          expect.objectContaining({ path: 'url' }),
          { path: 'maxQueue', message: 'must be a whole number of 1 or more (got 0)' },
          { path: 'maxBatch', message: 'must be at most 2000, what the control plane takes in one batch' },
        ],
      }),
    );
  });

  it('drops (counted) what a server without the route refuses, instead of retrying it', async () => {
    const { createRegistryServer } = await import('../registry/index.js');
    const registry = await createRegistryServer();
    apps.push(registry);
    const url = await registry.listen({ host: '127.0.0.1', port: 0 });
    const warnings: string[] = [];
    const stream = new AccessLogStream({ url, intervalMs: 20, onWarning: (m) => warnings.push(m) });
    stream.write(record('a:', 'b:'));
    const deadline = Date.now() + 3000;
    while (stream.stats().dropped.unsupported === 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(stream.stats().dropped.unsupported).toBe(1);
    expect(warnings).toEqual([expect.stringMatching(/does not take access-log records .*404/)]);
    await stream.close();
  });
});

describe('GET /v1/rules/history', () => {
  it("lists the namespace's recent revisions, newest first, with their rules, and waits for the next", async () => {
    const { url } = await controlPlane();
    const rule = (id: string) => ({ id, destination: 'reviews', route: { backends: [{ tags: ['version=v1'] }] } });
    expect((await post(`${url}/v1/rules`, { rules: [rule('a')] })).status).toBe(201);
    expect((await post(`${url}/v1/rules`, { rules: [rule('b')] })).status).toBe(201);
    expect((await fetch(`${url}/v1/rules?id=a`, { method: 'DELETE' })).status).toBe(200);
    const history = await getJson<{
      revisions: { revision: number; at: string; rules: { id: string }[] }[];
      index: number;
    }>(`${url}/v1/rules/history`);
    expect(history.index).toBe(3);
    expect(history.revisions.map((r) => [r.revision, r.rules.map((x) => x.id)])).toEqual([
      [3, ['b']],
      [2, ['a', 'b']],
      [1, ['a']],
    ]);
    expect(Date.parse(history.revisions[0]?.at ?? '')).toBeGreaterThan(0);
    const two = await getJson<{ revisions: unknown[] }>(`${url}/v1/rules/history?limit=2`);
    expect(two.revisions).toHaveLength(2);
    const waiting = getJson<{ index: number; revisions: { revision: number }[] }>(
      `${url}/v1/rules/history?index=3&wait=5s`,
    );
    await post(`${url}/v1/rules`, { rules: [rule('c')] });
    expect((await waiting).revisions[0]?.revision).toBe(4);
    const bad = await fetch(`${url}/v1/rules/history?limit=none`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { issues: { path: string }[] }).issues[0]?.path).toBe('limit');
  });
});
