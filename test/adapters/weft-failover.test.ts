/**
 * The Weft clients against a replicated control plane: several real control-plane servers on
 * loopback serving one registry and one rules store (replicas sharing a store: the same data at
 * the same revisions). Replicas are closed, crashed mid-stream and hung while a registry source
 * and a rules source follow and a registration client heartbeats: the sources keep converging
 * with revisions that only go up (no change missed, none delivered twice), and the registration
 * never expires. A replica with a store of its own, behind, is never let through.
 */
import {
  type AdapterLogger,
  type AdapterWarning,
  RegistrationClient,
  type RegistrationReason,
  type RulesUpdate,
  WeftRegistrySource,
  WeftRulesSource,
} from '@weft/adapters/weft';
import { MemoryRegistry, type SourceSnapshot } from '@weft/core';
import { type RulesRouter, rulesRouter } from '@weft/proxy';
import { MemoryRulesStore } from '@weft/servers';
import { afterEach, describe, expect, it } from 'vitest';
import { allTo, FAST, listInstances, register, setRoutes, until } from '../control-plane/helpers.js';
import { type Replica, startReplica } from '../control-plane/replicas.js';

/** Collects warnings and debug events. */
class Log implements AdapterLogger {
  readonly warnings: AdapterWarning[] = [];
  readonly debugs: string[] = [];
  warn(w: AdapterWarning): void {
    this.warnings.push(w);
  }
  debug(message: string): void {
    this.debugs.push(message);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The version tag the router sends a plain GET of `service` to. */
function routedTo(router: RulesRouter, service: string): string | undefined {
  const plan = router.route({ service, method: 'GET', path: '/', headers: {}, source: undefined });
  if ('failure' in plan) throw new Error(plan.message);
  return plan.backendTags[0];
}

/** Each revision above the one before: none went back, none came twice. */
function expectRising(revisions: ReadonlyArray<unknown>): void {
  expect(revisions.every((r) => typeof r === 'number')).toBe(true);
  for (let i = 1; i < revisions.length; i++) expect(revisions[i] as number).toBeGreaterThan(revisions[i - 1] as number);
}

/** One shared store pair, as replicas over one etcd see it. */
function sharedStores() {
  // TTLs down to a second, so a lost heartbeat would show within the test.
  const registry = new MemoryRegistry({ ttl: { minSeconds: 1, defaultSeconds: 30, maxSeconds: 600 } });
  const rulesStore = new MemoryRulesStore();
  return { registry, rulesStore };
}

describe('Weft clients over control-plane replicas', () => {
  const cleanup: Array<() => unknown> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  async function replicas(stores: ReturnType<typeof sharedStores>, n: number): Promise<Replica[]> {
    const started = await Promise.all(Array.from({ length: n }, () => startReplica(stores)));
    for (const r of started) cleanup.push(() => r.close());
    return started;
  }

  /** A registry source and a rules source following `urls`, recording what they deliver. */
  function followers(urls: string[]) {
    const log = new Log();
    const source = new WeftRegistrySource({ url: urls, logger: log, ...FAST });
    const snapshots: SourceSnapshot[] = [];
    const errors: Error[] = [];
    const sub = source.subscribe({ next: (s) => snapshots.push(s), error: (e) => errors.push(e) });
    const rules = new WeftRulesSource({ url: urls, logger: log, ...FAST });
    const router = rulesRouter([]);
    const updates: RulesUpdate[] = [];
    const following = rules.follow(router, { onUpdate: (u) => updates.push(u) });
    cleanup.push(async () => {
      sub.unsubscribe();
      following.unsubscribe();
      await Promise.all([source.close(), rules.close()]);
    });
    const has = (service: string, value: string) =>
      snapshots.at(-1)?.instances.some((i) => i.service === service && i.endpoint.value === value) ?? false;
    const everHad = (service: string) => snapshots.some((s) => s.instances.some((i) => i.service === service));
    return { log, snapshots, errors, router, updates, has, everHad };
  }

  function registration(urls: string[], value: string, ttl: number, extra: { requestTimeoutMs?: number } = {}) {
    const log = new Log();
    const client = new RegistrationClient({
      url: urls,
      registration: { service: 'failover-app', endpoint: { type: 'http', value }, ttl },
      logger: log,
      ...FAST,
      ...extra,
    });
    const reasons: RegistrationReason[] = [];
    const errors: Error[] = [];
    client.on('registered', (_instance, reason) => reasons.push(reason));
    client.on('error', (e) => errors.push(e));
    cleanup.push(() => client.close());
    return { client, log, reasons, errors };
  }

  it('follows and heartbeats through a crashed replica and a closed one, missing nothing and repeating nothing', async () => {
    const stores = sharedStores();
    cleanup.push(() => stores.registry.close());
    const [a, b, c] = (await replicas(stores, 3)) as [Replica, Replica, Replica];
    const urls = [a.url, b.url, c.url];
    const f = followers(urls);
    const reg = registration(urls, '10.9.0.1:80', 2); // heartbeats every ~667 ms
    await reg.client.start();
    await setRoutes(a.url, 'fo-dest', [allTo('fo-dest', 'v1')]);
    await until(() => f.has('failover-app', '10.9.0.1:80'), 'the registration in the source');
    await until(() => routedTo(f.router, 'fo-dest') === 'version=v1', 'the first rules');
    // Everything is on the first replica, so the crash below hits open streams and the heartbeats.
    expect(a.streams().length).toBeGreaterThanOrEqual(2);
    expect(b.seen).toHaveLength(0);
    const heldAtCrash = f.snapshots.at(-1)?.revision as number;

    await a.kill();
    await register(b.url, 'fo-svc', '10.9.1.1:80');
    await until(() => f.has('fo-svc', '10.9.1.1:80'), 'a registration made through the second replica', 5_000);
    await setRoutes(b.url, 'fo-dest', [allTo('fo-dest', 'v2')]);
    await until(() => routedTo(f.router, 'fo-dest') === 'version=v2', 'a rules change made through the second replica');
    // The streams resumed on the second replica from the revisions they held.
    const resumed = b.streams().map((r) => r.lastEventId);
    expect(resumed.length).toBeGreaterThanOrEqual(2);
    expect(resumed.every((id) => id !== undefined && /^\d+$/.test(id))).toBe(true);
    const registryStream = b.streams().find((r) => r.url.startsWith('/api/v1/instances'));
    expect(Number(registryStream?.lastEventId)).toBeGreaterThanOrEqual(heldAtCrash);

    await b.close();
    await register(c.url, 'fo-svc', '10.9.1.2:80');
    await until(() => f.has('fo-svc', '10.9.1.2:80'), 'a registration made through the third replica', 5_000);
    await setRoutes(c.url, 'fo-dest', [allTo('fo-dest', 'v3')]);
    await until(() => routedTo(f.router, 'fo-dest') === 'version=v3', 'a rules change made through the third replica');

    // Past the TTL with two replicas gone: the heartbeats found the third in time.
    await sleep(2_500);
    expect((await listInstances(c.url)).map((i) => i.endpoint.value)).toContain('10.9.0.1:80');
    expect(reg.reasons).toEqual(['start']); // never expired, so never registered again
    expect(c.seen.some((r) => r.method === 'PUT' && r.url.endsWith('/heartbeat'))).toBe(true);
    expect(reg.log.debugs.some((m) => m.includes(`failed on the replica ${a.url}/`))).toBe(true);

    // Revisions only went up, each delivered once; and with one replica always up, the consumers
    // never saw an outage.
    expectRising(f.snapshots.map((s) => s.revision));
    expectRising(f.updates.map((u) => u.revision));
    expect(f.errors).toEqual([]);
    expect(f.log.debugs.some((m) => m.includes(`the replica ${a.url}/ failed`))).toBe(true);
  });

  it('never delivers the older state of a lagging replica, and converges when a current one is back', async () => {
    const stores = sharedStores();
    cleanup.push(() => stores.registry.close());
    const [a] = (await replicas(stores, 1)) as [Replica];
    // The shared store is well ahead of the lagging replica's own.
    for (let i = 1; i <= 6; i++) await register(a.url, 'lag-churn', `10.10.0.${i}:80`);
    for (const v of ['v1', 'v2', 'v3']) await setRoutes(a.url, 'lag-dest', [allTo('lag-dest', v)]);
    const behind = sharedStores();
    cleanup.push(() => behind.registry.close());
    const [lag] = (await replicas(behind, 1)) as [Replica];
    await register(lag.url, 'lag-old', '10.10.9.9:80');
    await setRoutes(lag.url, 'lag-dest', [allTo('lag-dest', 'old')]);

    const f = followers([a.url, lag.url]);
    await until(() => f.has('lag-churn', '10.10.0.6:80'), 'the current state');
    await until(() => routedTo(f.router, 'lag-dest') === 'version=v3', 'the current rules');
    const held = f.snapshots.at(-1)?.revision as number;
    const heldRules = f.updates.at(-1)?.revision as number;

    const port = a.port;
    await a.kill();
    // Both sources now find only the lagging replica: they refuse its state and say so.
    await until(
      () => f.log.debugs.filter((m) => m.includes(`${lag.url}/ serves revision`)).length >= 2,
      'both sources to notice the lagging replica',
    );
    await sleep(500);
    expect(f.everHad('lag-old')).toBe(false);
    expect(routedTo(f.router, 'lag-dest')).toBe('version=v3');
    expect(f.snapshots.at(-1)?.revision).toBe(held);
    expect(f.updates.at(-1)?.revision).toBe(heldRules);
    // No consumer was told of a regression either (that would be a warning).
    expect(f.log.warnings.map((w) => w.code)).not.toContain('WEFT_WARN_WATCH_RELIST');
    expect(f.log.warnings.map((w) => w.code)).not.toContain('WEFT_WARN_WEFT_REVISION_BEHIND');

    // A current replica comes back: both converge on what changed meanwhile.
    const back = await startReplica(stores, port);
    cleanup.push(() => back.close());
    await register(back.url, 'lag-new', '10.10.1.1:80');
    await setRoutes(back.url, 'lag-dest', [allTo('lag-dest', 'v4')]);
    await until(() => f.has('lag-new', '10.10.1.1:80'), 'the change made on the replica that came back', 8_000);
    await until(() => routedTo(f.router, 'lag-dest') === 'version=v4', 'the rules changed meanwhile', 8_000);
    expect(f.everHad('lag-old')).toBe(false);
    expectRising(f.snapshots.map((s) => s.revision));
    expectRising(f.updates.map((u) => u.revision));
  });

  it('sends a heartbeat that hangs on one replica to the next ones in time to keep the TTL', async () => {
    const stores = sharedStores();
    cleanup.push(() => stores.registry.close());
    const [h1, h2, ok] = (await replicas(stores, 3)) as [Replica, Replica, Replica];
    // TTL 3 s, a heartbeat every second: after one, 2 s are left for three replicas, two of them
    // hung. Attempts of a full interval each (1 s) would use it all up; the client's share (2/3 s) does not.
    const reg = registration([h1.url, h2.url, ok.url], '10.11.0.1:80', 3);
    await reg.client.start();
    h1.hang = true;
    h2.hang = true;
    await until(
      () => ok.seen.some((r) => r.url.endsWith('/heartbeat')),
      'a heartbeat on the replica that answers',
      4_000,
    );
    await sleep(3_500); // past the TTL
    expect(reg.reasons).toEqual(['start']);
    expect((await listInstances(ok.url)).map((i) => i.endpoint.value)).toContain('10.11.0.1:80');
    expect(h1.seen.filter((r) => r.url.endsWith('/heartbeat')).length).toBeGreaterThan(0);
    expect(h2.seen.filter((r) => r.url.endsWith('/heartbeat')).length).toBeGreaterThan(0);
    expect(reg.errors).toEqual([]); // a replica failing is not an outage while another answers
  });

  it('still takes a single URL, and refuses an empty list or a bad replica, naming it', () => {
    expect(() => new WeftRegistrySource({ url: [] })).toThrow(/url: must list at least one base URL/);
    expect(() => new WeftRulesSource({ url: ['http://a:1', 'ftp://b:2'] })).toThrow(/url\[1\]: must be an http/);
    expect(() => new WeftRulesSource({ url: ['http://a:1', 'http://a:1/'] })).toThrow(/url\[1\]: lists/);
    expect(new WeftRegistrySource({ url: 'http://a:1' }).name).toBe('weft-registry:default');
  });
});
