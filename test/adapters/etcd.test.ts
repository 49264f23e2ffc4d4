/**
 * The etcd adapter against real etcd servers (Debian's etcd 3.4 and etcd 3.6 built from Go
 * modules, started per file on free loopback ports): the conformance kit for EtcdSource and
 * EtcdRegistry, then the fault tests — restart mid-watch, a connection cut by a TCP proxy, a hung
 * connection, lease loss (revoked, and expired behind a stalled connection), compaction.
 */

import { EtcdRegistry, EtcdSource } from '@weft/adapters/etcd';
import {
  describeRegistryConformance,
  describeSourceConformance,
  hasRecord,
  record,
  SnapshotRecorder,
} from '@weft/adapters/testkit';
import { Discovery, VirtualClock } from '@weft/core';
import * as vitest from 'vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EtcdServer, startEtcd, TcpCutProxy, waitFor } from '../servers/index.js';
import { DirectWriter, instanceOf, RecordingLogger, retrying } from './etcd-helpers.js';
import { expectOneFailureStreak } from './recording-logger.js';
import { recordWatch } from './watch-recorder.js';

/** Watch timings short enough for the fault tests to run in seconds, long enough for a loaded machine. */
const FAST = { progressIntervalMs: 1_000, stallTimeoutMs: 2_000, requestTimeoutMs: 5_000 } as const;
const BOUNDS = { changeBoundMs: 5_000, recoveryBoundMs: 20_000 } as const;

const has = hasRecord;

for (const flavour of ['debian', 'etcd35'] as const) {
  let server: EtcdServer;
  let writer: DirectWriter;
  describeSourceConformance(
    vitest,
    `EtcdSource on etcd ${flavour === 'debian' ? '3.4 (Debian)' : '3.6 (etcd35)'}`,
    {
      async setup() {
        server = await startEtcd({ binary: flavour });
        writer = new DirectWriter(server.endpoint);
      },
      async teardown() {
        writer?.close();
        await server?.stop();
      },
      async create() {
        const proxy = await TcpCutProxy.start({ targetPort: server.clientPort });
        const logger = new RecordingLogger();
        const source = new EtcdSource({ hosts: proxy.url(), logger, ...FAST });
        return {
          source,
          upsert: async (r) => void (await writer.upsert(r)),
          remove: async (r) => void (await writer.remove(r)),
          restartServer: () => server.restart(),
          async disconnect() {
            proxy.refuse(true);
            proxy.cut();
            return async () => proxy.refuse(false);
          },
          writeBadRecord: (service) => writer.writeBad(service),
          warnings: () => logger.warnings,
          async close() {
            await source.close();
            await proxy.close();
          },
        };
      },
      features: { disconnect: true, badRecords: true },
    },
    BOUNDS,
  );
}

for (const keepAlive of [true, false]) {
  let server: EtcdServer;
  describeRegistryConformance(
    vitest,
    `EtcdRegistry (keepAlive: ${keepAlive}) on etcd 3.4`,
    {
      async setup() {
        server = await startEtcd();
      },
      async teardown() {
        await server?.stop();
      },
      async create() {
        const logger = new RecordingLogger();
        const options = { hosts: server.endpoint, logger, ...FAST };
        const registry = new EtcdRegistry({ ...options, keepAlive, ttl: { minSeconds: 1 } });
        const source = new EtcdSource(options);
        return {
          registry,
          source,
          restartServer: () => server.restart(),
          async close() {
            await registry.close();
            await source.close();
          },
        };
      },
      // etcd grants no lease shorter than 2 s with its default election timeout.
      features: { renewal: keepAlive ? 'automatic' : 'explicit', ttlSeconds: 2 },
    },
    BOUNDS,
  );
}

describe('etcd adapter fault tests (etcd 3.4)', () => {
  let server: EtcdServer;
  let writer: DirectWriter;
  const closers: Array<() => Promise<void> | void> = [];

  beforeAll(async () => {
    server = await startEtcd();
    writer = new DirectWriter(server.endpoint);
  });
  afterAll(async () => {
    for (const c of closers.reverse()) await c();
    writer?.close();
    await server?.stop();
  });

  async function viaProxy(service?: string) {
    const proxy = await TcpCutProxy.start({ targetPort: server.clientPort });
    const logger = new RecordingLogger();
    const source = new EtcdSource({ hosts: proxy.url(), logger, ...FAST, ...(service ? { service } : {}) });
    closers.push(
      () => source.close(),
      () => proxy.close(),
    );
    return { proxy, logger, source };
  }

  it('a server crash mid-watch: the source reports it, Discovery marks the set stale, then everything recovers', async () => {
    const svc = 'crash';
    const a = record(svc, 1);
    await writer.upsert(a);
    const logger = new RecordingLogger();
    const source = new EtcdSource({ hosts: server.endpoint, logger, ...FAST });
    closers.push(() => source.close());
    const discovery = new Discovery({ sources: [source] });
    closers.push(() => discovery.close());
    await discovery.ready();
    expect(discovery.endpoints(svc).instances).toHaveLength(1);
    const recovered = new Promise<void>((resolve) => discovery.once('sourceRecovered', () => resolve()));

    await server.kill(); // SIGKILL: no goodbye on the stream
    await waitFor(() => discovery.endpoints(svc).stale, 15_000, { description: 'the set to be marked stale' });
    expect(discovery.endpoints(svc).instances).toHaveLength(1); // last-known-good kept
    // Said once, with the cause, however many retries the outage takes.
    await waitFor(() => logger.events('watch-failed') >= 1, 15_000, { description: 'a second failed attempt' });
    expectOneFailureStreak(logger, { recovered: false });
    await server.start();
    const started = Date.now();
    const b = record(svc, 2);
    await writer.upsert(b);
    await waitFor(() => discovery.endpoints(svc).instances.length === 2, 20_000, {
      description: 'a change made after the crash to reach Discovery',
    });
    await recovered;
    expect(discovery.endpoints(svc).stale).toBe(false);
    expectOneFailureStreak(logger, { recovered: true });
    console.log(`[etcd fault] crash → change visible ${Date.now() - started} ms after the server was back`);
  });

  it('EtcdRegistry.watch while etcd is away: one warning with the cause, onError for the consumer, then onRecover and the state', async () => {
    const proxy = await TcpCutProxy.start({ targetPort: server.clientPort });
    closers.push(() => proxy.close());
    const logger = new RecordingLogger();
    const registry = new EtcdRegistry({ hosts: proxy.url(), logger, ...FAST });
    closers.push(() => registry.close());
    const svc = 'regwatch';
    const watch = recordWatch(registry, svc);
    const a = record(svc, 1);
    await writer.upsert(a);
    await waitFor(() => has(a)(watch.latest()), 5_000, { description: 'the first instance' });

    proxy.refuse(true);
    proxy.cut();
    await waitFor(() => watch.errors.length >= 2, 15_000, { description: 'the watch to report its failed attempts' });
    expect(watch.recoveries).toBe(0);
    expectOneFailureStreak(logger, { recovered: false });
    const b = record(svc, 2);
    await writer.upsert(b);
    const before = watch.snapshots.length;
    proxy.refuse(false);
    await waitFor(() => watch.recoveries === 1, 15_000, { description: 'onRecover once etcd is reachable' });
    await waitFor(() => has(b)(watch.latest()), 5_000, { description: 'the change made while away' });
    expect(watch.snapshots.length).toBeGreaterThan(before);
    expect(watch.ended).toBeUndefined(); // a failure is no end: the watch carried on
    expectOneFailureStreak(logger, { recovered: true });
    expect(logger.events('watch-failed')).toBe(watch.errors.length - 1);
  });

  it('a failing re-registration after a lost lease is a coded warning (once, with the cause), retried until it works; the loss found on a virtual clock', async () => {
    const proxy = await TcpCutProxy.start({ targetPort: server.clientPort });
    closers.push(() => proxy.close());
    const logger = new RecordingLogger();
    // Lease checks, keep-alive rhythm and backoff run on this clock: the test moves a TTL's worth
    // of time at once instead of waiting for it (gRPC deadlines stay on real time).
    const clock = new VirtualClock(Date.now());
    const registry = new EtcdRegistry({ hosts: proxy.url(), logger, clock, ...FAST });
    closers.push(() => registry.close());
    const failures: unknown[] = [];
    registry.on('reregisterFailed', (_i, err) => failures.push(err));
    let back = false;
    registry.once('reregistered', () => {
      back = true;
    });
    const a = record('rereg', 1);
    const inst = await registry.register({
      service: a.service,
      endpoint: { type: 'http', host: a.host, port: a.port },
      tags: [...a.tags],
      ttl: 10,
    });
    expect(inst.registeredAt).toBe(clock.now());
    const key = `/weft/default/services/rereg/${inst.id}`;
    const lease = (await writer.client.get(key).exec()).kvs[0]?.lease;

    proxy.refuse(true);
    proxy.cut();
    // Keep-alives every TTL/3 go unanswered; past a whole TTL the lease counts as lost.
    await clock.advanceAsync(14_000);
    await waitFor(() => logger.codes().includes('WEFT_WARN_ETCD_LEASE_LOST'), 5_000, {
      description: 'the unconfirmed lease to count as lost',
    });
    // The retries wait out their backoff on the virtual clock: move it along.
    const drive = async (done: () => boolean, description: string): Promise<void> => {
      const deadline = Date.now() + 30_000;
      while (!done()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${description}`);
        await clock.advanceAsync(500);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    await drive(() => failures.length >= 3, 'three failed re-registrations');
    const warned = logger.coded('WEFT_WARN_ETCD_REREGISTER_FAILED');
    expect(warned).toHaveLength(1);
    expect(warned[0]?.object).toBe(key);
    expect(warned[0]?.cause).toBe(failures[0]);
    expect(logger.events('reregister-failed')).toBe(failures.length - 1);

    proxy.refuse(false);
    await drive(() => back, 'the re-registration to work once etcd is reachable');
    const after = (await writer.client.get(key).exec()).kvs[0];
    expect(after?.lease).not.toBe(lease);
    expect(after?.lease).not.toBe('0');
    expect(logger.coded('WEFT_WARN_ETCD_REREGISTER_FAILED')).toHaveLength(1);
    expect(logger.events('reregistered')).toBe(1);
  }, 60_000);

  it('a connection cut by the proxy: the watch resumes from the last revision and delivers what it missed (no relist)', async () => {
    const svc = 'cut';
    const { proxy, logger, source } = await viaProxy(svc);
    using rec = new SnapshotRecorder(source);
    const a = record(svc, 1);
    await writer.upsert(a);
    await rec.until(has(a), 5_000, 'the first instance');
    await waitFor(() => logger.events('watching') === 1, 5_000, { description: 'the watch to be created' });
    expect(logger.events('listed')).toBe(1);

    proxy.refuse(true);
    proxy.cut();
    const missed = [record(svc, 2), record(svc, 3), record(svc, 4)];
    for (const r of missed) await writer.upsert(r);
    await writer.remove(a);
    await rec.untilErrors(1, 10_000, 'after the cut');
    const t0 = Date.now();
    proxy.refuse(false);
    await rec.until((is) => missed.every((r) => has(r)(is)) && !has(a)(is), 15_000, 'the missed changes');
    console.log(`[etcd fault] cut → missed changes delivered ${Date.now() - t0} ms after reconnecting was possible`);
    // Resumed from its revision: one list in all, at least two watch (re)starts.
    expect(logger.events('listed')).toBe(1);
    expect(logger.events('watching')).toBeGreaterThanOrEqual(2);
    expect(logger.codes()).not.toContain('WEFT_WARN_WATCH_RELIST');
  });

  it('compaction while disconnected: the watch relists (coded warning) and delivers the current state', async () => {
    const svc = 'compact';
    const { proxy, logger, source } = await viaProxy(svc);
    using rec = new SnapshotRecorder(source);
    const a = record(svc, 1);
    const c = record(svc, 2);
    await writer.upsert(a);
    await writer.upsert(c);
    await rec.until((is) => has(a)(is) && has(c)(is), 5_000, 'both instances');

    proxy.refuse(true);
    proxy.cut();
    await writer.remove(a);
    const d = record(svc, 3);
    await writer.upsert(d);
    // Churn on another key, then compact away the history the watch would resume from.
    for (let i = 0; i < 5; i++) await writer.client.put('/weft/default/services/other/x').value(`${i}`).exec();
    await server.compact();
    const t0 = Date.now();
    proxy.refuse(false);
    await rec.until((is) => !has(a)(is) && has(c)(is) && has(d)(is), 15_000, 'the state after compaction');
    console.log(`[etcd fault] compaction → relisted state delivered in ${Date.now() - t0} ms`);
    expect(logger.codes()).toContain('WEFT_WARN_WATCH_RELIST');
    expect(logger.events('listed')).toBe(2);
  });

  it('a hung connection (proxy paused, no RST): the stalled watch is detected, reported and restarted', async () => {
    const svc = 'hang';
    const { proxy, logger, source } = await viaProxy(svc);
    using rec = new SnapshotRecorder(source);
    const a = record(svc, 1);
    await writer.upsert(a);
    await rec.until(has(a), 5_000, 'the first instance');

    proxy.pause();
    const b = record(svc, 2);
    await writer.upsert(b);
    // progressIntervalMs + stallTimeoutMs + a tick: the watch must notice on its own.
    await waitFor(() => logger.codes().includes('WEFT_WARN_WATCH_RESTART'), 10_000, {
      description: 'the stall to be detected',
    });
    await rec.untilErrors(1, 5_000, 'while the connection hangs');
    proxy.resume();
    await rec.until((is) => has(a)(is) && has(b)(is), 15_000, 'the change made while the connection hung');
  });

  it('lease loss: a revoked lease is detected and the instance is registered again', async () => {
    const logger = new RecordingLogger();
    const registry = new EtcdRegistry({ hosts: server.endpoint, logger, ttl: { minSeconds: 1 }, ...FAST });
    closers.push(() => registry.close());
    const observer = new EtcdSource({ hosts: server.endpoint, service: 'lease', logger: new RecordingLogger() });
    closers.push(() => observer.close());
    using rec = new SnapshotRecorder(observer);
    const a = record('lease', 1);
    const inst = await registry.register({
      service: a.service,
      endpoint: { type: 'http', host: a.host, port: a.port },
      tags: [...a.tags],
      ttl: 3,
    });
    await rec.until(has(a), 5_000, 'the registration');
    const lost = new Promise<string>((resolve) => registry.once('leaseLost', (_i, reason) => resolve(reason)));
    const back = new Promise<void>((resolve) => registry.once('reregistered', () => resolve()));

    const kv = await writer.client.get(`/weft/default/services/lease/${inst.id}`).exec();
    const leaseId = kv.kvs[0]?.lease as string;
    expect(leaseId).not.toBe('0');
    const t0 = Date.now();
    await writer.client.leaseClient.leaseRevoke({ ID: leaseId });
    await rec.until((is) => !has(a)(is), 5_000, 'the revoked lease to delete the key');
    expect(await lost).toMatch(/no longer exists/);
    await back;
    await rec.until(has(a), 5_000, 'the instance to be registered again');
    console.log(`[etcd fault] revoked lease → instance back in ${Date.now() - t0} ms`);
    expect(logger.codes()).toContain('WEFT_WARN_ETCD_LEASE_LOST');
    const after = await writer.client.get(`/weft/default/services/lease/${inst.id}`).exec();
    expect(after.kvs[0]?.lease).not.toBe(leaseId);
  });

  it('lease expiry behind a hung connection: keep-alives stop, the lease expires, the registry re-registers once it can', async () => {
    const proxy = await TcpCutProxy.start({ targetPort: server.clientPort });
    closers.push(() => proxy.close());
    const logger = new RecordingLogger();
    const registry = new EtcdRegistry({ hosts: proxy.url(), logger, ttl: { minSeconds: 1 }, ...FAST });
    closers.push(() => registry.close());
    const observer = new EtcdSource({ hosts: server.endpoint, service: 'expiry', logger: new RecordingLogger() });
    closers.push(() => observer.close());
    using rec = new SnapshotRecorder(observer);
    const a = record('expiry', 1);
    await registry.register({
      service: a.service,
      endpoint: { type: 'http', host: a.host, port: a.port },
      tags: [...a.tags],
      ttl: 2,
    });
    await rec.until(has(a), 5_000, 'the registration');

    proxy.pause(); // keep-alives go nowhere; the server expires the lease after its TTL
    await rec.until((is) => !has(a)(is), 10_000, 'the lease to expire on the server');
    await waitFor(() => logger.codes().includes('WEFT_WARN_ETCD_LEASE_LOST'), 10_000, {
      description: 'the registry to notice that its lease is unconfirmed for a whole TTL',
    });
    const t0 = Date.now();
    proxy.resume();
    await rec.until(has(a), 20_000, 'the instance to be registered again after the connection came back');
    console.log(`[etcd fault] expired lease → instance back ${Date.now() - t0} ms after the connection returned`);
  });

  it('bad values are skipped with a coded warning naming the key, once per change', async () => {
    const logger = new RecordingLogger();
    const source = new EtcdSource({ hosts: server.endpoint, service: 'badjson', logger, ...FAST });
    closers.push(() => source.close());
    const good = record('badjson', 1);
    await writer.upsert(good);
    const bad = await writer.writeBad('badjson');
    // A value that parses but is not this key's instance.
    const wrongKey = '/weft/default/services/badjson/not-its-id';
    await writer.client
      .put(wrongKey)
      .value(JSON.stringify(instanceOf(record('badjson', 7))))
      .exec();
    using rec = new SnapshotRecorder(source);
    await rec.until((is) => has(good)(is) && is.length === 1, 5_000, 'only the good instance');
    const more = record('badjson', 2);
    await writer.upsert(more);
    await rec.until((is) => has(more)(is) && is.length === 2, 5_000, 'a later change');
    const warned = logger.warnings.filter((w) => w.code === 'WEFT_WARN_ETCD_BAD_VALUE');
    expect(warned.map((w) => w.object).sort()).toEqual([bad.key, wrongKey].sort());
    expect(warned.find((w) => w.object === wrongKey)?.message).toMatch(/does not match its key/);
  });

  it('register keeps registeredAt on overwrite, setStatus OUT_OF_SERVICE detaches the lease, UP attaches a new one', async () => {
    const registry = new EtcdRegistry({
      hosts: server.endpoint,
      ttl: { minSeconds: 1 },
      logger: new RecordingLogger(),
    });
    closers.push(() => registry.close());
    const reg = { service: 'status', endpoint: { type: 'http' as const, value: '10.9.9.9:80' }, ttl: 2 };
    const first = await registry.register(reg);
    await new Promise((r) => setTimeout(r, 20));
    const second = await registry.register({ ...reg, tags: ['v=2'] });
    expect(second.registeredAt).toBe(first.registeredAt);
    expect(second.lastHeartbeat).toBeGreaterThan(first.lastHeartbeat);
    const key = `/weft/default/services/status/${first.id}`;
    await registry.setStatus(first.id, 'OUT_OF_SERVICE');
    expect((await writer.client.get(key).exec()).kvs[0]?.lease).toBe('0');
    await registry.setStatus(first.id, 'UP');
    const lease = (await writer.client.get(key).exec()).kvs[0]?.lease;
    expect(lease).not.toBe('0');
    // Kept alive by the registry: still there after more than its TTL.
    await new Promise((r) => setTimeout(r, 3_500));
    expect(await retrying(() => registry.instances({ service: 'status' }))).toHaveLength(1);
  });
});
