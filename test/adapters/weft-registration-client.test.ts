/**
 * RegistrationClient against the registry server on loopback: registration, heartbeats at a third
 * of the granted TTL (on a virtual clock, so the interval is checked exactly), re-registration on
 * 410 Gone, retries while the registry is down, status changes, deregistration on close.
 */
import { type RegisteredInstance, RegistrationClient, type RegistrationReason } from '@weft/adapters/weft';
import { VirtualClock } from '@weft/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { call, FAST, listInstances, RecordingLogger, tempDir, until } from '../control-plane/helpers.js';
import { MeddlingProxy } from '../control-plane/meddling-proxy.js';
import { type ServerHandle, startRegistry } from '../control-plane/servers.js';

let registry: ServerHandle;
let proxy: MeddlingProxy;
let removeDir: () => Promise<void>;

beforeAll(async () => {
  const tmp = await tempDir('weft-registration-');
  removeDir = tmp.remove;
  registry = await startRegistry({ dir: tmp.dir });
  proxy = await MeddlingProxy.start(registry.port);
});
afterAll(async () => {
  await proxy?.close();
  await registry?.stop();
  await removeDir?.();
});

const listed = async (value: string) => (await listInstances(registry.url)).find((i) => i.endpoint.value === value);

describe('RegistrationClient', () => {
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  function client(value: string, extra: Partial<ConstructorParameters<typeof RegistrationClient>[0]> = {}) {
    const events: Array<{ reason: RegistrationReason; instance: RegisteredInstance }> = [];
    const errors: Error[] = [];
    const c = new RegistrationClient({
      url: proxy.url,
      registration: { service: 'reviews', endpoint: { type: 'http', value }, tags: ['version=v1'], ttl: 15 },
      logger: new RecordingLogger(),
      ...FAST,
      ...extra,
    });
    c.on('registered', (instance, reason) => events.push({ instance, reason }));
    c.on('error', (e) => errors.push(e));
    cleanup.push(() => c.close());
    return { c, events, errors };
  }

  const heartbeats = (id: string) => proxy.seen.filter((r) => r.method === 'PUT' && r.url.includes(`/${id}/heartbeat`));

  it('registers, then heartbeats every third of the TTL the registry granted', async () => {
    const clock = new VirtualClock(Date.now());
    const { c } = client('10.9.0.1:9080', { clock });
    const instance = await c.start();
    expect(instance.ttl).toBe(15);
    expect(await listed('10.9.0.1:9080')).toMatchObject({ id: instance.id, service_name: 'reviews', status: 'UP' });
    await until(() => clock.pendingTimers > 0, 'the heartbeat to be scheduled');
    clock.advance(4_999);
    await new Promise((r) => setTimeout(r, 100));
    expect(heartbeats(instance.id)).toHaveLength(0);
    clock.advance(1); // 15 s / 3
    await until(() => heartbeats(instance.id).length === 1, 'the first heartbeat');
    await until(() => clock.pendingTimers > 0, 'the next heartbeat to be scheduled');
    clock.advance(5_000);
    await until(() => heartbeats(instance.id).length === 2, 'the second heartbeat');
  });

  it('registers again at once when a heartbeat is answered 410 Gone', async () => {
    const { c, events } = client('10.9.0.2:9080', { heartbeatIntervalMs: 100 });
    const instance = await c.start();
    // The registry forgets it (as when it expired it during an outage).
    expect((await call(registry.url, 'DELETE', `/api/v1/instances/${instance.id}`)).status).toBe(200);
    await until(() => events.some((e) => e.reason === 'gone'), 're-registration after the 410', 2_000);
    expect(await listed('10.9.0.2:9080')).toMatchObject({ id: instance.id });
    expect(c.id).toBe(instance.id); // deterministic id: the same endpoint gets the same one
  });

  it('retries with backoff while the registry is down, and registers as soon as it is back', async () => {
    await registry.stop();
    try {
      const { c, errors } = client('10.9.0.3:9080');
      let registered = false;
      const started = c.start().then((i) => {
        registered = true;
        return i;
      });
      await until(() => errors.length >= 2, 'a few failed attempts');
      expect(registered).toBe(false);
      await registry.start();
      const instance = await started;
      await until(
        async () => (await listed('10.9.0.3:9080'))?.id === instance.id,
        'the instance in the registry',
        2_000,
      );
    } finally {
      await registry.start();
    }
  });

  it("changes its status with the registry's status call", async () => {
    const { c, events } = client('10.9.0.4:9080');
    const first = await c.start();
    const second = await c.setStatus('OUT_OF_SERVICE');
    expect(second.id).toBe(first.id);
    expect(events.map((e) => e.reason)).toEqual(['start', 'status']);
    expect(await listed('10.9.0.4:9080')).toMatchObject({ status: 'OUT_OF_SERVICE' });
    expect(proxy.seen.filter((r) => r.url.endsWith(`/${first.id}/status`))).toHaveLength(1);
  });

  it('changes its status by registering again on a registry without the status call (Amalgam8)', async () => {
    proxy.notFound = /\/status$/;
    try {
      const { c, events } = client('10.9.0.6:9080');
      const first = await c.start();
      await c.setStatus('STARTING');
      expect(await listed('10.9.0.6:9080')).toMatchObject({ id: first.id, status: 'STARTING' });
      await c.setStatus('UP'); // known now: straight to registering, no status call tried
      expect(await listed('10.9.0.6:9080')).toMatchObject({ id: first.id, status: 'UP' });
      expect(events.map((e) => e.reason)).toEqual(['start', 'status', 'status']);
      const seen = proxy.seen.filter((r) => r.url.endsWith(`/${first.id}/status`));
      expect(seen).toHaveLength(1);
    } finally {
      proxy.notFound = undefined;
    }
  });

  it('deregisters on close, and stops heartbeating', async () => {
    const { c } = client('10.9.0.5:9080', { heartbeatIntervalMs: 50 });
    const deregistered: string[] = [];
    c.on('deregistered', (id) => deregistered.push(id));
    const instance = await c.start();
    await until(() => heartbeats(instance.id).length >= 2, 'some heartbeats');
    await c.close();
    expect(deregistered).toEqual([instance.id]);
    expect(await listed('10.9.0.5:9080')).toBeUndefined();
    const count = heartbeats(instance.id).length;
    await new Promise((r) => setTimeout(r, 200));
    expect(heartbeats(instance.id)).toHaveLength(count);
    await expect(c.start()).rejects.toThrow(/closed/i);
  });

  it('refuses an invalid registration up front, naming the field', () => {
    expect(
      () => new RegistrationClient({ url: proxy.url, registration: { service: 'x', endpoint: { value: 'no-port' } } }),
    ).toThrow(/endpoint\.value: must be "host:port"/);
    expect(
      () => new RegistrationClient({ url: 'ftp://x', registration: { service: 'x', endpoint: { value: 'a:1' } } }),
    ).toThrow(/url: must be an http or https URL/);
  });
});
