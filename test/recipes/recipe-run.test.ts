/**
 * `weft recipe-run` as an operator runs it: a real `weft control-plane`, a `weft sidecar` in front
 * of the application (the entry the load goes through) and one beside the `front` app, whose
 * calls to `back` go through it. The apps are small Node servers of this test; `front` forwards
 * X-Request-ID, as a mesh asks every app to. The recipes are Gremlin's JSON files; the verdicts
 * come from the sidecars' own access-log records, read from their admin listeners.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWeft, type WeftProcess } from '../servers-cli/weft-process.js';
import { type ControlPlane, startControlPlane, storedRules, weft } from '../servers-ops/helpers.js';
import { freePort, get, sidecarUrls, until } from '../sidecar-agent/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'weft-recipes-'));
const started: WeftProcess[] = [];
let cp: ControlPlane;
let back: Server;
let front: Server;
let entry: { proxy: string; admin: string };
let frontSidecar: { proxy: string; admin: string };

const listen = (server: Server): Promise<number> =>
  new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));

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
      ...args,
    ],
    { env: { A8_REGISTRY_URL: cp.url, A8_CONTROLLER_URL: cp.url, A8_SERVICE: service } },
  );
  started.push(p);
  return sidecarUrls(p);
}

const file = (name: string, data: unknown): string => {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(data, null, 2));
  return path;
};

// Amalgam8's recipe shapes: "name:tags" services, the gateway untagged.
const topology = file('topology.json', {
  services: [{ name: 'entry:version=none' }, { name: 'front:version=v1' }, { name: 'back:version=v1' }],
  dependencies: { 'entry:version=none': ['front:version=v1'], 'front:version=v1': ['back:version=v1'] },
});

const recipeArgs = (
  scenarios: string,
  checks: string,
  extra: string[] = [],
  proxies = [entry.admin, frontSidecar.admin],
): string[] => [
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
  '1s',
  ...proxies.flatMap((p) => ['--proxy', p]),
  ...(extra.includes('--wait') ? [] : ['--wait', '15s']),
  '--settle',
  '300ms',
  ...extra,
];
const env = (): NodeJS.ProcessEnv => ({ A8_CONTROLLER_URL: cp.url, A8_REGISTRY_URL: cp.url });

beforeAll(async () => {
  cp = await startControlPlane();
  back = createServer((_req, res) => res.end('back ok'));
  // front calls back through its own sidecar, forwarding the request id (as bookinfo's apps do).
  front = createServer(async (req, res) => {
    try {
      const answer = await fetch(`${frontSidecar.proxy}/back/data`, {
        headers: { 'x-request-id': String(req.headers['x-request-id'] ?? '') },
      });
      res.statusCode = answer.status;
      res.end(`front got ${answer.status}: ${await answer.text()}`);
    } catch (err) {
      res.statusCode = 502;
      res.end(String(err));
    }
  });
  const [backPort, frontPort] = await Promise.all([listen(back), listen(front)]);
  await cp.register('back', ['version=v1'], backPort, '127.0.0.1');
  [frontSidecar, entry] = await Promise.all([
    sidecar('front:version=v1', ['--endpoint-port', String(frontPort)]),
    sidecar('entry', ['--no-register']),
  ]);
  // Both sidecars see front and back before any recipe runs.
  await until(
    'the mesh to route entry → front → back',
    async () => {
      const r = await get(`${entry.proxy}/front/page`);
      return r.status === 200 ? r : undefined;
    },
    20_000,
  );
}, 60_000);

afterAll(async () => {
  for (const p of started) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  await Promise.all(started.map((p) => p.exited));
  await cp?.stop();
  await Promise.all([new Promise((r) => back?.close(r)), new Promise((r) => front?.close(r))]);
  rmSync(dir, { recursive: true, force: true });
});

describe('weft recipe-run', () => {
  it('a delay on front → back fails bounded_response_time at the entry (exit 5), and leaves no rule behind', async () => {
    const scenarios = file('delay.json', {
      gremlins: [
        { scenario: 'delay_requests', source: 'front:version=v1', dest: 'back:version=v1', delaytime: '400ms' },
      ],
    });
    const checks = file('delay-checks.json', {
      checks: [
        { name: 'bounded_response_time', source: 'entry:none', dest: 'front:version=v1', max_latency: '200ms' },
        { name: 'http_status', source: 'front:version=v1', dest: 'back:version=v1', status: 200 },
      ],
    });
    const run = await weft(recipeArgs(scenarios, checks), { env: env() });
    expect(run.stderr).not.toMatch(/Error|at .*\.ts/);
    expect(run.code).toBe(5);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toMatch(/^CHECK\s+CALLS\s+RECORDS\s+RESULT\s+DETAIL$/);
    // Every one of the 20 requests was delayed, as the entry's own records show.
    expect(run.stdout).toMatch(
      /bounded_response_time\s+entry → front:version=v1\s+20\s+FAIL\s+20 of 20 took longer than 200ms \(slowest [\d.]+m?s, request recipe-[0-9a-f]{12}-\d+\)/,
    );
    expect(run.stdout).toMatch(/http_status\s+front:version=v1 → back:version=v1\s+20\s+PASS/);
    expect(run.stdout).toMatch(/fault: front:version=v1 → back:version=v1: delay 400ms \(p 1\)/);
    expect(run.stdout).toMatch(/load: 20 requests .* 200 ×20/);
    expect(run.stdout).toMatch(/rules: 2 added, all removed/);
    expect(run.stdout).not.toMatch(/missing:/);
    expect(await storedRules(cp.url)).toEqual([]);
    // The faults touched only the run's requests: an untagged request is as fast as ever.
    const begin = Date.now();
    expect((await get(`${entry.proxy}/front/page`)).status).toBe(200);
    expect(Date.now() - begin).toBeLessThan(300);
  }, 60_000);

  it("serves a sidecar's recent access-log records at /debug/access-log, filtered", async () => {
    const id = `probe-${Date.now()}`;
    expect((await get(`${entry.proxy}/front/page`, { headers: { 'x-request-id': id } })).status).toBe(200);
    const answer = JSON.parse((await get(`${entry.admin}/debug/access-log?request_id_prefix=${id}`)).body) as {
      service: { name: string };
      rules_revision: number;
      capacity: number;
      records: Record<string, unknown>[];
    };
    expect(answer.service.name).toBe('entry');
    expect(answer.capacity).toBe(4096);
    expect(typeof answer.rules_revision).toBe('number');
    expect(answer.records).toHaveLength(1);
    expect(answer.records[0]).toMatchObject({ src: 'entry:', dst: 'front:', status: 200, request_id: id });
    const none = JSON.parse((await get(`${entry.admin}/debug/access-log?since=${Date.now() + 60_000}`)).body);
    expect(none.records).toEqual([]);
    const bad = await get(`${entry.admin}/debug/access-log?since=yesterday`);
    expect(bad.status).toBe(400);
    expect(bad.body).toMatch(/since must be a whole number of ms since the epoch/);
  });

  it('Ctrl-C during the load removes every rule of the run and exits 130', async () => {
    const scenarios = file('slow.json', {
      gremlins: [
        { scenario: 'delay_requests', source: 'front:version=v1', dest: 'back:version=v1', delaytime: '200ms' },
      ],
    });
    const checks = file('slow-checks.json', {
      checks: [{ name: 'bounded_response_time', source: 'entry', dest: 'front', max_latency: '1s' }],
    });
    const args = recipeArgs(scenarios, checks).map((a) => (a === '1s' ? '30s' : a));
    const p = startWeft(args, { env: env() });
    started.push(p);
    const rules = await until('the run to add its rules', async () => {
      const list = await storedRules(cp.url);
      return list.length > 0 ? list : undefined;
    });
    expect(rules.map((r) => r.tags)).toEqual([
      [expect.stringMatching(/^recipe-/)],
      [expect.stringMatching(/^recipe-/)],
    ]);
    await new Promise((r) => setTimeout(r, 500));
    p.child.kill('SIGINT');
    expect(await p.exited).toBe(130);
    expect(p.stderr()).toMatch(/interrupted: run recipe-[0-9a-f]{12} stopped and its rules were removed/);
    expect(await storedRules(cp.url)).toEqual([]);
  }, 60_000);

  it('refuses a scenario Weft cannot express, naming the file and the field, before adding any rule (exit 2)', async () => {
    const scenarios = file('responses.json', {
      gremlins: [{ scenario: 'abort_responses', source: 'front:version=v1', dest: 'back:version=v1' }],
    });
    const checks = file('none.json', { checks: [] });
    const run = await weft(recipeArgs(scenarios, checks), { env: env() });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`Invalid scenarios file ${scenarios}:`);
    expect(run.stderr).toMatch(/gremlins\[0\]\.scenario: abort_responses cannot be expressed/);
    expect(await storedRules(cp.url)).toEqual([]);
  }, 30_000);
  it('says exactly which records did not come by the deadline, and fails the checks that needed them', async () => {
    const scenarios = file('small-delay.json', {
      gremlins: [{ scenario: 'delay_requests', source: 'front', dest: 'back', delaytime: '10ms' }],
    });
    const checks = file('missing-checks.json', {
      checks: [
        { name: 'http_status', source: 'entry', dest: 'front', status: 200 },
        { name: 'http_status', source: 'front', dest: 'back', status: 200 },
      ],
    });
    // front's sidecar is not read (it writes the front → back records); a dead address is.
    const dead = `http://127.0.0.1:${await freePort()}`;
    const begin = Date.now();
    const run = await weft(recipeArgs(scenarios, checks, ['--wait', '1500ms'], [entry.admin, dead]), {
      env: env(),
    });
    expect(run.code, run.stderr).toBe(5);
    expect(run.stdout).toMatch(/http_status\s+entry → front\s+20\s+PASS/);
    expect(run.stdout).toMatch(
      /http_status\s+front → back\s+0\s+FAIL\s+no record of front → back came from the proxies/,
    );
    expect(run.stdout).toContain('missing: no record of front → back (needed by http_status)');
    expect(run.stdout).toContain(`missing: could not read ${dead} (ECONNREFUSED)`);
    expect(run.stdout).toContain(`records: 20 from 2 proxies (entry 20, ${dead} unreachable: ECONNREFUSED)`);
    // It waited for the deadline, not much longer.
    expect(Date.now() - begin).toBeLessThan(10_000);
    expect(await storedRules(cp.url)).toEqual([]);
  }, 60_000);

  it('an abort on front → back passes http_status 503 on both hops and the entry breaker check, as JSON for CI (exit 0)', async () => {
    const scenarios = file('abort.json', {
      gremlins: [{ scenario: 'abort_requests', dest: 'back:version=v1', errorcode: 503 }],
    });
    const checks = file('abort-checks.yaml', {
      checks: [
        { name: 'http_status', source: 'front:version=v1', dest: 'back:version=v1', status: 503 },
        { name: 'http_status', source: 'entry:none', dest: 'front:version=v1', status: [503] },
        { name: 'no_proxy_errors' },
        { name: 'at_most_requests', source: 'front:version=v1', dest: 'back:version=v1', num_requests: 1 },
        // The entry's proxy stops calling front after 5 failures in a row (outlier detection's
        // consecutive_errors): the calls it then refuses itself never leave it.
        { name: 'circuit_breaker', source: 'entry', dest: 'front:version=v1', closed_attempts: 5, reset_time: '30s' },
      ],
    });
    const run = await weft(recipeArgs(scenarios, checks, ['-o', 'json']), { env: env() });
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as {
      runId: string;
      passed: boolean;
      checks: { name: string; passed: boolean; records: number }[];
      rules: { added: number; left: number };
      missing: string[];
      proxies: { service: string; records: number }[];
    };
    expect(report.passed).toBe(true);
    // Every request failed at the entry; only those its breaker let through reached front.
    const reachedBack = report.checks[0]?.records ?? 0;
    expect(reachedBack).toBeGreaterThanOrEqual(5);
    expect(reachedBack).toBeLessThan(20);
    expect(report.checks.map((c) => [c.name, c.passed, c.records])).toEqual([
      ['http_status', true, reachedBack],
      ['http_status', true, 20],
      ['no_proxy_errors', true, 20 + reachedBack],
      ['at_most_requests', true, reachedBack],
      ['circuit_breaker', true, 20],
    ]);
    expect(report.runId).toMatch(/^recipe-[0-9a-f]{12}$/);
    expect(report.rules).toEqual({ added: 2, left: 0 });
    expect(report.missing).toEqual([]);
    expect(report.proxies.map((p) => [p.service, p.records])).toEqual([
      ['entry', 20],
      ['front:version=v1', reachedBack],
    ]);
    expect(await storedRules(cp.url)).toEqual([]);
  }, 60_000);
});
