/**
 * The Consul adapter against a real Consul agent (`consul agent`, built by
 * .ci/provision-servers.sh): the conformance kit for ConsulSource and ConsulRegistry, then the
 * fault tests — TTL expiry, a connection cut and a hung connection (TcpCutProxy), a dev-mode
 * restart that sends the index backwards — and the Consul-specific mappings.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AdapterWarning } from '@weft/adapters/consul';
import { ConsulRegistry, ConsulSource } from '@weft/adapters/consul';
import {
  describeRegistryConformance,
  describeSourceConformance,
  type SourceFixture,
  type TestRecord,
} from '@weft/adapters/testkit';
import { Discovery, isWeftError, type ServiceInstance, type SourceSnapshot } from '@weft/core';
import * as vitest from 'vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConsulServer, http, startConsul, TcpCutProxy, waitFor } from '../servers/index.js';
import { expectOneFailureStreak, RecordingLogger } from './recording-logger.js';
import { recordWatch } from './watch-recorder.js';

let consul: ConsulServer;

beforeAll(async () => {
  // Persistent (server mode with a data dir): restart() keeps the agent's services, as a real
  // deployment does. The index-reset test below starts its own -dev agent.
  consul = await startConsul({ persistent: true });
}, 120_000);

afterAll(async () => {
  await consul?.stop();
});

/** Registers a service on the agent directly (no check: always passing). */
async function agentRegister(addr: string, body: Record<string, unknown>): Promise<void> {
  const res = await http(`${addr}/v1/agent/service/register`, { method: 'PUT', body });
  if (res.status !== 200) throw new Error(`register ${JSON.stringify(body)} -> ${res.status} ${res.body}`);
}

async function agentDeregister(addr: string, id: string): Promise<void> {
  const res = await http(`${addr}/v1/agent/service/deregister/${encodeURIComponent(id)}`, { method: 'PUT' });
  if (res.status !== 200) throw new Error(`deregister ${id} -> ${res.status} ${res.body}`);
}

const recordId = (r: TestRecord) => `${r.service}-${r.name}`;

function upsertRecord(addr: string, r: TestRecord): Promise<void> {
  return agentRegister(addr, { ID: recordId(r), Name: r.service, Address: r.host, Port: r.port, Tags: [...r.tags] });
}

/** A source through a TcpCutProxy, so the kit can cut it off from Consul. */
async function sourceFixture(): Promise<SourceFixture> {
  const proxy = await TcpCutProxy.start({ targetPort: consul.httpPort });
  const warnings: AdapterWarning[] = [];
  const source = new ConsulSource({
    address: proxy.url(),
    waitSeconds: 10,
    logger: { warn: (w) => warnings.push(w) },
  });
  let bad = 0;
  return {
    source,
    upsert: (r) => upsertRecord(consul.httpAddr, r),
    remove: (r) => agentDeregister(consul.httpAddr, recordId(r)),
    restartServer: () => consul.restart(),
    async disconnect() {
      proxy.refuse(true);
      proxy.cut();
      return async () => proxy.refuse(false);
    },
    async writeBadRecord(service) {
      // Weft metadata chunks that are not JSON: the adapter cannot read the instance.
      const id = `${service}-bad-${++bad}`;
      await agentRegister(consul.httpAddr, {
        ID: id,
        Name: service,
        Address: '10.9.9.9',
        Port: 9,
        Meta: { 'weft-metadata-0': '{not json' },
      });
      return { key: id };
    },
    warnings: () => warnings,
    async close() {
      source.close();
      await proxy.close();
    },
  };
}

describeSourceConformance(
  vitest,
  'ConsulSource (consul agent)',
  { create: sourceFixture, features: { disconnect: true, badRecords: true } },
  { servicePrefix: 'kit-src', recoveryBoundMs: 45_000 },
);

describeRegistryConformance(
  vitest,
  'ConsulRegistry (consul agent)',
  {
    async create() {
      const registry = new ConsulRegistry({ address: consul.httpAddr, ttl: { minSeconds: 1 }, waitSeconds: 10 });
      return {
        registry,
        source: new ConsulSource({ address: consul.httpAddr, waitSeconds: 10 }),
        restartServer: () => consul.restart(),
        close: () => registry.close(),
      };
    },
    features: { renewal: 'explicit', ttlSeconds: 2 },
  },
  { servicePrefix: 'kit-reg', recoveryBoundMs: 45_000 },
);

/** Keeps a source's snapshots and errors for assertions. */
class Recorder {
  snapshots: SourceSnapshot[] = [];
  errors: Error[] = [];
  private readonly sub;
  constructor(source: ConsulSource) {
    this.sub = source.subscribe({ next: (s) => this.snapshots.push(s), error: (e) => this.errors.push(e) });
  }
  get current(): readonly ServiceInstance[] {
    return this.snapshots.at(-1)?.instances ?? [];
  }
  of(service: string): ServiceInstance[] {
    return this.current.filter((i) => i.service === service);
  }
  async until(what: string, cond: (r: Recorder) => boolean, timeoutMs = 10_000): Promise<void> {
    await waitFor(() => cond(this), timeoutMs, {
      intervalMs: 20,
      description: `${what}; last snapshot: ${JSON.stringify(this.current.map((i) => `${i.service}@${i.endpoint.value}:${i.status}`))}`,
    });
  }
  close(): void {
    this.sub.unsubscribe();
  }
}

describe('ConsulRegistry: Consul specifics', () => {
  it('maps tags and metadata to Consul tags and meta and back', async () => {
    const registry = new ConsulRegistry({ address: consul.httpAddr });
    try {
      const metadata = { owner: 'team-a', weight: 3, nested: { a: [1, 2] }, 'bad key!': 'x' };
      const inst = await registry.register({
        service: 'map-svc',
        endpoint: { type: 'http', value: '10.1.2.3:8080' },
        tags: ['version=v2', 'canary'],
        metadata,
      });
      const res = await http(`${consul.httpAddr}/v1/agent/service/${inst.id}`);
      const svc = JSON.parse(res.body) as {
        Tags: string[];
        Meta: Record<string, string>;
        Address: string;
        Port: number;
      };
      expect(svc.Tags).toEqual(['version=v2', 'canary']);
      expect(svc.Address).toBe('10.1.2.3');
      expect(svc.Port).toBe(8080);
      expect(svc.Meta.owner).toBe('team-a');
      expect(svc.Meta['weft-type']).toBe('http');
      expect(svc.Meta['weft-ttl']).toBe('30');
      const [read] = await registry.instances({ service: 'map-svc' });
      expect(read?.metadata).toEqual(metadata);
      expect(read?.tags).toEqual(['version=v2', 'canary']);
      expect(read?.ttl).toBe(30);
      await registry.deregister(inst.id);
    } finally {
      await registry.close();
    }
  });

  it('setStatus: OUT_OF_SERVICE is Consul maintenance mode, STARTING is kept in meta', async () => {
    const registry = new ConsulRegistry({ address: consul.httpAddr });
    try {
      const inst = await registry.register({ service: 'status-svc', endpoint: { value: '10.1.2.4:80' } });
      await registry.setStatus(inst.id, 'OUT_OF_SERVICE');
      const checks = JSON.parse((await http(`${consul.httpAddr}/v1/health/checks/status-svc`)).body) as Array<{
        CheckID: string;
        Status: string;
      }>;
      expect(checks.some((c) => c.CheckID === `_service_maintenance:${inst.id}` && c.Status === 'critical')).toBe(true);
      expect(await registry.instances({ service: 'status-svc' })).toEqual([]);
      expect((await registry.instances({ service: 'status-svc', status: 'ALL' }))[0]?.status).toBe('OUT_OF_SERVICE');
      await registry.setStatus(inst.id, 'STARTING');
      expect((await registry.instances({ service: 'status-svc', status: ['STARTING'] })).length).toBe(1);
      await registry.setStatus(inst.id, 'UP');
      expect((await registry.instances({ service: 'status-svc' })).map((i) => i.status)).toEqual(['UP']);
      await registry.deregister(inst.id);
    } finally {
      await registry.close();
    }
  });

  it('an HTTP check option: Consul polls the instance, and a failing check removes it', async () => {
    let healthy = true;
    const server: Server = createServer((req, res) => {
      res.statusCode = req.url === '/healthz' && healthy ? 200 : 500;
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const registry = new ConsulRegistry({
      address: consul.httpAddr,
      check: { type: 'http', path: '/healthz', intervalSeconds: 1, timeoutSeconds: 1 },
    });
    const source = new ConsulSource({ address: consul.httpAddr, services: ['http-check-svc'] });
    const rec = new Recorder(source);
    try {
      const inst = await registry.register({ service: 'http-check-svc', endpoint: { value: `127.0.0.1:${port}` } });
      const def = JSON.parse((await http(`${consul.httpAddr}/v1/agent/checks`)).body) as Record<
        string,
        { Type: string; Status: string }
      >;
      expect(def[`service:${inst.id}`]?.Type).toBe('http');
      await rec.until('the instance once its HTTP check passes', (r) => r.of('http-check-svc').length === 1, 15_000);
      expect((await registry.renew(inst.id)).id).toBe(inst.id);
      healthy = false;
      await rec.until(
        'the instance gone once its HTTP check fails',
        (r) => r.of('http-check-svc').length === 0,
        15_000,
      );
      await registry.deregister(inst.id);
    } finally {
      rec.close();
      source.close();
      await registry.close();
      server.close();
    }
  }, 40_000);

  it('uses the ACL token and datacenter options on every request', async () => {
    const seen: Array<{ url: string; token: string | undefined }> = [];
    const spy = createServer((req, res) => {
      seen.push({ url: req.url ?? '', token: req.headers['x-consul-token'] as string | undefined });
      res.setHeader('x-consul-index', '7');
      res.setHeader('content-type', 'application/json');
      res.end(req.url?.startsWith('/v1/catalog/services') ? '{"web":[]}' : '[]');
    });
    await new Promise<void>((r) => spy.listen(0, '127.0.0.1', r));
    const port = (spy.address() as AddressInfo).port;
    const registry = new ConsulRegistry({ address: `127.0.0.1:${port}`, token: 's3cr3t', datacenter: 'dc9' });
    try {
      expect(await registry.instances()).toEqual([]);
      expect(seen.map((s) => s.url.split('?')[0])).toEqual(['/v1/catalog/services', '/v1/health/service/web']);
      for (const s of seen) {
        expect(s.token).toBe('s3cr3t');
        expect(s.url).toContain('dc=dc9');
      }
    } finally {
      await registry.close();
      spy.close();
    }
  });
});

describe('ConsulRegistry.watch: failure and recovery', () => {
  it('while Consul is away: one warning with the cause, onError for the consumer, then onRecover and the state', async () => {
    const proxy = await TcpCutProxy.start({ targetPort: consul.httpPort });
    const logger = new RecordingLogger();
    const registry = new ConsulRegistry({ address: proxy.url(), logger, waitSeconds: 5 });
    const watch = recordWatch(registry, 'regwatch-svc');
    const values = () =>
      watch
        .latest()
        .map((i) => i.endpoint.value)
        .sort();
    try {
      await agentRegister(consul.httpAddr, { ID: 'rw-1', Name: 'regwatch-svc', Address: '10.6.0.1', Port: 80 });
      await waitFor(() => values().join() === '10.6.0.1:80', 10_000, { description: 'the first instance' });
      proxy.refuse(true);
      proxy.cut();
      await waitFor(() => watch.errors.length >= 2, 15_000, { description: 'the watch to report its failed requests' });
      expect(watch.recoveries).toBe(0);
      expectOneFailureStreak(logger, { recovered: false });
      await agentRegister(consul.httpAddr, { ID: 'rw-2', Name: 'regwatch-svc', Address: '10.6.0.2', Port: 80 });
      proxy.refuse(false);
      await waitFor(() => watch.recoveries === 1, 15_000, { description: 'onRecover once Consul is reachable' });
      await waitFor(() => values().join() === '10.6.0.1:80,10.6.0.2:80', 10_000, {
        description: 'the change made while away',
      });
      expect(watch.ended).toBeUndefined(); // a failure is no end: the watch carried on
      expectOneFailureStreak(logger, { recovered: true });
    } finally {
      watch.subscription.unsubscribe();
      await registry.close();
      await proxy.close();
      for (const id of ['rw-1', 'rw-2']) await agentDeregister(consul.httpAddr, id).catch(() => {});
    }
  }, 60_000);
});

describe('ConsulSource: Consul specifics', () => {
  it('a service with an empty address falls back to its node address, or is skipped with a coded warning', async () => {
    await agentRegister(consul.httpAddr, { ID: 'noaddr-1', Name: 'noaddr-svc', Port: 7001 });
    await agentRegister(consul.httpAddr, { ID: 'noaddr-2', Name: 'noaddr-svc', Address: '10.7.7.7', Port: 7002 });
    const fallback = new Recorder(new ConsulSource({ address: consul.httpAddr, services: ['noaddr-svc'] }));
    const warnings: AdapterWarning[] = [];
    const skipping = new Recorder(
      new ConsulSource({
        address: consul.httpAddr,
        services: ['noaddr-svc'],
        emptyAddress: 'skip',
        logger: { warn: (w) => warnings.push(w) },
      }),
    );
    try {
      await fallback.until('both instances, one on the node address', (r) => r.of('noaddr-svc').length === 2);
      expect(
        fallback
          .of('noaddr-svc')
          .map((i) => i.endpoint.value)
          .sort(),
      ).toEqual(['10.7.7.7:7002', '127.0.0.1:7001']);
      await skipping.until('the instance with an address', (r) => r.of('noaddr-svc').length === 1);
      expect(skipping.of('noaddr-svc')[0]?.endpoint.value).toBe('10.7.7.7:7002');
      expect(warnings).toHaveLength(1);
      expect(warnings[0]?.code).toBe('WEFT_WARN_CONSUL_EMPTY_ADDRESS');
      expect(warnings[0]?.object).toContain('noaddr-1');
      // The watch goes on after the bad entry: a later change arrives, and the warning is not repeated.
      await agentRegister(consul.httpAddr, { ID: 'noaddr-3', Name: 'noaddr-svc', Address: '10.7.7.8', Port: 7003 });
      await skipping.until('a later instance', (r) => r.of('noaddr-svc').length === 2);
      expect(warnings).toHaveLength(1);
    } finally {
      fallback.close();
      skipping.close();
      for (const id of ['noaddr-1', 'noaddr-2', 'noaddr-3']) await agentDeregister(consul.httpAddr, id).catch(() => {});
    }
  }, 30_000);

  it('TTL check expiry: an instance that stops renewing turns critical and leaves Discovery', async () => {
    const registry = new ConsulRegistry({ address: consul.httpAddr, ttl: { minSeconds: 1 } });
    const discovery = new Discovery({
      sources: [new ConsulSource({ address: consul.httpAddr, services: ['ttl-svc'] })],
    });
    try {
      const kept = await registry.register({ service: 'ttl-svc', endpoint: { value: '10.3.0.1:80' }, ttl: 2 });
      const lapsed = await registry.register({ service: 'ttl-svc', endpoint: { value: '10.3.0.2:80' }, ttl: 2 });
      await waitFor(() => discovery.endpoints('ttl-svc').instances.length === 2, 10_000, { intervalMs: 20 });
      const started = Date.now();
      const renewals = setInterval(() => void registry.renew(kept.id).catch(() => {}), 500);
      try {
        await waitFor(
          () => {
            const ids = discovery.endpoints('ttl-svc').instances.map((i) => i.id);
            return ids.length === 1 && ids[0] === kept.id;
          },
          15_000,
          { intervalMs: 20, description: 'the un-renewed instance to leave Discovery' },
        );
        const took = Date.now() - started;
        expect(took).toBeGreaterThanOrEqual(1_500);
        const check = JSON.parse((await http(`${consul.httpAddr}/v1/agent/checks`)).body) as Record<
          string,
          { Status: string }
        >;
        expect(check[`service:${lapsed.id}`]?.Status).toBe('critical');
        // Weft's contract: renewing an expired instance is WEFT_ERR_UNKNOWN_INSTANCE (register again).
        await expect(registry.renew(lapsed.id)).rejects.toSatisfy((e) => isWeftError(e, 'WEFT_ERR_UNKNOWN_INSTANCE'));
        // The renewed one stayed UP throughout, well past its TTL.
        await new Promise((r) => setTimeout(r, 2_500));
        expect(discovery.endpoints('ttl-svc').instances.map((i) => i.id)).toEqual([kept.id]);
      } finally {
        clearInterval(renewals);
      }
      await registry.deregister(kept.id);
    } finally {
      discovery.close();
      await registry.close();
    }
  }, 40_000);

  it('a connection cut mid-watch (TcpCutProxy): the error is reported, the watch reconnects and delivers what it missed', async () => {
    const proxy = await TcpCutProxy.start({ targetPort: consul.httpPort });
    const logger = new RecordingLogger();
    const source = new ConsulSource({ address: proxy.url(), services: ['cut-svc'], logger });
    const rec = new Recorder(source);
    try {
      await agentRegister(consul.httpAddr, { ID: 'cut-1', Name: 'cut-svc', Address: '10.4.0.1', Port: 80 });
      await rec.until('the first instance', (r) => r.of('cut-svc').length === 1);
      proxy.refuse(true);
      proxy.cut();
      await rec.until('two failed requests after the cut', (r) => r.errors.length >= 2);
      expectOneFailureStreak(logger, { recovered: false });
      await agentRegister(consul.httpAddr, { ID: 'cut-2', Name: 'cut-svc', Address: '10.4.0.2', Port: 80 });
      await agentDeregister(consul.httpAddr, 'cut-1');
      const cutAt = Date.now();
      proxy.refuse(false);
      await rec.until(
        'the change made while cut off',
        (r) =>
          r
            .of('cut-svc')
            .map((i) => i.endpoint.value)
            .join() === '10.4.0.2:80',
        10_000,
      );
      // Bounded by the backoff cap (5 s), not by the blocking wait.
      expect(Date.now() - cutAt).toBeLessThan(7_000);
      expectOneFailureStreak(logger, { recovered: true });
    } finally {
      rec.close();
      source.close();
      await proxy.close();
      await agentDeregister(consul.httpAddr, 'cut-2').catch(() => {});
    }
  }, 40_000);

  it('a hung connection (proxy paused) is detected by the request deadline and the watch recovers', async () => {
    const proxy = await TcpCutProxy.start({ targetPort: consul.httpPort });
    const source = new ConsulSource({ address: proxy.url(), services: ['hang-svc'], waitSeconds: 2 });
    const rec = new Recorder(source);
    try {
      await agentRegister(consul.httpAddr, { ID: 'hang-1', Name: 'hang-svc', Address: '10.5.0.1', Port: 80 });
      await rec.until('the first instance', (r) => r.of('hang-svc').length === 1);
      proxy.pause();
      await agentRegister(consul.httpAddr, { ID: 'hang-2', Name: 'hang-svc', Address: '10.5.0.2', Port: 80 });
      // wait (2 s) + Consul's wait/16 + 2 s slack: the hung request fails, and is reported.
      await rec.until('a timeout error while paused', (r) => r.errors.length > 0, 10_000);
      proxy.resume();
      proxy.cut(); // drop the held connections; a hung socket is what the deadline is for
      await rec.until('the change made while hung', (r) => r.of('hang-svc').length === 2, 15_000);
    } finally {
      rec.close();
      source.close();
      await proxy.close();
      for (const id of ['hang-1', 'hang-2']) await agentDeregister(consul.httpAddr, id).catch(() => {});
    }
  }, 60_000);

  it('a restart of a -dev agent (in-memory catalog: the index goes backwards): the index is reset and later changes arrive', async () => {
    const dev = await startConsul();
    const source = new ConsulSource({ address: dev.httpAddr, waitSeconds: 30 });
    const rec = new Recorder(source);
    try {
      for (let i = 0; i < 5; i++)
        await agentRegister(dev.httpAddr, { ID: `old-${i}`, Name: 'old-svc', Address: '10.6.0.1', Port: 1000 + i });
      // Churn pushes the raft index well above what the fresh agent will start from.
      for (let i = 0; i < 60; i++) {
        await agentRegister(dev.httpAddr, { ID: 'churn', Name: 'churn-svc', Address: '10.6.0.9', Port: 9 });
        await agentDeregister(dev.httpAddr, 'churn');
      }
      await rec.until('the old instances', (r) => r.of('old-svc').length === 5 && r.of('churn-svc').length === 0);
      const indexBefore = Number(rec.snapshots.at(-1)?.revision);
      await dev.restart();
      const restartedAt = Date.now();
      // The agent re-registers its services from its data dir into the fresh (in-memory) catalog.
      await agentRegister(dev.httpAddr, { ID: 'new-1', Name: 'new-svc', Address: '10.6.0.2', Port: 80 });
      await agentDeregister(dev.httpAddr, 'old-0');
      await rec.until(
        'the post-restart changes: old-0 gone, the new instance present',
        (r) => r.of('old-svc').length === 4 && r.of('new-svc').length === 1,
        20_000,
      );
      // A blocking query still holding the old (now future) index would hang for the whole 30 s wait.
      expect(Date.now() - restartedAt).toBeLessThan(15_000);
      expect(rec.errors.length).toBeGreaterThan(0);
      expect(Number(rec.snapshots.at(-1)?.revision)).toBeLessThan(indexBefore);
      // And the watch keeps going on the new index.
      await agentRegister(dev.httpAddr, { ID: 'new-2', Name: 'new-svc', Address: '10.6.0.3', Port: 80 });
      await rec.until('a second change after the restart', (r) => r.of('new-svc').length === 2);
    } finally {
      rec.close();
      source.close();
      await dev.stop();
    }
  }, 150_000);
});
