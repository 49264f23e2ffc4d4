/**
 * The registry's Eureka API with real Eureka clients: py_eureka_client (PyPI, in a venv, driven by
 * eureka-client/driver.py) and Netflix's own eureka-client (Maven Central, the one Spring Cloud
 * wraps; eureka-client-java/), both provisioned by `.ci/provision-servers.sh`. Each registers,
 * heartbeats, fetches the registry and then deltas, and discovers instances registered through
 * Amalgam8's /api/v1; the Node side checks the same registry through /api/v1 and the server's own
 * request log. A client's test skips, saying why, only when its language (python3, java + mvn) is
 * missing.
 */
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createRegistryServer, type RegistryServer } from '../../packages/servers/src/registry/index.js';
import { json, listen, send } from './helpers.js';

const here = dirname(fileURLToPath(import.meta.url));
const cache = process.env.WEFT_SERVERS_CACHE ?? join(homedir(), '.cache', 'weft-servers');
const venvPython = join(cache, 'pyenv', 'eureka', 'bin', 'python');
const driverScript = join(here, 'eureka-client', 'driver.py');
const hasPython = spawnSync('python3', ['--version']).status === 0;
if (!hasPython) console.warn('[eureka.test] SKIPPED: python3 is not installed, so py_eureka_client cannot run');
const javaBuild = join(cache, 'java-eureka');
const hasJava = spawnSync('java', ['-version']).status === 0 && spawnSync('mvn', ['-v']).status === 0;
if (!hasJava) console.warn('[eureka.test] SKIPPED: java or mvn is not installed, so Netflix eureka-client cannot run');

interface Said {
  event: string;
  [key: string]: unknown;
}

/** A client driver (Python or Java): one command per line in, one JSON event per line out. */
class Driver {
  private readonly lines: Interface;
  private readonly queue: Said[] = [];
  private waiter: ((said: Said) => void) | undefined;
  stderr = '';

  constructor(readonly child: ChildProcessWithoutNullStreams) {
    this.lines = createInterface({ input: child.stdout });
    this.lines.on('line', (line) => {
      if (!line.startsWith('{"event"')) {
        this.stderr += `${line}\n`; // not an answer: keep it for the failure message
        return;
      }
      const said = JSON.parse(line) as Said;
      if (this.waiter !== undefined) {
        const w = this.waiter;
        this.waiter = undefined;
        w(said);
      } else this.queue.push(said);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString('utf8');
    });
  }

  /** Sends a command and waits for its answer. */
  async ask(command: string, timeoutMs = 40_000): Promise<Said> {
    this.child.stdin.write(`${command}\n`);
    const queued = this.queue.shift();
    if (queued !== undefined) return queued;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`driver did not answer "${command}"; stderr:\n${this.stderr}`)),
        timeoutMs,
      );
      this.waiter = (said) => {
        clearTimeout(timer);
        resolve(said);
      };
    });
  }
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A registry server on loopback whose every request is logged (method, url, status). */
async function startServer(): Promise<{ server: RegistryServer; base: string; requests: string[] }> {
  const server = await createRegistryServer({});
  const requests: string[] = [];
  server.addHook('onResponse', async (request, reply) => {
    requests.push(`${request.method} ${request.url.split('?')[0]} ${reply.statusCode}`);
  });
  const base = await listen(server);
  cleanups.push(() => server.close());
  return { server, base, requests };
}

/** A tiny HTTP service that says who it is: the instance registered through /api/v1. */
async function startReviews(): Promise<number> {
  const http: Server = createServer((_request, response) => response.end('reviews v1 says hi'));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => http.close(() => resolve())));
  const address = http.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

function startDriver(eurekaUrl: string, app: string, port: number): Driver {
  if (!existsSync(venvPython))
    throw new Error(
      `py_eureka_client is not installed at ${venvPython}: run \`bash .ci/provision-servers.sh pyeureka\``,
    );
  return spawnDriver(venvPython, [driverScript, eurekaUrl, app, String(port)]);
}

function startJavaDriver(eurekaUrl: string, app: string, port: number): Driver {
  const classpath = join(javaBuild, 'classpath.txt');
  if (!existsSync(classpath))
    throw new Error(
      `Netflix eureka-client is not built in ${javaBuild}: run \`bash .ci/provision-servers.sh javaeureka\``,
    );
  const cp = `${join(javaBuild, 'target', 'classes')}:${readFileSync(classpath, 'utf8').trim()}`;
  return spawnDriver('java', ['-cp', cp, 'weft.EurekaDriver', eurekaUrl, app, String(port)]);
}

function spawnDriver(command: string, args: string[]): Driver {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  cleanups.push(() => {
    child.kill('SIGKILL');
  });
  return new Driver(child);
}

const count = (requests: readonly string[], pattern: RegExp): number => requests.filter((r) => pattern.test(r)).length;

describe.skipIf(!hasPython)('Eureka API with py_eureka_client', () => {
  it('registers, heartbeats, fetches deltas, and discovers an instance registered through /api/v1', async () => {
    const { base, requests } = await startServer();
    const reviewsPort = await startReviews();
    const driver = startDriver(`${base}/eureka/v2`, 'py-svc', 18080);

    expect(await driver.ask('start')).toEqual({ event: 'started' });
    // The client's registration, as Amalgam8's API shows it: one registry.
    const registered = json<{ instances: Record<string, unknown>[] }>(
      await send(base, '/api/v1/instances?service_name=py-svc'),
    ).instances;
    expect(registered).toHaveLength(1);
    expect(registered[0]).toMatchObject({
      service_name: 'py-svc',
      endpoint: { type: 'http', value: '127.0.0.1:18080' },
      ttl: 30,
      status: 'UP',
      tags: ['version=v2', 'python'],
      metadata: { version: 'v2', 'weft.tags': 'python', 'management.port': '18080' },
    });
    expect(registered[0]?.metadata).toMatchObject({
      _eureka: {
        instanceId: '127.0.0.1:py-svc:18080',
        renewalIntervalInSecs: 1,
        status: 'UP',
      },
    });
    expect(count(requests, /^POST \/eureka\/v2\/apps\/PY-SVC 204$/)).toBe(1);
    expect(count(requests, /^GET \/eureka\/v2\/apps\/ 200$/)).toBe(1);

    // Registered through /api/v1 after the client's full fetch: it can only arrive by a delta.
    const a8 = await send(base, '/api/v1/instances', {
      body: {
        service_name: 'reviews',
        endpoint: { type: 'http', value: `127.0.0.1:${reviewsPort}` },
        tags: ['version=v1'],
        metadata: { owner: 'books' },
      },
    });
    expect(a8.status).toBe(201);
    const a8Id = json<{ id: string }>(a8).id;
    const seen = await driver.ask('wait-app REVIEWS present');
    expect(seen.event, `requests:\n${requests.join('\n')}\nclient:\n${driver.stderr}`).toBe('app');
    expect(seen.instances).toEqual([
      expect.objectContaining({
        instanceId: a8Id,
        app: 'REVIEWS',
        ipAddr: '127.0.0.1',
        port: reviewsPort,
        portEnabled: true,
        status: 'UP',
        vipAddress: 'reviews',
        metadata: { owner: 'books', 'weft.tags': 'version=v1' },
      }),
    ]);
    // The server's own log: the client fetched a delta, heartbeat, and fetched everything once
    // more — py_eureka_client cannot merge a delta that brings a new application (its
    // get_application never answers None), so its reconcile hash differs and it refetches: the
    // hash doing its job. Changes to applications it holds merge from deltas alone (below).
    const fullFetches = /^GET \/eureka\/v2\/apps\/ 200$/;
    expect(count(requests, /^GET \/eureka\/v2\/apps\/delta 200$/)).toBeGreaterThanOrEqual(1);
    expect(count(requests, fullFetches), requests.join('\n')).toBe(2);
    expect(
      count(requests, /^PUT \/eureka\/v2\/apps\/PY-SVC\/127\.0\.0\.1%3Apy-svc%3A18080 200$/),
    ).toBeGreaterThanOrEqual(1);

    // Discovery that works: the client picks the instance from its copy and calls it.
    expect(await driver.ask('call REVIEWS /')).toEqual({ event: 'called', body: 'reviews v1 says hi' });

    // A second instance (ADDED), a status change (MODIFIED) and a deregistration (DELETED), all
    // through /api/v1, reach the client's copy by deltas alone: no further full fetch, so after
    // each merge the client's hash matched the server's apps__hashcode.
    const second = await send(base, '/api/v1/instances', {
      body: { service_name: 'reviews', endpoint: { type: 'http', value: '127.0.0.1:9' }, tags: ['version=v2'] },
    });
    const secondId = json<{ id: string }>(second).id;
    expect(await driver.ask(`wait-app REVIEWS present ${secondId}`)).toMatchObject({ event: 'app' });

    expect(
      (await send(base, `/api/v1/instances/${a8Id}/status`, { method: 'PUT', body: { status: 'OUT_OF_SERVICE' } }))
        .status,
    ).toBe(200);
    const deadline = Date.now() + 20_000;
    let status: unknown;
    while (Date.now() < deadline) {
      const held = (await driver.ask('wait-app REVIEWS present')).instances as { instanceId: string; status: string }[];
      status = held.find((i) => i.instanceId === a8Id)?.status;
      if (status === 'OUT_OF_SERVICE') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(status).toBe('OUT_OF_SERVICE');

    expect((await send(base, `/api/v1/instances/${a8Id}`, { method: 'DELETE' })).status).toBe(200);
    expect(await driver.ask(`wait-app REVIEWS absent ${a8Id}`)).toMatchObject({
      event: 'app',
      instances: [expect.objectContaining({ instanceId: secondId })],
    });
    expect(count(requests, fullFetches), requests.join('\n')).toBe(2);

    // Removed behind the client's back: its next heartbeat gets 404, and it registers again.
    const pyId = registered[0]?.id as string;
    expect((await send(base, `/api/v1/instances/${pyId}`, { method: 'DELETE' })).status).toBe(200);
    const back = Date.now() + 20_000;
    let again: unknown[] = [];
    while (Date.now() < back && again.length === 0) {
      await new Promise((r) => setTimeout(r, 250));
      again = json<{ instances: unknown[] }>(await send(base, '/api/v1/instances?service_name=py-svc')).instances;
    }
    expect(again).toHaveLength(1);
    expect(
      count(requests, /^PUT \/eureka\/v2\/apps\/PY-SVC\/127\.0\.0\.1%3Apy-svc%3A18080 404$/),
    ).toBeGreaterThanOrEqual(1);
    expect(count(requests, /^POST \/eureka\/v2\/apps\/PY-SVC 204$/)).toBeGreaterThanOrEqual(2);

    // The client's own status update is an override, seen through /api/v1 as Weft's status.
    expect(await driver.ask('status OUT_OF_SERVICE')).toEqual({ event: 'status', value: 'OUT_OF_SERVICE' });
    const parked = json<{ instances: { status: string }[] }>(
      await send(base, '/api/v1/instances?service_name=py-svc&status=ALL'),
    ).instances;
    expect(parked[0]?.status).toBe('OUT_OF_SERVICE');

    // Stop: DOWN, then cancel (DELETE) — the registration is gone.
    expect(await driver.ask('stop')).toEqual({ event: 'stopped' });
    expect(count(requests, /^DELETE \/eureka\/v2\/apps\/PY-SVC\/127\.0\.0\.1%3Apy-svc%3A18080 200$/)).toBe(1);
    expect(
      json<{ instances: unknown[] }>(await send(base, '/api/v1/instances?service_name=py-svc&status=ALL')).instances,
    ).toEqual([]);
  }, 90_000);
});

describe.skipIf(!hasJava)("Eureka API with Netflix's eureka-client (Java)", () => {
  it('registers, heartbeats, and follows /api/v1 changes by JSON deltas without refetching', async () => {
    const { base, requests } = await startServer();
    const driver = startJavaDriver(`${base}/eureka/v2/`, 'java-svc', 18081);
    expect(await driver.ask('start', 60_000)).toEqual({ event: 'started' });
    // Its own registration, back from its own fetches: registered (JSON), fetched, parsed.
    const own = await driver.ask('wait-app JAVA-SVC present java-1');
    expect(own, driver.stderr).toMatchObject({
      event: 'app',
      instances: [{ instanceId: 'java-1', ipAddr: '127.0.0.1', port: 18081, status: 'UP', vipAddress: 'java-svc' }],
    });
    const registered = json<{ instances: Record<string, unknown>[] }>(
      await send(base, '/api/v1/instances?service_name=java-svc'),
    ).instances;
    expect(registered[0]).toMatchObject({
      endpoint: { type: 'http', value: '127.0.0.1:18081' },
      ttl: 30,
      tags: ['version=v5'],
    });

    // Netflix's client merges a delta that brings a new application (py_eureka_client cannot), so
    // from here on every change must arrive by delta alone: the full-fetch count must not move.
    const fullFetches = /^GET \/eureka\/v2\/apps\/ 200$/;
    const before = count(requests, fullFetches);
    const a8 = await send(base, '/api/v1/instances', {
      body: { service_name: 'reviews', endpoint: { type: 'http', value: '127.0.0.1:9080' }, tags: ['version=v1'] },
    });
    const a8Id = json<{ id: string }>(a8).id;
    expect(await driver.ask('wait-app REVIEWS present')).toMatchObject({
      event: 'app',
      instances: [{ instanceId: a8Id, port: 9080, status: 'UP', metadata: { 'weft.tags': 'version=v1' } }],
    });
    expect((await send(base, `/api/v1/instances/${a8Id}`, { method: 'DELETE' })).status).toBe(200);
    expect(await driver.ask('wait-app REVIEWS absent')).toMatchObject({ event: 'app', instances: [] });
    expect(count(requests, /^GET \/eureka\/v2\/apps\/delta 200$/)).toBeGreaterThanOrEqual(2);
    expect(count(requests, fullFetches), requests.join('\n')).toBe(before);
    expect(count(requests, /^PUT \/eureka\/v2\/apps\/JAVA-SVC\/java-1 200$/)).toBeGreaterThanOrEqual(1);

    expect(await driver.ask('stop')).toEqual({ event: 'stopped' });
    expect(count(requests, /^DELETE \/eureka\/v2\/apps\/JAVA-SVC\/java-1 200$/)).toBe(1);
    expect(
      json<{ instances: unknown[] }>(await send(base, '/api/v1/instances?service_name=java-svc')).instances,
    ).toEqual([]);
  }, 120_000);
});
