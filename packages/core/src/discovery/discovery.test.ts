import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../clock/index.js';
import { isWeftError } from '../errors/index.js';
import { type InstanceStatus, instanceId, type ServiceInstance } from '../model/index.js';
import { Discovery } from './discovery.js';
import type { EndpointSet } from './endpoint-set.js';
import { ManualSource } from './manual-source.js';
import { SourcesFailedError } from './start-error.js';

function inst(service: string, port: number, opts: { tags?: string[]; status?: InstanceStatus } = {}): ServiceInstance {
  const value = `10.0.0.1:${port}`;
  return {
    id: instanceId(service, 'http', value),
    namespace: 'default',
    service,
    endpoint: { type: 'http', value, host: '10.0.0.1', port },
    tags: opts.tags ?? [],
    metadata: {},
    status: opts.status ?? 'UP',
    ttl: 30,
    registeredAt: 0,
    lastHeartbeat: 0,
  };
}

const tick = () => new Promise<void>((r) => setImmediate(r));

describe('Discovery', () => {
  it('merges sources, first source wins on the same id, and filters by status and tags', () => {
    const a = new ManualSource('a', [
      inst('reviews', 1, { tags: ['version=v1'] }),
      inst('reviews', 2, { tags: ['version=v2'] }),
    ]);
    const b = new ManualSource('b', [
      inst('reviews', 1, { tags: ['version=OTHER'] }),
      inst('reviews', 3, { tags: ['version=v2'], status: 'STARTING' }),
      inst('ratings', 4),
    ]);
    const d = new Discovery({ sources: [a, b] });
    expect(d.services()).toEqual(['ratings', 'reviews']);
    const up = d.endpoints('reviews');
    expect(up.instances.map((i) => i.endpoint.port).sort()).toEqual([1, 2]);
    expect(up.instances.find((i) => i.endpoint.port === 1)?.tags).toEqual(['version=v1']);
    expect(d.endpoints('reviews', { tags: ['version=v2'] }).instances.map((i) => i.endpoint.port)).toEqual([2]);
    expect(
      d
        .endpoints('reviews', { tags: ['version=v2'], status: ['UP', 'STARTING'] })
        .instances.map((i) => i.endpoint.port)
        .sort(),
    ).toEqual([2, 3]);
    expect(d.endpoints('nope')).toMatchObject({ revision: 0, instances: [] });
  });

  it('bumps the revision only when a set really changes', () => {
    const src = new ManualSource('m', [inst('reviews', 1), inst('ratings', 2)]);
    const d = new Discovery({ sources: [src] });
    const r1 = d.endpoints('reviews').revision;
    const ratings1 = d.endpoints('ratings').revision;
    // Same content, new objects, different order: no change.
    src.set([inst('ratings', 2), inst('reviews', 1)]);
    expect(d.endpoints('reviews').revision).toBe(r1);
    expect(d.endpoints('reviews')).toBe(d.endpoints('reviews')); // cached view, no rebuild
    // A tag change is a change; the other service is untouched.
    src.set([inst('reviews', 1, { tags: ['canary'] }), inst('ratings', 2)]);
    expect(d.endpoints('reviews').revision).toBeGreaterThan(r1);
    expect(d.endpoints('ratings').revision).toBe(ratings1);
  });

  it('keeps the last-known-good set when a source fails and reports staleness', async () => {
    const clock = new VirtualClock(1_000);
    const src = new ManualSource('m', [inst('reviews', 1)]);
    const d = new Discovery({ sources: [src], clock });
    const errors: string[] = [];
    d.on('sourceError', (name, err) => errors.push(`${name}:${err.message}`));
    const seen: EndpointSet[] = [];
    d.watch('reviews', (s) => seen.push(s));
    await tick();
    src.fail(new Error('connection refused'));
    clock.advance(2_500);
    const set = d.endpoints('reviews');
    expect(set.instances).toHaveLength(1);
    expect(set.stale).toBe(true);
    expect(set.staleForMs).toBe(2_500);
    expect(errors).toEqual(['m:connection refused']);
    expect(d.health()[0]).toMatchObject({ name: 'm', state: 'stale', staleSince: 1_000 });
    await tick();
    expect(seen.at(-1)?.stale).toBe(true);
    src.set([inst('reviews', 1)]);
    expect(d.endpoints('reviews').stale).toBe(false);
    expect(d.health()[0]?.state).toBe('ok');
    await tick();
    expect(seen.at(-1)?.stale).toBe(false);
  });

  it('coalesces a burst of changes into one watcher call with the latest set', async () => {
    const src = new ManualSource('m', [inst('reviews', 1)]);
    const d = new Discovery({ sources: [src] });
    const seen: number[][] = [];
    d.watch('reviews', (s) => seen.push(s.instances.map((i) => i.endpoint.port ?? 0)));
    src.set([inst('reviews', 1), inst('reviews', 2)]);
    src.set([inst('reviews', 1), inst('reviews', 2), inst('reviews', 3)]);
    await tick();
    expect(seen).toHaveLength(1);
    expect(seen[0]?.sort()).toEqual([1, 2, 3]);
    src.set([inst('reviews', 3)]);
    await tick();
    expect(seen).toHaveLength(2);
    expect(seen[1]).toEqual([3]);
  });

  it('resolves ready() once every source reported, and frees everything on close', async () => {
    const empty = new ManualSource('late');
    const d = new Discovery({ sources: [empty] });
    let ready = false;
    void d.ready().then(() => {
      ready = true;
    });
    await tick();
    expect(ready).toBe(false);
    empty.set([inst('reviews', 1)]);
    await tick();
    expect(ready).toBe(true);
    const sub = d.watch('ghost', () => {});
    sub.unsubscribe();
    expect(d.services()).toEqual(['reviews']);
    d.close();
    expect(empty.subscriberCount).toBe(0);
    expect(() => d.endpoints('reviews')).toThrowError(expect.objectContaining({ code: 'WEFT_ERR_CLOSED' }));
  });

  it('rejects ready() naming every source that failed before its first snapshot, and keeps serving', async () => {
    const good = new ManualSource('static', [inst('reviews', 1)]);
    const missingPeer = new ManualSource('etcd:/weft');
    const down = new ManualSource('consul');
    const d = new Discovery({ sources: [good, missingPeer, down] });
    const ready = d.ready();
    missingPeer.fail(new Error('@weft/adapters/etcd needs the etcd3 package: npm install etcd3'));
    down.fail(new Error('connect ECONNREFUSED 127.0.0.1:8500'));
    const err: unknown = await ready.then(
      () => expect.unreachable('ready() resolved although two sources never started'),
      (e: unknown) => e,
    );
    expect(isWeftError(err, 'WEFT_ERR_SOURCE_FAILED')).toBe(true);
    expect(err).toBeInstanceOf(SourcesFailedError);
    const failed = err as SourcesFailedError;
    expect(failed.failures.map((f) => f.source)).toEqual(['etcd:/weft', 'consul']);
    expect(failed.message).toBe(
      'Discovery sources failed before their first snapshot: etcd:/weft: @weft/adapters/etcd needs the etcd3 package: npm install etcd3; consul: connect ECONNREFUSED 127.0.0.1:8500',
    );
    expect(failed.cause).toBe(failed.failures[0]?.error);
    // Discovery is still usable, and a source that recovers is served.
    expect(d.endpoints('reviews').instances).toHaveLength(1);
    down.set([inst('reviews', 2)]);
    expect(d.endpoints('reviews').instances).toHaveLength(2);
    d.close();
  });

  it('resolves ready() when a source failed once but delivered before the others settled, or failed after delivering', async () => {
    const flaky = new ManualSource('flaky');
    const late = new ManualSource('late');
    const d = new Discovery({ sources: [flaky, late] });
    const ready = d.ready();
    flaky.fail(new Error('first dial failed'));
    flaky.set([inst('reviews', 1)]);
    late.set([inst('reviews', 2)]);
    late.fail(new Error('watch broke after the first snapshot'));
    await expect(ready).resolves.toBeUndefined();
    d.close();
  });

  it('rejects ready() with a coded timeout naming the silent sources', async () => {
    const clock = new VirtualClock();
    const d = new Discovery({ sources: [new ManualSource('silent'), new ManualSource('static', [])], clock });
    const ready = d.ready(500);
    clock.advance(500);
    await expect(ready).rejects.toThrowError(
      expect.objectContaining({
        code: 'WEFT_ERR_TIMEOUT',
        message: 'Discovery not ready after 500 ms; waiting for: silent',
      }),
    );
    d.close();
  });

  it('rejects construction without sources with a coded error naming the field', () => {
    try {
      new Discovery({ sources: [] });
      expect.unreachable();
    } catch (err) {
      expect(isWeftError(err, 'WEFT_ERR_INVALID_ARGUMENT')).toBe(true);
      expect((err as Error).message).toBe('Invalid discovery options: sources: must list at least one source');
    }
  });
});
