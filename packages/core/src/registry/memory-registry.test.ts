import { describe, expect, it, vi } from 'vitest';
import { VirtualClock } from '../clock/index.js';
import {
  type InvalidArgumentError,
  isWeftError,
  NamespaceCapacityError,
  UnknownInstanceError,
} from '../errors/index.js';
import { instanceId, type RegistrationInput, type ServiceInstance } from '../model/index.js';
import { MemoryRegistry } from './memory-registry.js';
import type { MemoryRegistryOptions } from './options.js';

// Lets a test force two registrations onto one id, as a 64-bit hash collision would.
const ids64 = vi.hoisted(() => ({ forced: undefined as string | undefined }));
vi.mock('../model/id.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../model/id.js')>();
  return { instanceId: (...a: [string, string, string]) => ids64.forced ?? actual.instanceId(...a) };
});

const T0 = Date.UTC(2026, 0, 1);

function setup(options: Omit<MemoryRegistryOptions, 'clock'> = {}) {
  const clock = new VirtualClock(T0);
  const registry = new MemoryRegistry({ ...options, clock });
  return { clock, registry };
}

function reg(service: string, port: number, extra: Partial<RegistrationInput> = {}): RegistrationInput {
  return { service, endpoint: { type: 'http', value: `10.0.0.1:${port}` }, ...extra };
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

/** The i-th of many distinct instances: four services, TTLs spread over [10, 20) s. */
const bulk = (i: number): RegistrationInput => ({
  service: `svc${i % 4}`,
  endpoint: { host: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, port: 80 },
  ttl: 10 + (i % 10),
});

const ids = (list: readonly ServiceInstance[]) => list.map((i) => i.id);

describe('MemoryRegistry registration', () => {
  it('registers with the deterministic Amalgam8 id and a normalised, frozen view', async () => {
    const { registry } = setup();
    const inst = await registry.register(reg('reviews', 9080, { tags: ['version=v1'], metadata: { zone: { a: 1 } } }));
    expect(inst).toEqual({
      id: 'e3527005a80b2e25',
      namespace: 'default',
      service: 'reviews',
      endpoint: { type: 'http', value: '10.0.0.1:9080', host: '10.0.0.1', port: 9080 },
      tags: ['version=v1'],
      metadata: { zone: { a: 1 } },
      status: 'UP',
      ttl: 30,
      registeredAt: T0,
      lastHeartbeat: T0,
    });
    expect(Object.isFrozen(inst)).toBe(true);
    expect(Object.isFrozen(inst.tags)).toBe(true);
    expect(Object.isFrozen(inst.endpoint)).toBe(true);
    expect(Object.isFrozen((inst.metadata as { zone: object }).zone)).toBe(true);
  });

  it('does not alias the caller’s input', async () => {
    const { registry } = setup();
    const input = reg('reviews', 1, { tags: ['a'], metadata: { m: { n: 1 } } });
    await registry.register(input);
    (input.tags as string[]).push('b');
    ((input.metadata as { m: { n: number } }).m as { n: number }).n = 2;
    const [inst] = await registry.instances();
    expect(inst?.tags).toEqual(['a']);
    expect(inst?.metadata).toEqual({ m: { n: 1 } });
  });

  it('re-registration overwrites the same id, keeps registeredAt and re-arms the TTL', async () => {
    const { clock, registry } = setup();
    const a = await registry.register(reg('reviews', 1, { tags: ['v1'] }));
    clock.advance(20_000);
    const b = await registry.register(reg('reviews', 1, { tags: ['v2'], ttl: 60 }));
    expect(b.id).toBe(a.id);
    expect(b).toMatchObject({ tags: ['v2'], ttl: 60, registeredAt: T0, lastHeartbeat: T0 + 20_000 });
    expect(await registry.instances()).toEqual([b]);
    expect(registry.stats().instances).toBe(1);
    clock.advance(59_999);
    expect(ids(await registry.instances())).toEqual([a.id]);
    clock.advance(1);
    expect(await registry.instances()).toEqual([]);
  });

  it('re-registration with a shorter TTL brings the deadline forward', async () => {
    const { clock, registry } = setup();
    await registry.register(reg('reviews', 1, { ttl: 600 }));
    await registry.register(reg('reviews', 1, { ttl: 10 }));
    clock.advance(9_999);
    expect(await registry.instances()).toHaveLength(1);
    clock.advance(1);
    expect(await registry.instances()).toHaveLength(0);
  });

  it('names the bad field when the input is invalid', async () => {
    const { registry } = setup();
    const err = await rejection(registry.register({ service: '', endpoint: { value: 'nope' } } as RegistrationInput));
    expect(isWeftError(err, 'WEFT_ERR_INVALID_ARGUMENT')).toBe(true);
    expect(err.message).toMatch(/^Invalid registration: /);
    expect((err as InvalidArgumentError).issues.map((i) => i.path)).toEqual(['service', 'endpoint.value']);
    const ns = await rejection(registry.register(reg('s', 1), { namespace: '' }));
    expect((ns as InvalidArgumentError).issues).toEqual([{ path: 'namespace', message: 'must not be empty' }]);
    const status = await rejection(registry.setStatus('x', 'DOWN' as 'UP'));
    expect(status.message).toMatch(/^Invalid status: /);
    const id = await rejection(registry.renew(42 as unknown as string));
    expect((id as InvalidArgumentError).issues).toEqual([{ path: 'id', message: 'must be a string' }]);
  });
});

describe('MemoryRegistry TTL', () => {
  it('applies the default for 0 and clamps to [min, max]', async () => {
    const { registry } = setup();
    const ttl = async (t: number | undefined, port: number) =>
      (await registry.register(reg('s', port, t === undefined ? {} : { ttl: t }))).ttl;
    expect(await ttl(undefined, 1)).toBe(30);
    expect(await ttl(0, 2)).toBe(30);
    expect(await ttl(1, 3)).toBe(10);
    expect(await ttl(45, 4)).toBe(45);
    expect(await ttl(100_000, 5)).toBe(600);
  });

  it('takes a custom policy and rejects an inconsistent one, naming the field', () => {
    const { registry } = setup({ ttl: { defaultSeconds: 5, minSeconds: 1 } });
    expect(registry.ttlPolicy).toEqual({ defaultSeconds: 5, minSeconds: 1, maxSeconds: 600 });
    expect(() => new MemoryRegistry({ ttl: { defaultSeconds: 5 } })).toThrow(
      /ttl\.defaultSeconds: must lie within \[minSeconds, maxSeconds\] = \[10, 600\]/,
    );
    expect(() => new MemoryRegistry({ ttl: { minSeconds: 0 } })).toThrow(/ttl\.minSeconds: must be greater than 0/);
    expect(() => new MemoryRegistry({ capacity: -1 })).toThrow(/capacity/);
    expect(() => new MemoryRegistry({ bogus: 1 } as MemoryRegistryOptions)).toThrow(/bogus/);
  });

  it('expires exactly at the deadline, not a millisecond before', async () => {
    const { clock, registry } = setup();
    const expired: string[] = [];
    registry.on('expired', (i) => expired.push(`${i.id}@${clock.now() - T0}`));
    const a = await registry.register(reg('reviews', 1));
    clock.advance(29_999);
    expect(await registry.instances()).toHaveLength(1);
    expect(await registry.renew(a.id)).toMatchObject({ lastHeartbeat: T0 + 29_999 });
    clock.advance(29_999);
    expect(await registry.instances()).toHaveLength(1);
    expect(expired).toEqual([]);
    clock.advance(1);
    expect(expired).toEqual([`${a.id}@59999`]);
    expect(await registry.instances({ status: 'ALL' })).toEqual([]);
    expect(await registry.services()).toEqual([]);
    expect(registry.stats()).toMatchObject({ namespaces: 0, instances: 0, queued: 0, timerArmed: false });
    expect(clock.pendingTimers).toBe(0);
  });

  it('renewal of an expired or unknown id fails with a 410 that names the id', async () => {
    const { clock, registry } = setup();
    const a = await registry.register(reg('reviews', 1));
    clock.advance(30_000);
    for (const op of [registry.renew(a.id), registry.deregister(a.id), registry.setStatus(a.id, 'UP')]) {
      const err = await rejection(op);
      expect(err).toBeInstanceOf(UnknownInstanceError);
      expect(isWeftError(err, 'WEFT_ERR_UNKNOWN_INSTANCE')).toBe(true);
      expect(err.message).toBe(`Instance "${a.id}" is unknown or expired in namespace "default"; register it again`);
      expect((err as UnknownInstanceError).status).toBe(410);
    }
    // Registering again brings it back, as a new record.
    expect(await registry.register(reg('reviews', 1))).toMatchObject({ id: a.id, registeredAt: T0 + 30_000 });
  });

  it('treats a deadline passed while the timer is late as expired', async () => {
    // A clock whose timers never fire: expiry must still be exact, driven by the operations.
    const clock = new VirtualClock(T0);
    const lazy = { now: () => clock.now(), setTimeout: () => ({ clear() {} }), setInterval: () => ({ clear() {} }) };
    const registry = new MemoryRegistry({ clock: { ...lazy, sleep: () => Promise.resolve() } });
    const a = await registry.register(reg('reviews', 1));
    clock.advance(30_000);
    expect(await registry.instances()).toEqual([]);
    expect(isWeftError(await rejection(registry.renew(a.id)), 'WEFT_ERR_UNKNOWN_INSTANCE')).toBe(true);
  });

  it('keeps OUT_OF_SERVICE instances forever and re-arms from now when they come back', async () => {
    const { clock, registry } = setup();
    const a = await registry.register(reg('reviews', 1));
    await registry.register(reg('reviews', 2, { status: 'OUT_OF_SERVICE' }));
    await registry.setStatus(a.id, 'OUT_OF_SERVICE');
    clock.advance(3_600_000);
    expect(await registry.instances({ status: 'ALL' })).toHaveLength(2);
    expect(registry.stats().timerArmed).toBe(false);
    // Heartbeats of a parked instance are accepted and do not arm anything.
    expect(await registry.renew(a.id)).toMatchObject({ status: 'OUT_OF_SERVICE', lastHeartbeat: T0 + 3_600_000 });
    clock.advance(1000);
    const back = await registry.setStatus(a.id, 'UP');
    expect(back).toMatchObject({ status: 'UP', lastHeartbeat: T0 + 3_601_000 });
    clock.advance(29_999);
    expect(ids(await registry.instances())).toEqual([a.id]);
    clock.advance(1);
    expect(await registry.instances()).toEqual([]);
    expect(await registry.instances({ status: ['OUT_OF_SERVICE'] })).toHaveLength(1);
  });

  it('keeps the deadline of a STARTING → UP transition', async () => {
    const { clock, registry } = setup();
    const a = await registry.register(reg('reviews', 1, { status: 'STARTING' }));
    clock.advance(10_000);
    expect(await registry.setStatus(a.id, 'UP')).toMatchObject({ lastHeartbeat: T0 });
    clock.advance(20_000);
    expect(await registry.instances({ status: 'ALL' })).toEqual([]);
  });

  it('renewal pushes expiry out and needs no timer per instance', async () => {
    const { clock, registry } = setup();
    const a = await registry.register(reg('reviews', 1));
    const b = await registry.register(reg('reviews', 2));
    for (let i = 0; i < 10; i++) {
      clock.advance(20_000);
      await registry.renew(a.id);
      expect(clock.pendingTimers).toBe(1);
    }
    expect(ids(await registry.instances())).toEqual([a.id]);
    expect(b.id).not.toBe(a.id);
    clock.advance(30_000);
    expect(await registry.instances()).toEqual([]);
  });

  it('expires 100 000 instances in bulk, each at its own deadline', async () => {
    const { clock, registry } = setup();
    const n = 100_000;
    const expired = new Set<string>();
    let offDeadline = 0;
    registry.on('expired', (i) => {
      if (clock.now() !== deadline.get(i.id)) offDeadline++; // never early, never late
      expired.add(i.id);
    });
    for (let i = 0; i < n; i++) await registry.register(bulk(i));
    expect(registry.stats()).toMatchObject({ instances: n, queued: n });
    expect(clock.pendingTimers).toBe(1);
    const deadline = new Map<string, number>();
    const all = await registry.instances({ status: 'ALL' });
    for (const inst of all) deadline.set(inst.id, T0 + inst.ttl * 1000);
    // At 9 s, renew every third instance: its deadline moves to 9 s + TTL.
    clock.advance(9_000);
    for (let i = 0; i < all.length; i += 3) {
      const inst = all[i] as ServiceInstance;
      await registry.renew(inst.id);
      deadline.set(inst.id, T0 + 9_000 + inst.ttl * 1000);
    }
    const dueBy = (t: number) => [...deadline.values()].filter((d) => d <= T0 + t).length;
    for (const t of [9_999, 10_000, 14_500, 18_999, 19_000, 23_000, 27_999, 28_000]) {
      clock.advance(t - (clock.now() - T0));
      expect(expired.size, `at ${t} ms`).toBe(dueBy(t));
      expect((await registry.instances({ status: 'ALL' })).length).toBe(n - dueBy(t));
    }
    expect(expired.size).toBe(n);
    expect(offDeadline).toBe(0);
    expect(registry.stats()).toEqual({
      namespaces: 0,
      services: 0,
      instances: 0,
      watchers: 0,
      queued: 0,
      timerArmed: false,
    });
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('MemoryRegistry queries', () => {
  it('lists services sorted and instances by service then id, UP only by default', async () => {
    const { registry } = setup();
    const r1 = await registry.register(reg('reviews', 1, { tags: ['version=v1', 'canary'] }));
    const r2 = await registry.register(reg('reviews', 2, { tags: ['version=v2'] }));
    const r3 = await registry.register(reg('reviews', 3, { tags: ['version=v2'], status: 'STARTING' }));
    const d1 = await registry.register(reg('details', 4));
    expect(await registry.services()).toEqual(['details', 'reviews']);
    const sortedReviews = [r1, r2].sort((a, b) => (a.id < b.id ? -1 : 1));
    expect(await registry.instances()).toEqual([d1, ...sortedReviews]);
    expect(await registry.instances({ service: 'reviews', tags: ['version=v2'] })).toEqual([r2]);
    expect(await registry.instances({ service: 'reviews', tags: ['version=v1', 'canary'] })).toEqual([r1]);
    expect(await registry.instances({ service: 'reviews', tags: ['version=v1', 'version=v2'] })).toEqual([]);
    expect(ids(await registry.instances({ service: 'reviews', status: 'ALL' })).sort()).toEqual(
      [r1.id, r2.id, r3.id].sort(),
    );
    expect(await registry.instances({ status: ['STARTING'] })).toEqual([r3]);
    expect(await registry.instances({ service: 'nope' })).toEqual([]);
    await expect(registry.instances({ tag: ['x'] } as object)).rejects.toThrow(/Invalid instance query: .*tag/);
  });

  it('reports the latest heartbeat in instances()', async () => {
    const { clock, registry } = setup();
    const a = await registry.register(reg('reviews', 1));
    clock.advance(5_000);
    await registry.renew(a.id);
    expect((await registry.instances())[0]?.lastHeartbeat).toBe(T0 + 5_000);
  });

  it('isolates namespaces: same id, separate records, separate errors', async () => {
    const { registry } = setup();
    const a = await registry.register(reg('reviews', 1, { tags: ['a'] }), { namespace: 'tenant-a' });
    const b = await registry.register(reg('reviews', 1, { tags: ['b'] }), { namespace: 'tenant-b' });
    expect(a.id).toBe(b.id);
    expect(await registry.instances({ namespace: 'tenant-a' })).toEqual([a]);
    expect(await registry.instances({ namespace: 'tenant-b' })).toEqual([b]);
    expect(await registry.instances()).toEqual([]);
    expect(await registry.services({ namespace: 'tenant-c' })).toEqual([]);
    await registry.deregister(a.id, { namespace: 'tenant-a' });
    expect(await registry.instances({ namespace: 'tenant-b' })).toEqual([b]);
    const err = await rejection(registry.renew(a.id, { namespace: 'tenant-a' }));
    expect((err as UnknownInstanceError).namespace).toBe('tenant-a');
    expect(err.message).toContain('"tenant-a"');
  });

  it('enforces per-namespace capacity on new ids only', async () => {
    const { registry } = setup({ capacity: (ns) => (ns === 'small' ? 2 : 3) });
    await registry.register(reg('s', 1), { namespace: 'small' });
    await registry.register(reg('s', 2), { namespace: 'small' });
    const err = await rejection(registry.register(reg('s', 3), { namespace: 'small' }));
    expect(err).toBeInstanceOf(NamespaceCapacityError);
    expect(isWeftError(err, 'WEFT_ERR_NAMESPACE_CAPACITY')).toBe(true);
    expect(err.message).toBe('Namespace "small" is at its capacity of 2 instances');
    // Overwriting an existing id is fine at capacity, and other namespaces have their own budget.
    await registry.register(reg('s', 2, { tags: ['x'] }), { namespace: 'small' });
    for (const port of [1, 2, 3]) await registry.register(reg('s', port), { namespace: 'big' });
    await expect(registry.register(reg('s', 4), { namespace: 'big' })).rejects.toThrow(/capacity of 3/);
    // Freed room can be used again.
    await registry.deregister(instanceId('s', 'http', '10.0.0.1:1'), { namespace: 'small' });
    await registry.register(reg('s', 3), { namespace: 'small' });
    const zero = new MemoryRegistry({ capacity: 0, clock: new VirtualClock() });
    await expect(zero.register(reg('s', 1))).rejects.toThrow(/capacity of 0/);
  });

  it('deregisters and reports the removed instance', async () => {
    const { registry } = setup();
    const a = await registry.register(reg('reviews', 1));
    expect(await registry.deregister(a.id)).toEqual(a);
    expect(await registry.instances()).toEqual([]);
    await expect(registry.deregister(a.id)).rejects.toBeInstanceOf(UnknownInstanceError);
    expect(registry.stats()).toMatchObject({ namespaces: 0, services: 0, queued: 0, timerArmed: false });
  });
});

describe('MemoryRegistry robustness', () => {
  it('survives a throwing expired handler, on the timer and inside another call', async () => {
    const { clock, registry } = setup();
    const reported: unknown[] = [];
    registry.on('listenerError', (e) => reported.push((e as Error).message));
    registry.on('expired', () => {
      throw new Error('handler bug');
    });
    await registry.register(reg('reviews', 1));
    clock.advance(30_000); // the timer sweeps
    await expect(registry.register(reg('reviews', 2))).resolves.toMatchObject({ service: 'reviews' });
    expect(reported).toEqual(['handler bug']);
    // Time passes without timers firing; the next call sweeps, and must still succeed.
    const lazy = new MemoryRegistry({
      clock: {
        now: () => clock.now(),
        setTimeout: () => ({ clear() {} }),
        setInterval: () => ({ clear() {} }),
        sleep: async () => {},
      },
    });
    lazy.on('expired', () => {
      throw new Error('lazy bug');
    });
    lazy.on('listenerError', (e) => reported.push((e as Error).message));
    await lazy.register(reg('x', 1));
    clock.advance(30_000);
    await expect(lazy.register(reg('x', 2))).resolves.toMatchObject({ service: 'x' });
    expect(reported).toContain('lazy bug');
  });

  it('keeps its indexes straight when two services collide on one id', async () => {
    const { registry } = setup();
    ids64.forced = 'collision';
    try {
      await registry.register(reg('a', 1));
      const b = await registry.register(reg('b', 2));
      expect(await registry.services()).toEqual(['b']);
      expect(await registry.instances()).toEqual([b]);
      await registry.deregister('collision');
      expect(registry.stats()).toMatchObject({ namespaces: 0, services: 0, instances: 0 });
    } finally {
      ids64.forced = undefined;
    }
  });
});

describe('MemoryRegistry close', () => {
  it('stops the timer and rejects later calls with WEFT_ERR_CLOSED', async () => {
    const { clock, registry } = setup();
    const a = await registry.register(reg('reviews', 1));
    await registry.close();
    await registry.close();
    expect(clock.pendingTimers).toBe(0);
    for (const op of [
      registry.register(reg('reviews', 2)),
      registry.renew(a.id),
      registry.deregister(a.id),
      registry.setStatus(a.id, 'UP'),
      registry.instances(),
      registry.services(),
    ]) {
      const err = await rejection(op);
      expect(isWeftError(err, 'WEFT_ERR_CLOSED')).toBe(true);
      expect(err.message).toBe('MemoryRegistry is closed');
    }
    expect(() => registry.watch({}, () => {})).toThrow(/MemoryRegistry is closed/);
  });
});
