import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { InvalidArgumentError } from '../errors/index.js';
import { HASHING_LB_TYPES, LB_TYPES, LbTypeSchema } from '../rules/lb-type.js';
import { createPicker } from './create-picker.js';
import { LeastRequestPicker } from './least-request.js';
import { MaglevPicker } from './maglev.js';
import { PeakEwmaPicker } from './peak-ewma.js';
import { RandomPicker } from './random.js';
import type { LbPolicy } from './registry.js';
import { BALANCER_POLICIES, balancerPolicy, isLbPolicy } from './registry.js';
import { RingHashPicker } from './ring-hash.js';
import { RoundRobinPicker } from './round-robin.js';
import { makeEndpoints } from './test-support.js';
import { WeightedRoundRobinPicker } from './weighted-round-robin.js';

const classes = {
  round_robin: RoundRobinPicker,
  weighted_round_robin: WeightedRoundRobinPicker,
  random: RandomPicker,
  least_request: LeastRequestPicker,
  peak_ewma: PeakEwmaPicker,
  ring_hash: RingHashPicker,
  maglev: MaglevPicker,
} as const;
const policies = Object.keys(classes) as LbPolicy[];

describe('createPicker', () => {
  it.each(policies)('builds the %s picker', (policy) => {
    const p = createPicker(policy, makeEndpoints(3));
    expect(p).toBeInstanceOf(classes[policy]);
    expect(p.policy).toBe(policy);
    expect(p.endpoints.map((e) => e.id)).toEqual(makeEndpoints(3).map((e) => e.id));
  });

  it.each(policies)('%s rejects every non-finite or non-positive weight, naming it', (policy) => {
    const endpoints = [
      { id: 'a', weight: 1 },
      { id: 'b', weight: 0 },
      { id: 'c', weight: -1 },
      { id: 'd', weight: Number.NaN },
      { id: 'e', weight: Number.POSITIVE_INFINITY },
    ];
    try {
      createPicker(policy, endpoints);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidArgumentError);
      expect((err as InvalidArgumentError).code).toBe('WEFT_ERR_INVALID_ARGUMENT');
      expect((err as InvalidArgumentError).issues.map((i) => i.path)).toEqual([
        'endpoints[1].weight',
        'endpoints[2].weight',
        'endpoints[3].weight',
        'endpoints[4].weight',
      ]);
    }
  });

  it('passes each policy its own options from one bag', () => {
    const options = { tableSize: 251, replicasPerWeight: 3, minRingSize: 1, random: () => 0 };
    expect((createPicker('maglev', makeEndpoints(3), options) as MaglevPicker).tableSize).toBe(251);
    expect((createPicker('ring_hash', makeEndpoints(3), options) as RingHashPicker).ringSize).toBe(9);
    expect(createPicker('round_robin', makeEndpoints(3), options).pickIndex()).toBe(0);
  });

  it('rejects an unknown policy, naming it', () => {
    expect(() => createPicker('fastest' as LbPolicy, [])).toThrow(InvalidArgumentError);
    expect(() => createPicker('fastest' as LbPolicy, [])).toThrow(/policy.*fastest/);
  });

  it('copies the endpoint list, so later changes to the caller’s array cannot break it', () => {
    const endpoints = makeEndpoints(2);
    const p = createPicker('round_robin', endpoints, { random: () => 0 });
    endpoints.length = 0;
    expect(p.pick()?.id).toBe('10.0.0.0:8080');
  });
});

describe('BALANCER_POLICIES: one list every policy name derives from', () => {
  it('names the seven policies users configure, in the documented order', () => {
    expect(BALANCER_POLICIES.map((p) => p.name)).toEqual([
      'round_robin',
      'weighted_round_robin',
      'random',
      'least_request',
      'peak_ewma',
      'ring_hash',
      'maglev',
    ]);
  });

  it.each(BALANCER_POLICIES.map((p) => [p.name, p] as const))(
    '%s is usable by name everywhere: createPicker, the rules schema, the lookups',
    (name, descriptor) => {
      expect(createPicker(name, makeEndpoints(2)).policy).toBe(name);
      expect(descriptor.create(makeEndpoints(2)).policy).toBe(name);
      expect(balancerPolicy(name)).toBe(descriptor);
      expect(isLbPolicy(name)).toBe(true);
      expect(LB_TYPES).toContain(name);
      expect(z.safeParse(LbTypeSchema, name).success).toBe(true);
      expect(HASHING_LB_TYPES.has(name)).toBe(descriptor.usesHashKey);
    },
  );

  it('says which policies hash a key and which want latencies', () => {
    expect(BALANCER_POLICIES.filter((p) => p.usesHashKey).map((p) => p.name)).toEqual(['ring_hash', 'maglev']);
    expect(BALANCER_POLICIES.filter((p) => p.wantsLatency).map((p) => p.name)).toEqual(['peak_ewma']);
  });

  it('LB_TYPES lists exactly the registry, and the schema rejects anything else', () => {
    expect([...LB_TYPES]).toEqual(BALANCER_POLICIES.map((p) => p.name));
    expect(z.safeParse(LbTypeSchema, 'fastest').success).toBe(false);
    expect(isLbPolicy('fastest')).toBe(false);
    expect(isLbPolicy(undefined)).toBe(false);
  });

  it('balancerPolicy() rejects an unknown name with a coded error listing the known ones', () => {
    try {
      balancerPolicy('fastest' as LbPolicy);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidArgumentError);
      expect((err as InvalidArgumentError).issues[0]?.path).toBe('policy');
      expect((err as InvalidArgumentError).issues[0]?.message).toMatch(/"fastest".*round_robin, .*maglev/);
    }
  });
});
