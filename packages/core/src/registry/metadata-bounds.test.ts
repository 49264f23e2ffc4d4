import { describe, expect, it, vi } from 'vitest';
import { VirtualClock } from '../clock/index.js';
import { InvalidArgumentError } from '../errors/index.js';
import { Amalgam8InstanceSchema, Amalgam8RegistrationSchema, Limits, ServiceInstanceSchema } from '../model/index.js';
import { jsonBoundsProblem } from '../model/json-bounds.js';
import { MemoryRegistry } from './memory-registry.js';

/** `{a: {a: … {leaf} …}}` with `levels` objects in all, built without recursion. */
function nested(levels: number, leaf: unknown = 1): Record<string, unknown> {
  let value: unknown = leaf;
  for (let i = 0; i < levels; i++) value = { a: value };
  return value as Record<string, unknown>;
}

async function registerWith(metadata: unknown): Promise<unknown> {
  const registry = new MemoryRegistry({ clock: new VirtualClock(0) });
  try {
    return await registry.register({
      service: 'reviews',
      endpoint: { type: 'http', value: '10.0.0.1:9080' },
      metadata: metadata as Record<string, never>,
    });
  } finally {
    await registry.close();
  }
}

async function rejection(metadata: unknown): Promise<InvalidArgumentError> {
  const err = await registerWith(metadata).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InvalidArgumentError);
  return err as InvalidArgumentError;
}

describe('registration metadata: depth and size before validation', () => {
  it('refuses 5000 levels of nesting with the coded error naming metadata, not a RangeError', async () => {
    for (const deep of [nested(5000), { list: JSON.parse(`${'['.repeat(5000)}${']'.repeat(5000)}`) }]) {
      const err = await rejection(deep);
      expect(err.code).toBe('WEFT_ERR_INVALID_ARGUMENT');
      expect(err.issues).toEqual([
        { path: 'metadata', message: expect.stringContaining(`more than ${Limits.metadataDepth} levels deep`) },
      ]);
    }
  });

  it('accepts metadata exactly at the depth limit, and refuses one level more', async () => {
    await expect(registerWith(nested(Limits.metadataDepth))).resolves.toMatchObject({
      metadata: nested(Limits.metadataDepth),
    });
    await expect(registerWith({ zone: { rack: { slot: [1, { unit: 'a' }] } } })).resolves.toBeDefined();
    expect((await rejection(nested(Limits.metadataDepth + 1))).issues[0]?.path).toBe('metadata');
  });

  it('refuses metadata that refers to itself (JSON cannot represent it)', async () => {
    const cyclic: Record<string, unknown> = { name: 'x' };
    cyclic.self = cyclic;
    expect((await rejection(cyclic)).issues[0]?.message).toMatch(/levels deep \(nor refer to itself\)/);
  });

  it('refuses huge metadata by counting values, before serialising it', async () => {
    const wide = Object.fromEntries(Array.from({ length: 200_000 }, (_, i) => [`k${i}`, i]));
    // Counted, not serialised: JSON.stringify never sees the object (a timing bound would say the
    // same on a quiet machine, and nothing on a busy one).
    const stringify = vi.spyOn(JSON, 'stringify');
    let err: Awaited<ReturnType<typeof rejection>>;
    try {
      err = await rejection(wide);
      expect(stringify.mock.calls.some(([value]) => value === wide)).toBe(false);
    } finally {
      stringify.mockRestore();
    }
    expect(err.issues).toEqual([{ path: 'metadata', message: expect.stringMatching(/at most 1024 bytes as JSON/) }]);
    const hugeArray = { list: new Array(10_000_000) };
    expect((await rejection(hugeArray)).issues[0]?.message).toMatch(/more than 1024 values/);
  });

  it('guards the other schemas that carry metadata', () => {
    const base = {
      id: 'x',
      namespace: 'default',
      service: 'reviews',
      endpoint: { type: 'http', value: 'h:1' },
      tags: [],
      status: 'UP',
      ttl: 30,
      registeredAt: 0,
      lastHeartbeat: 0,
    };
    const instance = ServiceInstanceSchema.safeParse({ ...base, metadata: nested(5000) });
    expect(instance.success).toBe(false);
    expect(instance.error?.issues[0]).toMatchObject({
      path: ['metadata'],
      message: expect.stringContaining('levels deep'),
    });
    expect(ServiceInstanceSchema.safeParse({ ...base, metadata: nested(10) }).success).toBe(true);
    const a8 = {
      service_name: 'reviews',
      endpoint: { type: 'http', value: 'h:1' },
      metadata: nested(5000),
    };
    expect(Amalgam8RegistrationSchema.safeParse(a8).success).toBe(false);
    expect(
      Amalgam8InstanceSchema.safeParse({ ...a8, id: 'x', ttl: 30, status: 'UP', last_heartbeat: 'now' }).success,
    ).toBe(false);
  });
});

describe('jsonBoundsProblem', () => {
  const bounds = { maxDepth: 3, maxValues: 10, tooManyValues: 'too many' };

  it('counts the value itself as level 1 and every value once per place it appears', () => {
    expect(jsonBoundsProblem({ a: { b: { c: 1 } } }, bounds)).toBeUndefined();
    expect(jsonBoundsProblem({ a: { b: { c: {} } } }, bounds)).toMatch(/more than 3 levels/);
    expect(jsonBoundsProblem([1, 2, 3, 4, 5, 6, 7, 8, 9], bounds)).toBeUndefined();
    expect(jsonBoundsProblem([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], bounds)).toBe('too many');
    const shared = [1, 2, 3, 4]; // 5 values, written twice: 11 in all
    expect(jsonBoundsProblem({ x: shared, y: shared }, bounds)).toBe('too many');
    expect(jsonBoundsProblem('scalar', bounds)).toBeUndefined();
  });
});
