import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { type AddressInfo, createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isWeftError } from '@weft/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { selfSignedCertificate } from '../../../../../test/servers/tls.js';
import { memberStates } from '../supervisor-group.js';
import { type HealthCheck, HealthMonitor, type HealthReport } from './index.js';

const node = process.execPath;
const closers: Array<() => unknown> = [];
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'weft-health-'));
});
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  rmSync(dir, { recursive: true, force: true });
});

/** A started monitor that records its 'change' events; stopped after the test. */
function monitor(checks: HealthCheck[]) {
  const m = new HealthMonitor(checks);
  closers.push(() => m.stop());
  const changes: Array<[boolean, HealthReport]> = [];
  m.on('change', (healthy, report) => changes.push([healthy, report]));
  return { m, changes };
}

/** An HTTP server answering `state.status`, counting requests; `hang` makes it never answer. */
async function appServer(server: Server = createServer()) {
  const state = { status: 200, requests: 0, hang: false };
  server.on('request', (_req, res) => {
    state.requests++;
    if (state.hang) return;
    res.writeHead(state.status).end('ok');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  closers.push(() => {
    server.closeAllConnections();
    return new Promise((r) => server.close(r));
  });
  return { state, port: (server.address() as AddressInfo).port };
}

async function until(what: string, predicate: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

const fast = { intervalMs: 40, timeoutMs: 1_000 };

describe('HealthMonitor', () => {
  it('is healthy with no checks, and start() resolves at once', async () => {
    const { m, changes } = monitor([]);
    expect(m.healthy).toBe(true);
    await m.start();
    expect(m.report()).toEqual({ healthy: true, checks: [] });
    expect(changes).toEqual([]);
  });

  it('http: follows a server switched between 200 and 500, emitting change only on flips', async () => {
    const { state, port } = await appServer();
    const url = `http://127.0.0.1:${port}/health`;
    const { m, changes } = monitor([{ type: 'http', url, ...fast }]);
    expect(m.healthy).toBe(false); // nothing proven before the first round
    await m.start();
    expect(m.healthy).toBe(true);
    expect(changes.map(([h]) => h)).toEqual([true]);

    const before = state.requests;
    await until('three more probes', () => state.requests >= before + 3);
    expect(changes.length).toBe(1); // steady health: no event

    state.status = 500;
    await until('the flip to unhealthy', () => changes.length === 2);
    const [healthy, report] = changes[1] ?? [];
    expect(healthy).toBe(false);
    expect(report?.checks).toEqual([
      {
        name: `GET ${url}`,
        type: 'http',
        healthy: false,
        lastError: 'HTTP 500',
        lastCheckAt: expect.any(Number),
        consecutiveFailures: 1,
        consecutiveSuccesses: 0,
      },
    ]);
    expect(m.healthy).toBe(false);

    state.status = 302; // a redirect counts as healthy by default, as in Amalgam8
    await until('the flip back', () => changes.length === 3);
    expect(changes[2]?.[0]).toBe(true);
    expect(m.report().checks[0]?.lastError).toBe('HTTP 500'); // kept, for the record
  });

  it('honours healthyThreshold and unhealthyThreshold', async () => {
    const { state, port } = await appServer();
    const { m, changes } = monitor([
      { type: 'http', url: `http://127.0.0.1:${port}/`, ...fast, healthyThreshold: 3, unhealthyThreshold: 2 },
    ]);
    // Counted when each flip happens, not when the test gets to look (probes run on).
    const requestsAtFlip: number[] = [];
    m.on('change', () => requestsAtFlip.push(state.requests));
    await m.start();
    expect(m.healthy).toBe(false);
    expect(m.report().checks[0]).toMatchObject({ healthy: false, consecutiveSuccesses: 1 });

    await until('healthy', () => changes.length === 1);
    expect(requestsAtFlip).toEqual([3]);
    expect(changes[0]?.[1].checks[0]).toMatchObject({ healthy: true, consecutiveSuccesses: 3 });

    const failingFrom = state.requests;
    state.status = 503;
    await until('unhealthy', () => changes.length === 2);
    expect(changes[1]?.[0]).toBe(false);
    expect(changes[1]?.[1].checks[0]).toMatchObject({ consecutiveFailures: 2 });
    expect((requestsAtFlip[1] ?? 0) - failingFrom).toBeLessThanOrEqual(3); // 2, or 3 if one was in flight

    state.status = 200;
    await until('healthy again', () => changes.length === 3);
    expect(changes[2]?.[1].checks[0]).toMatchObject({ healthy: true, consecutiveSuccesses: 3 });
  });

  it('http: expectStatus and method', async () => {
    const { port } = await appServer();
    const { m } = monitor([
      { type: 'http', url: `http://127.0.0.1:${port}/`, method: 'HEAD', expectStatus: 204, ...fast },
    ]);
    await m.start();
    expect(m.report().checks[0]).toMatchObject({
      name: `HEAD http://127.0.0.1:${port}/`,
      healthy: false,
      lastError: 'HTTP 200 (expected 204)',
    });
  });

  it('http: a server that never answers fails at timeoutMs', async () => {
    const { state, port } = await appServer();
    state.hang = true;
    const { m } = monitor([{ type: 'http', url: `http://127.0.0.1:${port}/`, intervalMs: 10_000, timeoutMs: 250 }]);
    const started = Date.now();
    await m.start();
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(240);
    expect(took).toBeLessThan(1_500);
    expect(m.report().checks[0]).toMatchObject({ healthy: false, lastError: 'timed out after 250 ms' });
  });

  it('https: verifies the certificate unless insecure', async () => {
    const { port } = await appServer(createHttpsServer(selfSignedCertificate('localhost')));
    const url = `https://localhost:${port}/`;
    const { m } = monitor([
      { type: 'https', url, ...fast, name: 'verified' },
      { type: 'https', url, ...fast, name: 'insecure', insecure: true },
    ]);
    await m.start();
    const [verified, insecure] = m.report().checks;
    expect(verified).toMatchObject({ name: 'verified', type: 'https', healthy: false });
    expect(verified?.lastError).toMatch(/self[- ]signed/i);
    expect(insecure).toMatchObject({ name: 'insecure', healthy: true });
    expect(m.healthy).toBe(false); // one unhealthy check makes the app unhealthy
  });

  it('tcp: healthy while the port accepts, unhealthy once it is closed', async () => {
    const server = createTcpServer((socket) => socket.destroy());
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    closers.push(() => server.listening && new Promise((r) => server.close(r)));
    const port = (server.address() as AddressInfo).port;
    const { m, changes } = monitor([{ type: 'tcp', host: '127.0.0.1', port, ...fast }]);
    await m.start();
    expect(m.healthy).toBe(true);
    expect(m.report().checks[0]?.name).toBe(`127.0.0.1:${port}`);
    await new Promise((r) => server.close(r));
    await until('unhealthy', () => changes.length === 2);
    expect(changes[1]?.[0]).toBe(false);
    expect(m.report().checks[0]?.lastError).toMatch(/ECONNREFUSED/);
  });

  it('command: exit 0 is healthy; otherwise the exit code and last stderr line are the error', async () => {
    const flag = join(dir, 'fail');
    const script = `if [ -e ${flag} ]; then echo starting >&2; echo 'db down' >&2; exit 3; fi`;
    const { m, changes } = monitor([
      { type: 'command', cmd: ['sh', '-c', script], ...fast },
      { type: 'command', cmd: [node, '-e', 'process.exit(0)'], ...fast },
    ]);
    await m.start();
    expect(m.healthy).toBe(true);
    expect(m.report().checks.map((c) => c.name)).toEqual([`sh -c ${script}`, `${node} -e process.exit(0)`]);
    writeFileSync(flag, '');
    await until('unhealthy', () => changes.length === 2);
    expect(m.report().checks[0]?.lastError).toBe('exit code 3: db down');
    expect(m.report().checks[1]?.healthy).toBe(true);
  });

  it('command: a missing program is unhealthy', async () => {
    const { m } = monitor([{ type: 'command', cmd: ['/nonexistent/check'], ...fast }]);
    await m.start();
    expect(m.report().checks[0]?.lastError).toMatch(/ENOENT/);
  });

  it('command: killed with its whole process group at timeoutMs', async () => {
    const pidFile = join(dir, 'pid');
    const { m } = monitor([
      {
        type: 'command',
        cmd: ['sh', '-c', `echo $$ > ${pidFile}; sleep 30 & sleep 30`],
        intervalMs: 10_000,
        timeoutMs: 300,
      },
    ]);
    const started = Date.now();
    await m.start();
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(m.report().checks[0]).toMatchObject({ healthy: false, lastError: 'timed out after 300 ms' });
    expect(existsSync(pidFile)).toBe(true);
    const pgid = Number(readFileSync(pidFile, 'utf8'));
    // Zombies wait for the machine's init to reap them; no process of the group runs on.
    await until('the group to die', () => (memberStates(pgid) ?? []).every((s) => s === 'Z'), 1_000);
  });

  it('stop() ends probing and aborts a probe in flight', async () => {
    const { state, port } = await appServer();
    const { m, changes } = monitor([{ type: 'http', url: `http://127.0.0.1:${port}/`, ...fast }]);
    await m.start();
    state.hang = true;
    await until('a probe in flight', () => state.requests >= 2);
    m.stop();
    const requests = state.requests;
    state.hang = false;
    state.status = 500;
    await sleep(200);
    expect(state.requests).toBe(requests);
    expect(changes.length).toBe(1);
    expect(m.healthy).toBe(true);
  });

  it('names duplicate checks apart', () => {
    const check: HealthCheck = { type: 'tcp', host: '::1', port: 80 };
    expect(new HealthMonitor([check, check]).report().checks.map((c) => c.name)).toEqual(['[::1]:80', '[::1]:80 #2']);
  });

  it('refuses bad checks, naming every problem', () => {
    let error: unknown;
    try {
      new HealthMonitor([
        { type: 'http', url: 'https://x/', intervalMs: 0 },
        { type: 'tcp', host: '', port: 70_000, healthyThreshold: 1.5 },
        { type: 'command', cmd: [] },
      ]);
    } catch (e) {
      error = e;
    }
    expect(isWeftError(error, 'WEFT_ERR_INVALID_ARGUMENT')).toBe(true);
    const message = (error as Error).message;
    for (const path of ['[0].intervalMs', '[0].url', '[1].healthyThreshold', '[1].host', '[1].port', '[2].cmd'])
      expect(message).toContain(`${path}:`);
  });
});
