import {
  instanceId,
  isWeftError,
  ManualSource,
  MemoryRegistry,
  type RegistrySnapshot,
  type ServiceInstance,
  VirtualClock,
} from '@weft/core';
import { afterEach, describe, expect, it } from 'vitest';
import { MirrorMetadata, mirroredId } from './mirrored-instance.js';
import { MirroredRegistry } from './mirrored-registry.js';

/** A source instance, as an adapter would deliver it. */
function external(service: string, value: string, extra: Partial<ServiceInstance> = {}): ServiceInstance {
  const [host, port] = value.split(':') as [string, string];
  return {
    id: `${service}-${value}`,
    namespace: 'default',
    service,
    endpoint: { type: 'http', value, host, port: Number(port) },
    tags: ['version=v1'],
    metadata: {},
    status: 'UP',
    ttl: 0,
    registeredAt: 0,
    lastHeartbeat: 0,
    ...extra,
  };
}

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

/** Every snapshot a watch delivers. */
function record(registry: MirroredRegistry, options: { namespace?: string; service?: string } = {}) {
  const seen: RegistrySnapshot[] = [];
  const ends: unknown[] = [];
  const sub = registry.watch({ ...options, onEnd: (r) => ends.push(r) }, (s) => {
    seen.push(s);
  });
  return { seen, ends, sub, last: () => seen[seen.length - 1] };
}

describe('MirroredRegistry', () => {
  const clock = new VirtualClock(1_000_000);
  let native: MemoryRegistry;
  let registry: MirroredRegistry | undefined;
  afterEach(async () => {
    await registry?.close();
    await native?.close();
    registry = undefined;
  });

  function make(source: ManualSource, extra: { namespace?: string; services?: string[] } = {}) {
    native = new MemoryRegistry({ clock, ttl: { minSeconds: 1 } });
    registry = new MirroredRegistry(
      native,
      [
        {
          name: 'consul:default',
          namespace: extra.namespace ?? 'default',
          type: 'consul',
          source,
          services: extra.services,
        },
      ],
      { now: () => clock.now() },
    );
    return registry;
  }

  it('lists a natively registered and a mirrored instance of one service side by side, each with its source', async () => {
    const source = new ManualSource('consul', [external('reviews', '10.0.0.1:9080')]);
    const r = make(source);
    const own = await r.register({ service: 'reviews', endpoint: { type: 'http', value: '10.0.0.1:9080' }, ttl: 30 });
    const all = await r.instances({ service: 'reviews' });
    expect(all).toHaveLength(2);
    const mirrored = all.find((i) => i.id !== own.id) as ServiceInstance;
    // The same endpoint, yet two instances: the mirrored id never equals the native one.
    expect(own.id).toBe(instanceId('reviews', 'http', '10.0.0.1:9080'));
    expect(mirrored.id).toBe(mirroredId('consul:default', 'reviews-10.0.0.1:9080'));
    expect(mirrored.metadata).toEqual({
      [MirrorMetadata.source]: 'consul',
      [MirrorMetadata.mirror]: 'consul:default',
      [MirrorMetadata.sourceId]: 'reviews-10.0.0.1:9080',
    });
    expect(mirrored.ttl).toBe(0);
    expect(own.metadata).toEqual({});
    expect(await r.services()).toEqual(['reviews']);
  });

  it('applies the query to mirrored instances: UP only by default, tags, services', async () => {
    const source = new ManualSource('consul', [
      external('a', '10.0.0.1:1'),
      external('a', '10.0.0.2:1', { status: 'OUT_OF_SERVICE', id: 'a-2' }),
      external('b', '10.0.0.3:1', { tags: ['version=v2'] }),
    ]);
    const r = make(source);
    expect((await r.instances()).map((i) => i.endpoint.value)).toEqual(['10.0.0.1:1', '10.0.0.3:1']);
    expect((await r.instances({ status: 'ALL', service: 'a' })).map((i) => i.endpoint.value).sort()).toEqual([
      '10.0.0.1:1',
      '10.0.0.2:1',
    ]);
    expect((await r.instances({ tags: ['version=v2'] })).map((i) => i.service)).toEqual(['b']);
    expect(await r.services()).toEqual(['a', 'b']);
    expect(await r.services({ namespace: 'other' })).toEqual([]);
  });

  it('mirrors only the services asked for', async () => {
    const r = make(new ManualSource('consul', [external('a', '10.0.0.1:1'), external('b', '10.0.0.2:1')]), {
      services: ['b'],
    });
    expect(await r.services()).toEqual(['b']);
  });

  it('refuses renew, deregister and status changes of a mirrored id with a 403 naming the mirror', async () => {
    const r = make(new ManualSource('consul', [external('a', '10.0.0.1:1')]));
    const [mirrored] = await r.instances();
    const id = (mirrored as ServiceInstance).id;
    for (const attempt of [() => r.renew(id), () => r.deregister(id), () => r.setStatus(id, 'OUT_OF_SERVICE')]) {
      const err = await attempt().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isWeftError(err, 'WEFT_ERR_MIRRORED_INSTANCE')).toBe(true);
      expect((err as { status: number }).status).toBe(403);
      expect((err as Error).message).toContain('mirror "consul:default"');
    }
    // In another namespace the id is simply unknown (no mirror there).
    const other = await r.renew(id, { namespace: 'other' }).catch((e: unknown) => e);
    expect(isWeftError(other, 'WEFT_ERR_UNKNOWN_INSTANCE')).toBe(true);
  });

  it('keeps mirrored instances past any TTL, while native ones expire', async () => {
    const r = make(new ManualSource('consul', [external('a', '10.0.0.1:1')]));
    await r.register({ service: 'a', endpoint: { type: 'http', value: '10.0.0.9:1' }, ttl: 1 });
    expect(await r.instances()).toHaveLength(2);
    await clock.advanceAsync(60_000);
    const left = await r.instances();
    expect(left.map((i) => i.metadata[MirrorMetadata.source])).toEqual(['consul']);
  });

  it('delivers native and mirror changes to watchers with revisions that only grow', async () => {
    const source = new ManualSource('consul', [external('a', '10.0.0.1:1')]);
    const r = make(source);
    const w = record(r);
    await flush();
    expect(w.last()?.instances).toHaveLength(1);
    await r.register({ service: 'a', endpoint: { type: 'http', value: '10.0.0.9:1' }, ttl: 30 });
    await flush();
    expect(w.last()?.instances).toHaveLength(2);
    source.set([]);
    await flush();
    expect(w.last()?.instances.map((i) => i.endpoint.value)).toEqual(['10.0.0.9:1']);
    source.set([external('a', '10.0.0.1:1'), external('c', '10.0.0.3:1')]);
    await flush();
    expect(w.last()?.instances.map((i) => i.service)).toEqual(['a', 'a', 'c']);
    const revisions = w.seen.map((s) => s.revision);
    expect(revisions).toHaveLength(4);
    expect([...revisions].sort((x, y) => x - y)).toEqual(revisions);
    expect(new Set(revisions).size).toBe(revisions.length);
    // A plain read and a fresh watch agree with the namespace's revision.
    const again = record(r);
    await flush();
    expect(again.last()?.revision).toBe(w.last()?.revision);
  });

  it('wakes a per-service watch only for its own service, and skips snapshots that change nothing', async () => {
    const source = new ManualSource('consul', [external('a', '10.0.0.1:1')]);
    const r = make(source);
    const a = record(r, { service: 'a' });
    await flush();
    expect(a.seen).toHaveLength(1);
    source.set([external('a', '10.0.0.1:1'), external('b', '10.0.0.2:1')]);
    source.set([external('a', '10.0.0.1:1'), external('b', '10.0.0.2:1')]);
    await flush();
    expect(a.seen).toHaveLength(1);
    source.set([external('b', '10.0.0.2:1')]);
    await flush();
    expect(a.seen).toHaveLength(2);
    expect(a.last()?.instances).toEqual([]);
    expect(a.last()?.service).toBe('a');
  });

  it('coalesces deliveries to a slow listener and ends with the latest state', async () => {
    const source = new ManualSource('consul', []);
    const r = make(source);
    let release: () => void = () => {};
    const seen: number[] = [];
    r.watch({}, (s) => {
      seen.push(s.instances.length);
      return new Promise<void>((resolve) => {
        release = resolve;
      });
    });
    await flush();
    for (let n = 1; n <= 5; n++) source.set(Array.from({ length: n }, (_, i) => external('a', `10.0.0.${i + 1}:1`)));
    await flush();
    expect(seen).toEqual([0]);
    release();
    await flush();
    expect(seen).toEqual([0, 5]);
  });

  it('keeps the last state of a failing source and reports it, until the source recovers', async () => {
    const source = new ManualSource('consul', [external('a', '10.0.0.1:1')]);
    const r = make(source);
    expect(r.mirrorStatus()[0]?.state).toBe('ok');
    source.fail(new Error('connection refused'));
    const stale = r.mirrorStatus()[0];
    expect(stale).toMatchObject({ state: 'stale', lastError: 'connection refused', instances: 1 });
    expect(stale?.staleSince).toBe(clock.now());
    expect(await r.instances()).toHaveLength(1);
    source.set([external('a', '10.0.0.1:1')]);
    expect(r.mirrorStatus()[0]).toMatchObject({ state: 'ok', lastError: undefined, staleSince: undefined });
  });

  it('passes namespaces without mirrors through untouched', async () => {
    const r = make(new ManualSource('consul', [external('a', '10.0.0.1:1')]), { namespace: 'mirrored' });
    await r.register({ service: 'x', endpoint: { type: 'http', value: '10.0.0.9:1' }, ttl: 30 });
    const viaWrapper = record(r);
    const direct: RegistrySnapshot[] = [];
    native.watch({}, (s) => {
      direct.push(s);
    });
    await flush();
    expect(viaWrapper.last()).toEqual(direct[direct.length - 1]);
    expect(await r.instances()).toEqual(await native.instances());
  });

  it('ends its watches when closed, and leaves the native registry open', async () => {
    const r = make(new ManualSource('consul', []));
    const mirroredWatch = record(r);
    const plainWatch = record(r, { namespace: 'other' });
    await flush();
    await r.close();
    for (const w of [mirroredWatch, plainWatch]) {
      expect(w.ends).toHaveLength(1);
      expect(isWeftError(w.ends[0], 'WEFT_ERR_CLOSED')).toBe(true);
    }
    expect(() => r.watch({}, () => {})).toThrow(/closed/i);
    await expect(native.services()).resolves.toEqual([]);
  });
});
