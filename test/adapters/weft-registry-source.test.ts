/**
 * WeftRegistrySource against a registry server on loopback: the source conformance kit, then the
 * transports — SSE pushes, long-poll when a proxy refuses SSE (or buffers it), polling when the
 * server hides its revisions — and the faults: a restart on the same port, an outage during which
 * Discovery keeps the last-known-good state.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeSourceConformance } from '@weft/adapters/testkit';
import { WeftRegistrySource, type WeftRegistrySourceOptions } from '@weft/adapters/weft';
import { Discovery, type SourceSnapshot } from '@weft/core';
import * as vitest from 'vitest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { deregister, FAST, RecordingLogger, register, tempDir, until } from '../control-plane/helpers.js';
import { MeddlingProxy } from '../control-plane/meddling-proxy.js';
import { type ServerHandle, startRegistry } from '../control-plane/servers.js';
import { TcpCutProxy } from '../servers/tcp-proxy.js';
import { expectOneFailureStreak, RecordingLogger as HealthLogger } from './recording-logger.js';

let registry: ServerHandle;
let registryDir: string;
let removeDir: () => Promise<void>;

beforeAll(async () => {
  const tmp = await tempDir('weft-registry-source-');
  removeDir = tmp.remove;
  registryDir = tmp.dir;
  registry = await startRegistry({ dir: tmp.dir });
});
afterAll(async () => {
  await registry?.stop();
  await removeDir?.();
});

describeSourceConformance(
  vitest,
  'WeftRegistrySource',
  {
    features: { disconnect: true },
    async create() {
      const cut = await TcpCutProxy.start({ targetPort: registry.port });
      const source = new WeftRegistrySource({ url: cut.url(), logger: new RecordingLogger(), ...FAST });
      const value = (r: { host: string; port: number }) => `${r.host}:${r.port}`;
      return {
        source,
        upsert: async (r) => void (await register(registry.url, r.service, value(r), r.tags)),
        remove: (r) => deregister(registry.url, r.service, value(r)),
        restartServer: () => registry.restart(),
        async disconnect() {
          cut.refuse(true);
          cut.cut();
          return async () => cut.refuse(false);
        },
        async close() {
          await source.close();
          await cut.close();
        },
      };
    },
  },
  { changeBoundMs: 2_000, recoveryBoundMs: 10_000, servicePrefix: 'kit-weft' },
);

/** A source through a meddling proxy, recording its snapshots and errors. */
async function follow(proxy: MeddlingProxy, options: Partial<WeftRegistrySourceOptions> = {}) {
  const logger = new RecordingLogger();
  const source = new WeftRegistrySource({ url: proxy.url, logger, ...FAST, ...options });
  const snapshots: SourceSnapshot[] = [];
  const errors: Error[] = [];
  const sub = source.subscribe({ next: (s) => snapshots.push(s), error: (e) => errors.push(e) });
  const has = (service: string, value: string) =>
    snapshots.at(-1)?.instances.some((i) => i.service === service && i.endpoint.value === value) ?? false;
  return {
    source,
    logger,
    snapshots,
    errors,
    has,
    async close() {
      sub.unsubscribe();
      await source.close();
    },
  };
}

describe('WeftRegistrySource transports', () => {
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });
  const proxyFor = async (): Promise<MeddlingProxy> => {
    const proxy = await MeddlingProxy.start(registry.port);
    cleanup.push(() => proxy.close());
    return proxy;
  };

  it('follows the registry over SSE: a registration arrives within a second, pushed on the open stream', async () => {
    const proxy = await proxyFor();
    const f = await follow(proxy);
    cleanup.push(() => f.close());
    await until(() => f.snapshots.length > 0, 'the first snapshot');
    const requestsBefore = proxy.seen.length;
    await register(registry.url, 'sse-svc', '10.1.0.1:80', ['version=v1']);
    const took = await until(() => f.has('sse-svc', '10.1.0.1:80'), 'the registration to arrive', 1_000);
    expect(took).toBeLessThan(1_000);
    // Pushed on the stream already open: no new request was needed to see it.
    expect(proxy.seen.length).toBe(requestsBefore);
    expect(proxy.streamRequests).toHaveLength(1);
    const inst = f.snapshots.at(-1)?.instances.find((i) => i.service === 'sse-svc');
    expect(inst).toMatchObject({
      endpoint: { type: 'http', host: '10.1.0.1', port: 80 },
      tags: ['version=v1'],
      status: 'UP',
    });
    expect(f.logger.codes()).not.toContain('WEFT_WARN_WATCH_FALLBACK');
  });

  it.each([
    [406, 0],
    [502, 1],
  ])(
    'falls back to long-poll when the SSE request is answered with HTTP %i, and still gets changes pushed',
    async (status, outages) => {
      const proxy = await proxyFor();
      proxy.sse = 'refuse';
      proxy.refuseStatus = status;
      const f = await follow(proxy);
      cleanup.push(() => f.close());
      await until(() => f.snapshots.length > 0, 'the first snapshot');
      // Registered once the source waits in a long-poll: before that (a 502 is retried once as SSE,
      // and each attempt reads the state first), the change could arrive by a plain read instead.
      await until(() => proxy.longPolls.length > 0, 'the first long-poll', 3_000);
      await register(registry.url, 'lp-svc', '10.2.0.1:80');
      const took = await until(() => f.has('lp-svc', '10.2.0.1:80'), 'the registration to arrive', 1_000);
      expect(took).toBeLessThan(1_000);
      expect(proxy.longPolls.at(-1)?.url).toMatch(/index=\d+&wait=30000ms/);
      expect(f.logger.messages('WEFT_WARN_WATCH_FALLBACK').join()).toMatch(
        new RegExp(`by long-poll: sse is unavailable \\(the event stream was refused: .*HTTP ${status}`),
      );
      // A 4xx is a refusal at once; a gateway error may be an outage, so it is reported and retried once first.
      expect(f.errors).toHaveLength(outages);
      expect(proxy.streamRequests).toHaveLength(outages + 1);
    },
  );

  it('goes back to SSE after retryPreferredAfterMs once the proxy lets streams through again', async () => {
    const proxy = await proxyFor();
    proxy.sse = 'refuse';
    proxy.refuseStatus = 406;
    const f = await follow(proxy, { retryPreferredAfterMs: 1_000, longPollWaitMs: 1_000 });
    cleanup.push(() => f.close());
    await until(() => f.logger.codes().includes('WEFT_WARN_WATCH_FALLBACK'), 'the fallback to long-poll');
    proxy.sse = 'pass';
    await until(
      () => proxy.streamRequests.length === 2,
      'a stream request after the retry period (the next long-poll ends within its 1 s wait)',
      3_000,
    );
    await register(registry.url, 'back-svc', '10.2.5.1:80');
    await until(() => f.has('back-svc', '10.2.5.1:80'), 'the registration to arrive');
    // Pushed on the stream: the last request the proxy saw is the stream itself, no long-poll after it.
    expect(proxy.seen.at(-1)?.accept).toContain('text/event-stream');
  });

  it('falls back to long-poll when a proxy buffers the event stream (no byte within the idle timeout)', async () => {
    const proxy = await proxyFor();
    proxy.sse = 'buffer';
    const f = await follow(proxy, { sseIdleTimeoutMs: 300 });
    cleanup.push(() => f.close());
    await until(() => f.snapshots.length > 0, 'the first snapshot (by long-poll)', 3_000);
    await register(registry.url, 'buf-svc', '10.3.0.1:80');
    await until(() => f.has('buf-svc', '10.3.0.1:80'), 'the registration to arrive', 1_000);
    expect(f.logger.messages('WEFT_WARN_WATCH_FALLBACK').join()).toMatch(
      /by long-poll: .*proxy in between may be buffering/,
    );
  });

  it('falls back to long-poll when a proxy holds back the answer to the stream request altogether', async () => {
    const proxy = await proxyFor();
    proxy.sse = 'hold';
    const f = await follow(proxy, { sseIdleTimeoutMs: 300 });
    cleanup.push(() => f.close());
    await until(() => f.snapshots.length > 0, 'the first snapshot (by long-poll)', 3_000);
    await register(registry.url, 'hold-svc', '10.3.1.1:80');
    await until(() => f.has('hold-svc', '10.3.1.1:80'), 'the registration to arrive', 1_000);
    expect(f.logger.messages('WEFT_WARN_WATCH_FALLBACK').join()).toMatch(
      /by long-poll: .*no answer to the event-stream request in 300 ms/,
    );
  });

  it('falls back to polling when the server shows no revisions (an Amalgam8-style server)', async () => {
    const proxy = await proxyFor();
    proxy.sse = 'plain';
    proxy.hideRevisions = true;
    const f = await follow(proxy, { pollIntervalMs: 150 });
    cleanup.push(() => f.close());
    await until(() => f.snapshots.length > 0, 'the first snapshot');
    await register(registry.url, 'poll-svc', '10.4.0.1:80');
    await until(() => f.has('poll-svc', '10.4.0.1:80'), 'the registration to arrive by polling', 1_000);
    expect(f.logger.messages('WEFT_WARN_WATCH_FALLBACK').join()).toMatch(/by polling every 150 ms/);
    // Polling: plain reads, repeated (the registration may have come with the first poll, so
    // wait for more rather than count them now).
    const polls = () => proxy.seen.filter((r) => !r.accept.includes('text/event-stream'));
    await until(() => polls().length > 2, 'repeated plain reads', 2_000);
    // An unchanged catalogue is not delivered again at every poll.
    const count = f.snapshots.length;
    await new Promise((r) => setTimeout(r, 500));
    expect(f.snapshots.length).toBe(count);
  });

  it('keeps the last-known-good state while the registry is down, then converges after it restarts on the same port', async () => {
    const proxy = await proxyFor();
    const health = new HealthLogger();
    const f = await follow(proxy, { logger: health });
    cleanup.push(() => f.close());
    const discovery = new Discovery({ sources: [f.source] });
    cleanup.push(async () => discovery.close());
    await register(registry.url, 'lkg-svc', '10.5.0.1:80', ['version=v1']);
    await until(() => discovery.endpoints('lkg-svc').instances.length === 1, 'the first instance in Discovery');

    await registry.stop();
    await until(() => discovery.endpoints('lkg-svc').stale, 'Discovery to mark the set stale');
    // Down: the instance is still there to route to.
    expect(discovery.endpoints('lkg-svc').instances.map((i) => i.endpoint.value)).toEqual(['10.5.0.1:80']);
    expect(f.errors.length).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 300)); // a few failed reconnects
    expect(discovery.endpoints('lkg-svc').instances).toHaveLength(1);
    // The broken stream and every failed reconnect: one failure streak, said once with its cause
    // — by each of the two subscriptions (Discovery's and the recorder's).
    expectOneFailureStreak(health, { recovered: false, watches: 2 });

    await registry.start(); // same port, same file
    await register(registry.url, 'lkg-svc', '10.5.0.2:80', ['version=v2']);
    await until(
      () => discovery.endpoints('lkg-svc').instances.length === 2 && !discovery.endpoints('lkg-svc').stale,
      'the change made after the restart, and the stale mark cleared',
      5_000,
    );
    await until(() => health.events('watch-recovered') === 2, 'both subscriptions to log their recovery');
    expectOneFailureStreak(health, { recovered: true, watches: 2 });
    // Reconnects resumed from a fresh read, with Last-Event-ID.
    expect(proxy.streamRequests.length).toBeGreaterThan(1);
    expect(proxy.streamRequests.at(-1)?.lastEventId).toMatch(/^\d+$/);
  });

  it('converges to the new server state when a restart reset the revisions', async () => {
    const proxy = await proxyFor();
    const f = await follow(proxy);
    cleanup.push(() => f.close());
    // Push the revision up, so the restarted server (which counts from its file) is far behind it.
    for (let i = 1; i <= 8; i++) await register(registry.url, 'reset-churn', `10.6.0.${i}:80`);
    for (let i = 1; i <= 8; i++) await deregister(registry.url, 'reset-churn', `10.6.0.${i}:80`);
    await register(registry.url, 'reset-svc', '10.6.1.1:80');
    await until(() => f.has('reset-svc', '10.6.1.1:80'), 'the instance');
    const before = f.snapshots.at(-1)?.revision as number;
    // A registry that restarts with its instances but not its revisions: an Amalgam8 registry, or
    // a Weft file written before revisions were saved in it.
    await registry.stop();
    await forgetRevisions(join(registryDir, 'registry.json'));
    await registry.start();
    await deregister(registry.url, 'reset-svc', '10.6.1.1:80');
    await until(() => !f.has('reset-svc', '10.6.1.1:80'), 'the removal made after the restart', 5_000);
    // Still streaming: the reconnect neither stalled on the old revision nor gave up on SSE.
    expect(f.logger.codes()).not.toContain('WEFT_WARN_WATCH_FALLBACK');
    const after = f.snapshots.at(-1)?.revision as number;
    // The premise: the file kept instances, not revisions, so they started over.
    expect(after).toBeLessThan(before);
    expect(f.logger.codes()).toContain('WEFT_WARN_WATCH_RELIST');
  });

  it('clears the stale mark when the restarted registry lands on the very revision the source holds', async () => {
    const tmp = await tempDir('weft-registry-same-rev-');
    const own = await startRegistry({ dir: tmp.dir });
    cleanup.push(async () => {
      await own.stop();
      await tmp.remove();
    });
    const proxy = await MeddlingProxy.start(own.port);
    cleanup.push(() => proxy.close());
    await register(own.url, 'same-svc', '10.8.0.1:80');
    await register(own.url, 'same-svc', '10.8.0.2:80');
    const f = await follow(proxy);
    cleanup.push(() => f.close());
    await until(() => f.snapshots.length > 0, 'the first snapshot');
    const held = f.snapshots.at(-1)?.revision;
    await own.stop();
    await until(() => f.errors.length > 0, 'the outage to be reported');
    const delivered = f.snapshots.length;
    await forgetRevisions(join(tmp.dir, 'registry.json'));
    await own.start(); // restores both instances from its file: the same revision, from another history
    await until(() => f.snapshots.length > delivered, 'a snapshot after the restart, without any change', 3_000);
    expect(f.snapshots.at(-1)?.revision).toBe(held); // the premise
    expect(f.snapshots.at(-1)?.instances).toHaveLength(2);
  });

  it('sends the token and namespace, and sees only that namespace', async () => {
    const proxy = await proxyFor();
    await register(registry.url, 'tenant-svc', '10.7.0.1:80', [], 'tenant-a');
    await register(registry.url, 'tenant-svc', '10.7.0.2:80', [], 'tenant-b');
    const f = await follow(proxy, { token: 'tenant-a', namespace: 'tenant-a' });
    cleanup.push(() => f.close());
    await until(() => f.has('tenant-svc', '10.7.0.1:80'), "tenant-a's instance");
    const last = f.snapshots.at(-1);
    expect(last?.instances.map((i) => i.endpoint.value)).toEqual(['10.7.0.1:80']);
    expect(last?.instances[0]?.namespace).toBe('tenant-a');
  });
});

/** Drops the saved revision from a registry snapshot file, as a file from before revisions were saved. */
async function forgetRevisions(path: string): Promise<void> {
  const file = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  delete file.revision;
  await writeFile(path, JSON.stringify(file));
}
