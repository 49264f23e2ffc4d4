/**
 * Last-known-good: `weft sidecar --snapshot <file>` writes the endpoints and rules it receives;
 * started again while the control plane is down, it serves from that file (and says so in
 * /health), then converges on the control plane's state once it is back.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { listeningUrl, startWeft, type WeftProcess } from '../servers-cli/weft-process.js';
import { freePort, get, health, killAll, sidecarUrls, until } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'weft-snapshot-'));
const snapshot = join(dir, 'last-known-good.json');
const started: WeftProcess[] = [];
let echo: ChildProcess;
let echoPort: number;
let cpPort: number;

beforeAll(async () => {
  [echoPort, cpPort] = await Promise.all([freePort(), freePort()]);
  writeFileSync(join(dir, 'index.html'), 'echo');
  echo = spawn('python3', ['-m', 'http.server', String(echoPort), '--bind', '127.0.0.1', '--directory', dir], {
    stdio: 'ignore',
  });
});

afterAll(async () => {
  echo.kill('SIGKILL');
  await killAll(started);
  rmSync(dir, { recursive: true, force: true });
});

async function controlPlane(tags: string[], rules: unknown[]): Promise<{ process: WeftProcess; url: string }> {
  const p = startWeft(['control-plane', '--port', String(cpPort), '--log-level', 'warn']);
  started.push(p);
  const url = await listeningUrl(p);
  const post = (path: string, body: unknown) =>
    fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const reg = await post('/api/v1/instances', {
    service_name: 'echo',
    endpoint: { type: 'http', value: `127.0.0.1:${echoPort}` },
    tags,
    ttl: 300,
  });
  expect(reg.status).toBe(201);
  if (rules.length > 0) expect((await post('/v1/rules', { rules })).status).toBeLessThan(300);
  return { process: p, url };
}

function sidecar(registryUrl: string): WeftProcess {
  const p = startWeft([
    'sidecar',
    '--no-register',
    '--registry-url',
    registryUrl,
    '--snapshot',
    snapshot,
    '--proxy-port',
    '0',
    '--admin-port',
    '0',
    '--log-level',
    'warn',
  ]);
  started.push(p);
  return p;
}

it('serves from its snapshot while the control plane is down, and converges when it is back', async () => {
  const rule = { id: 'v1-only', destination: 'echo', route: { backends: [{ tags: ['version=v1'] }] } };
  const first = await controlPlane(['version=v1'], [rule]);

  // 1. A sidecar that saw the control plane writes what it got.
  const a = sidecar(first.url);
  const aUrls = await sidecarUrls(a);
  await until('a route to echo', async () => ((await get(`${aUrls.proxy}/echo/`)).status === 200 ? true : undefined));
  await until('the snapshot file', async () => {
    const file = JSON.parse(readFileSync(snapshot, 'utf8')) as { instances: unknown[]; rules: unknown[] };
    return file.instances.length === 1 && file.rules.length === 1 ? true : undefined;
  });
  a.child.kill('SIGTERM');
  expect(await a.exited).toBe(0);
  first.process.child.kill('SIGTERM');
  await first.process.exited;

  // 2. The control plane is down: a new sidecar serves from the snapshot, and says so.
  const b = sidecar(first.url);
  const bUrls = await sidecarUrls(b);
  const fromSnapshot = await get(`${bUrls.proxy}/echo/`);
  expect(fromSnapshot).toEqual({ status: 200, body: 'echo' });
  const down = await health(bUrls.admin);
  expect(down.status).toBe('degraded');
  expect(down.endpoints).toMatchObject({ fromSnapshot: true, stale: true });
  expect(down.rules).toMatchObject({ fromSnapshot: true, count: 1 });

  // 3. The control plane is back, with another state: the sidecar converges on it.
  await controlPlane(['version=v2'], []);
  const up = await until(
    'the sidecar to converge',
    async () => {
      const h = await health(bUrls.admin);
      return h.status === 'ok' ? h : undefined;
    },
    15_000,
  );
  expect(up.endpoints).toMatchObject({ fromSnapshot: false, stale: false });
  expect(up.rules).toMatchObject({ fromSnapshot: false, count: 0 });
  const endpoints = (await (await fetch(`${bUrls.admin}/debug/endpoints`)).json()) as {
    services: Record<string, { endpoints: { tags: string[] }[] }>;
  };
  expect(endpoints.services.echo?.endpoints.map((e) => e.tags)).toEqual([['version=v2']]);
  b.child.kill('SIGTERM');
  expect(await b.exited).toBe(0);
}, 40_000);
