/**
 * `weft sidecar` against a replicated control plane: `A8_REGISTRY_URL` lists three replicas (the
 * first of which never answers; the other two real control-plane servers sharing one registry and
 * one rules store). The sidecar registers the app, follows the endpoints and the rules, and when
 * the replica it uses crashes, its heartbeats and its streams go on with the last one: the app
 * stays registered past its TTL, the proxy keeps routing, a rules change made through the
 * surviving replica takes effect, and SIGTERM deregisters through it.
 */
import { createServer, type Server } from 'node:http';
import { MemoryRegistry } from '@weft/core';
import { MemoryRulesStore } from '@weft/servers';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { allTo, listInstances, setRoutes } from '../control-plane/helpers.js';
import { type Replica, startReplica } from '../control-plane/replicas.js';
import { startWeft, type WeftProcess } from '../servers-cli/weft-process.js';
import { freePort, get, health, sidecarUrls, until } from './helpers.js';

const registry = new MemoryRegistry({ ttl: { minSeconds: 1, defaultSeconds: 30, maxSeconds: 600 } });
const rulesStore = new MemoryRulesStore();
let a: Replica;
let b: Replica;
let app: Server;
let appPort: number;
let sidecar: { process: WeftProcess; proxy: string; admin: string };

beforeAll(async () => {
  [a, b] = await Promise.all([startReplica({ registry, rulesStore }), startReplica({ registry, rulesStore })]);
  const dead = `http://127.0.0.1:${await freePort()}`;
  app = createServer((req, res) => res.end(`app saw ${req.url}`));
  await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
  appPort = (app.address() as { port: number }).port;
  // v1 has the app; v2 names no instance, so a request routed there fails (and shows the rules took effect).
  await setRoutes(a.url, 'rep-web', [allTo('rep-web', 'v1')]);
  const process = startWeft(
    [
      'sidecar',
      '--registry-ttl',
      '2s',
      '--endpoint-host',
      '127.0.0.1',
      '--proxy-port',
      '0',
      '--admin-port',
      '0',
      '--log-level',
      'warn',
    ],
    {
      env: {
        A8_REGISTRY_URL: `${dead}, ${a.url},${b.url}`,
        A8_SERVICE: 'rep-web:version=v1',
        A8_ENDPOINT_PORT: String(appPort),
      },
    },
  );
  sidecar = { process, ...(await sidecarUrls(process)) };
}, 60_000);

afterAll(async () => {
  if (sidecar?.process.child.exitCode === null) sidecar.process.child.kill('SIGKILL');
  await sidecar?.process.exited;
  await new Promise((r) => app?.close(r));
  await Promise.all([a?.close(), b?.close()]);
  registry.close();
});

const listed = async () => (await listInstances(b.url)).filter((i) => i.service_name === 'rep-web');
const routed = async () => get(`${sidecar.proxy}/rep-web/hello`);

it('registers and routes through the replicas that answer, past a crash of the one in use', async () => {
  await until('the app registered', async () => ((await listed()).length === 1 ? true : undefined));
  await until('the proxy to route to the app', async () => ((await routed()).status === 200 ? true : undefined));
  // The first URL never answered: everything went to the second.
  expect(a.seen.some((r) => r.method === 'POST' && r.url === '/api/v1/instances')).toBe(true);
  expect(a.streams().length).toBeGreaterThanOrEqual(2);

  await a.kill();
  await setRoutes(b.url, 'rep-web', [allTo('rep-web', 'v2')]);
  await until('the rules changed through the surviving replica', async () =>
    (await routed()).status !== 200 ? true : undefined,
  );
  await setRoutes(b.url, 'rep-web', [allTo('rep-web', 'v1')]);
  await until('the rules changed back', async () => ((await routed()).status === 200 ? true : undefined));
  // Past the TTL (2 s) with its replica gone: the heartbeats went to the surviving one.
  await new Promise((r) => setTimeout(r, 2_500));
  expect(await listed()).toHaveLength(1);
  expect(b.seen.some((r) => r.method === 'PUT' && r.url.endsWith('/heartbeat'))).toBe(true);
  expect((await health(sidecar.admin)).registration).toMatchObject({ state: 'registered', registrations: 1 });
}, 30_000);

it('deregisters through the surviving replica on SIGTERM', async () => {
  sidecar.process.child.kill('SIGTERM');
  expect(await sidecar.process.exited).toBe(0);
  expect(await listed()).toEqual([]);
});
