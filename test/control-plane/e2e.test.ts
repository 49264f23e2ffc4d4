/**
 * The control plane end to end, everything real and on loopback: a registry server and a rules
 * controller (`@weft/servers`, file stores); `reviews` v1 and v2, two Node services that register
 * themselves with RegistrationClient; a caller on MeshAgent and a Sidecar, both fed by one
 * Discovery over WeftRegistrySource and one rulesRouter following WeftRulesSource.
 *
 * A route change made with an HTTP call to the controller shifts traffic through both within a
 * second; with the control plane stopped, traffic keeps flowing on the last-known-good endpoints
 * and rules; started again on the same ports and files, everything converges to the next change.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RegistrationClient, WeftRegistrySource, WeftRulesSource } from '@weft/adapters/weft';
import { Discovery } from '@weft/core';
import { MeshAgent, rulesRouter, Sidecar } from '@weft/proxy';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allTo, FAST, listInstances, RecordingLogger, setRoutes, tempDir, until } from './helpers.js';
import { type ServerHandle, startController, startRegistry } from './servers.js';

/** A `reviews` instance: answers every request with its version. */
async function reviews(version: string): Promise<{ server: Server; port: number }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ version }));
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

describe('control plane end to end', () => {
  const teardown: Array<() => Promise<unknown> | unknown> = [];
  let registry: ServerHandle;
  let controller: ServerHandle;
  let discovery: Discovery;
  let following: ReturnType<WeftRulesSource['follow']>;
  let mesh: MeshAgent;
  let sidecarPort: number;
  const registrations: RegistrationClient[] = [];

  beforeAll(async () => {
    const tmp = await tempDir('weft-e2e-');
    teardown.push(tmp.remove);
    registry = await startRegistry({ dir: tmp.dir });
    controller = await startController({ dir: tmp.dir });
    teardown.push(
      () => registry.stop(),
      () => controller.stop(),
    );
    await setRoutes(controller.url, 'reviews', [allTo('reviews', 'v1')]);

    for (const version of ['v1', 'v2']) {
      const svc = await reviews(version);
      teardown.push(() => new Promise((r) => svc.server.close(r)));
      const registration = new RegistrationClient({
        url: registry.url,
        registration: {
          service: 'reviews',
          endpoint: { host: '127.0.0.1', port: svc.port },
          tags: [`version=${version}`],
        },
        logger: new RecordingLogger(),
        ...FAST,
      });
      registrations.push(registration);
      teardown.push(() => registration.close());
      await registration.start();
    }

    const logger = new RecordingLogger();
    const instances = new WeftRegistrySource({ url: registry.url, logger, ...FAST });
    discovery = new Discovery({ sources: [instances] });
    const rules = new WeftRulesSource({ url: controller.url, logger, ...FAST });
    const router = rulesRouter([]);
    following = rules.follow(router);
    mesh = new MeshAgent({ discovery, router, identity: { name: 'productpage', tags: ['version=v1'] } });
    const sidecar = new Sidecar({ discovery, router, port: 0, admin: false, accessLog: false });
    sidecarPort = (await sidecar.listen()).port;
    teardown.push(
      () => sidecar.close(),
      () => mesh.close(),
      () => following.unsubscribe(),
      () => rules.close(),
      () => discovery.close(),
      () => instances.close(),
    );
    await Promise.all([discovery.ready(), following.ready()]);
    await until(() => discovery.endpoints('reviews').instances.length === 2, 'both reviews instances in Discovery');
  });

  afterAll(async () => {
    for (const t of teardown.reverse()) await t();
  });

  const version = async (url: string, dispatcher?: MeshAgent): Promise<string> => {
    const res = await request(url, dispatcher === undefined ? {} : { dispatcher });
    const body = (await res.body.json()) as { version?: string };
    if (res.statusCode !== 200) throw new Error(`${url}: HTTP ${res.statusCode} ${JSON.stringify(body)}`);
    return body.version ?? '?';
  };
  const viaMesh = () => version('http://reviews/', mesh);
  const viaSidecar = () => version(`http://127.0.0.1:${sidecarPort}/reviews/`);

  /** `n` calls through each path; the versions that answered. */
  async function traffic(n = 20): Promise<{ mesh: Set<string>; sidecar: Set<string> }> {
    const out = { mesh: new Set<string>(), sidecar: new Set<string>() };
    for (let i = 0; i < n; i++) {
      out.mesh.add(await viaMesh());
      out.sidecar.add(await viaSidecar());
    }
    return out;
  }

  /** Calls both paths until both answer `want` (and then keep answering it); resolves to the time taken. */
  async function shiftTo(want: string, timeoutMs: number): Promise<number> {
    const took = await until(
      async () => (await viaMesh()) === want && (await viaSidecar()) === want,
      `all traffic on ${want}`,
      timeoutMs,
    );
    const after = await traffic(10);
    expect([...after.mesh]).toEqual([want]);
    expect([...after.sidecar]).toEqual([want]);
    return took;
  }

  it('starts with every call on v1, as the rules say', async () => {
    const seen = await traffic();
    expect([...seen.mesh]).toEqual(['v1']);
    expect([...seen.sidecar]).toEqual(['v1']);
  });

  it('shifts all traffic to v2 within a second of a rule change made over HTTP', async () => {
    await setRoutes(controller.url, 'reviews', [allTo('reviews', 'v2')]);
    const took = await shiftTo('v2', 1_000);
    expect(took).toBeLessThan(1_000);
  });

  it('keeps traffic flowing on the last-known-good endpoints and rules while the control plane is down', async () => {
    await Promise.all([registry.stop(), controller.stop()]);
    await until(() => discovery.endpoints('reviews').stale && following.stale, 'both sources to notice the outage');
    const seen = await traffic();
    expect([...seen.mesh]).toEqual(['v2']);
    expect([...seen.sidecar]).toEqual(['v2']);
    expect(discovery.endpoints('reviews').instances).toHaveLength(2);
  });

  it('converges to a new rule change once the control plane is back on the same ports and files', async () => {
    await Promise.all([registry.start(), controller.start()]);
    // The registrations survived in the registry's file, and their heartbeats resumed.
    await until(async () => (await listInstances(registry.url)).length === 2, 'both registrations in the registry');
    await setRoutes(controller.url, 'reviews', [allTo('reviews', 'v1')]);
    await shiftTo('v1', 5_000);
    await until(() => !discovery.endpoints('reviews').stale && !following.stale, 'the stale marks to clear', 5_000);
    const ids = new Set(discovery.endpoints('reviews').instances.map((i) => i.id));
    expect(ids).toEqual(new Set(registrations.map((r) => r.id)));
  });
});
