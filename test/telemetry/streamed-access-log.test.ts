/**
 * Access-log streaming end to end, with real processes: a `weft control-plane`, a `weft sidecar`
 * at the entry and one beside the `front` app, whose calls to `back` (v1 and v2, split 90/10 by a
 * route rule) go through it. Both sidecars stream their records to the control plane (on by
 * default: they follow its controller); the test reads them there, draws the topology, runs a
 * recipe that reads nothing but the control plane, and shows that a dead telemetry URL neither
 * slows nor fails the proxied calls.
 */

import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWeft, type WeftProcess } from '../servers-cli/weft-process.js';
import { type ControlPlane, startControlPlane, storedRules, weft } from '../servers-ops/helpers.js';
import { get, sidecarUrls, until } from '../sidecar-agent/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'weft-telemetry-'));
const started: WeftProcess[] = [];
const servers: Server[] = [];
const hungServers: NetServer[] = [];
const hungSockets: Socket[] = [];
let cp: ControlPlane;
let entry: { proxy: string; admin: string };
let frontSidecar: { proxy: string; admin: string };

const listen = (server: Server): Promise<number> => {
  servers.push(server);
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
  );
};

function sidecar(service: string, args: string[]): Promise<{ proxy: string; admin: string }> {
  const p = startWeft(
    [
      'sidecar',
      '--proxy-port',
      '0',
      '--admin-port',
      '0',
      '--endpoint-host',
      '127.0.0.1',
      '--log-level',
      'warn',
      '--telemetry-interval',
      '200ms',
      ...args,
    ],
    { env: { A8_REGISTRY_URL: cp.url, A8_CONTROLLER_URL: cp.url, A8_SERVICE: service } },
  );
  started.push(p);
  return sidecarUrls(p);
}

interface StreamAnswer {
  records: { src: string; dst: string; request_id: string; status: number }[];
  index: number;
}

async function streamed(query: string): Promise<StreamAnswer> {
  const r = await get(`${cp.url}/v1/telemetry/access-log?${query}`);
  expect(r.status, r.body).toBe(200);
  return JSON.parse(r.body) as StreamAnswer;
}

beforeAll(async () => {
  cp = await startControlPlane();
  const [v1, v2] = await Promise.all([
    listen(createServer((_req, res) => res.end('back v1'))),
    listen(createServer((_req, res) => res.end('back v2'))),
  ]);
  // front calls back through its own sidecar, forwarding the request id (as a mesh asks apps to).
  const frontPort = await listen(
    createServer(async (req, res) => {
      try {
        const answer = await fetch(`${frontSidecar.proxy}/back/data`, {
          headers: { 'x-request-id': String(req.headers['x-request-id'] ?? '') },
        });
        res.statusCode = answer.status;
        res.end(await answer.text());
      } catch (err) {
        res.statusCode = 502;
        res.end(String(err));
      }
    }),
  );
  await cp.register('back', ['version=v1'], v1, '127.0.0.1');
  await cp.register('back', ['version=v2'], v2, '127.0.0.1');
  const rule = await fetch(`${cp.url}/v1/rules`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      rules: [
        {
          id: 'back-split',
          destination: 'back',
          route: { backends: [{ tags: ['version=v2'], weight: 0.1 }, { tags: ['version=v1'] }] },
        },
      ],
    }),
  });
  expect(rule.status).toBe(201);
  [frontSidecar, entry] = await Promise.all([
    sidecar('front:version=v1', ['--endpoint-port', String(frontPort)]),
    sidecar('entry', ['--no-register']),
  ]);
  await until(
    'the mesh to route entry → front → back',
    async () => ((await get(`${entry.proxy}/front/page`)).status === 200 ? true : undefined),
    20_000,
  );
}, 60_000);

afterAll(async () => {
  for (const p of started) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  await Promise.all(started.map((p) => p.exited));
  await cp?.stop();
  for (const s of servers) s.closeAllConnections();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  for (const socket of hungSockets) socket.destroy();
  await Promise.all(hungServers.map((s) => new Promise((r) => s.close(r))));
  rmSync(dir, { recursive: true, force: true });
});

describe('access-log records streamed to the control plane', () => {
  it('arrive from both sidecars, and the topology shows the edges and the 90/10 split', async () => {
    const n = 300;
    const prefix = `split-${Date.now()}`;
    for (let i = 0; i < n; i += 10)
      await Promise.all(
        Array.from({ length: 10 }, async (_, j) => {
          const r = await get(`${entry.proxy}/front/page`, { headers: { 'x-request-id': `${prefix}-${i + j}` } });
          expect(r.status).toBe(200);
        }),
      );
    // The entry's sidecar wrote entry → front, front's wrote front → back: 2n records in all.
    const answer = await until(
      'every record of the calls at the control plane',
      async () => {
        const a = await streamed(`request_id_prefix=${prefix}&limit=10000`);
        return a.records.length >= 2 * n ? a : undefined;
      },
      15_000,
    );
    const bySender = (src: string, dst: string) =>
      answer.records.filter((r) => r.src === src && r.dst.startsWith(dst)).length;
    expect(bySender('entry:', 'front:')).toBe(n);
    expect(bySender('front:version=v1', 'back:')).toBe(n);
    expect(answer.records.every((r) => r.status === 200)).toBe(true);

    const topo = JSON.parse((await get(`${cp.url}/v1/topology?window=60`)).body) as {
      nodes: { service: string; versions: string[]; instances: number; registered?: number }[];
      edges: {
        source: { service: string; version?: string };
        destination: { service: string; version?: string };
        share: number;
        requests: number;
        errorRate: number;
        requestsPerSecond: number;
      }[];
    };
    expect(topo.nodes.find((x) => x.service === 'back')).toEqual({
      service: 'back',
      versions: ['version=v1', 'version=v2'],
      instances: 2,
      registered: 2,
    });
    const edge = (dst: string, version?: string) =>
      topo.edges.find((e) => e.destination.service === dst && e.destination.version === version);
    expect(edge('front')).toMatchObject({ source: { service: 'entry' }, share: 1, errorRate: 0 });
    expect(edge('front')?.requests).toBeGreaterThanOrEqual(n);
    const toV1 = edge('back', 'version=v1');
    const toV2 = edge('back', 'version=v2');
    expect(toV1?.source).toEqual({ service: 'front', version: 'version=v1' });
    // Binomial(300, 0.1): 30 ± 5.2; 4 standard deviations either side.
    expect(toV2?.share).toBeGreaterThan(0.03);
    expect(toV2?.share).toBeLessThan(0.17);
    expect((toV1?.share ?? 0) + (toV2?.share ?? 0)).toBeCloseTo(1, 3);
    expect(toV1?.requestsPerSecond).toBeGreaterThan(0);

    // Both sidecars count what they streamed.
    const metrics = (await get(`${frontSidecar.admin}/metrics`)).body;
    const streamedTotal = Number(/^weft_agent_access_log_streamed_total (\d+)$/m.exec(metrics)?.[1]);
    expect(streamedTotal).toBeGreaterThanOrEqual(n);
    expect(metrics).toMatch(/^weft_agent_access_log_dropped_total\{reason="queue_full"\} 0$/m);
    const cpMetrics = (await get(`${cp.url}/metrics`)).body;
    expect(
      Number(/^weft_telemetry_records_ingested_total\{namespace="default"\} (\d+)$/m.exec(cpMetrics)?.[1]),
    ).toBeGreaterThanOrEqual(2 * n);
  }, 60_000);

  it('feed weft recipe-run without any --proxy, and the run is listed at /v1/recipes/runs', async () => {
    const file = (name: string, data: unknown): string => {
      const path = join(dir, name);
      writeFileSync(path, JSON.stringify(data));
      return path;
    };
    const topology = file('topology.json', {
      services: [{ name: 'entry:version=none' }, { name: 'front:version=v1' }, { name: 'back' }],
      dependencies: { 'entry:version=none': ['front:version=v1'], 'front:version=v1': ['back'] },
    });
    const scenarios = file('abort.json', { gremlins: [{ scenario: 'abort_requests', dest: 'back', errorcode: 503 }] });
    const checks = file('checks.json', {
      checks: [
        { name: 'http_status', source: 'front:version=v1', dest: 'back', status: 503 },
        { name: 'http_status', source: 'entry', dest: 'front:version=v1', status: 503 },
      ],
    });
    const run = await weft(
      [
        'recipe-run',
        '-t',
        topology,
        '-s',
        scenarios,
        '-c',
        checks,
        '--load-url',
        `${entry.proxy}/front/page`,
        '--rate',
        '20',
        '--duration',
        '500ms',
        '--wait',
        '15s',
        '--settle',
        '500ms',
        '-o',
        'json',
      ],
      { env: { A8_CONTROLLER_URL: cp.url, A8_REGISTRY_URL: cp.url } },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`reading the access-log records the proxies stream to the control plane (${cp.url})`);
    const report = JSON.parse(run.stdout) as {
      runId: string;
      passed: boolean;
      checks: { name: string; passed: boolean; records: number }[];
      proxies: { proxy: string; records: number }[];
      missing: string[];
    };
    expect(report.passed).toBe(true);
    expect(report.missing).toEqual([]);
    // Every request failed at the entry; only those its breaker let through (≥ 5) reached front.
    const reachedBack = report.checks[0]?.records ?? 0;
    expect(reachedBack).toBeGreaterThanOrEqual(5);
    expect(report.checks.map((c) => [c.name, c.passed, c.records])).toEqual([
      ['http_status', true, reachedBack],
      ['http_status', true, 10],
    ]);
    // One source: the control plane, with the records of both sidecars.
    expect(report.proxies).toEqual([
      expect.objectContaining({ proxy: `control plane ${cp.url}`, records: 10 + reachedBack }),
    ]);
    // The run's rules are gone; the application's split stays.
    expect((await storedRules(cp.url)).map((r) => r.id)).toEqual(['back-split']);
    const runs = JSON.parse((await get(`${cp.url}/v1/recipes/runs`)).body) as {
      runs: { runId: string; passed: boolean }[];
    };
    expect(runs.runs[0]).toMatchObject({ runId: report.runId, passed: true });
  }, 60_000);

  it('a hung control plane neither slows nor fails proxied calls: the queue stays bounded, drops are counted', async () => {
    // Worse than a refused connection: it accepts and never answers, so each batch waits out its 5 s deadline.
    const hung = createNetServer((socket) => hungSockets.push(socket));
    hung.listen(0, '127.0.0.1');
    await once(hung, 'listening');
    hungServers.push(hung);
    const dead = `http://127.0.0.1:${(hung.address() as { port: number }).port}`;
    const lonely = await sidecar('lonely', ['--no-register', '--telemetry-url', dead, '--telemetry-queue', '20']);
    await until(
      'the lonely sidecar to route to front',
      async () => ((await get(`${lonely.proxy}/front/page`)).status === 200 ? true : undefined),
      20_000,
    );
    const latencies: number[] = [];
    for (let i = 0; i < 200; i++) {
      const begin = performance.now();
      const r = await get(`${lonely.proxy}/front/page`);
      latencies.push(performance.now() - begin);
      expect(r.status).toBe(200);
    }
    latencies.sort((a, b) => a - b);
    // Two proxied hops on loopback: a call that waited on the hung control plane would take 5 s;
    // the median stays a few ms, the worst far below a second.
    expect(latencies[100]).toBeLessThan(100);
    expect(latencies[199]).toBeLessThan(1000);
    const metrics = await until(
      'the drops to be counted',
      async () => {
        const text = (await get(`${lonely.admin}/metrics`)).body;
        const dropped = Number(/^weft_agent_access_log_dropped_total\{reason="queue_full"\} (\d+)$/m.exec(text)?.[1]);
        return dropped >= 150 ? text : undefined;
      },
      5000,
    );
    expect(Number(/^weft_agent_access_log_queued (\d+)$/m.exec(metrics)?.[1])).toBeLessThanOrEqual(20);
    expect(metrics).toMatch(/^weft_agent_access_log_streamed_total 0$/m);
    // The batch in flight gives up at its deadline, counted as a failure (its records wait again).
    await until(
      'the hung batch to count as a failure',
      async () => {
        const text = (await get(`${lonely.admin}/metrics`)).body;
        return Number(/^weft_agent_access_log_stream_failures_total (\d+)$/m.exec(text)?.[1]) > 0 ? true : undefined;
      },
      10_000,
    );
  }, 60_000);
});
