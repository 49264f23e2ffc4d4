import * as z from 'zod/mini';
import type { LbPolicy } from '../balancers/registry.js';
import { BALANCER_POLICIES } from '../balancers/registry.js';
import { withMeta } from '../zod-setup.js';

/**
 * Every load-balancing policy a backend may ask for: the names of core's `BALANCER_POLICIES`, in
 * their order. Amalgam8 knew `round_robin`, `least_request` and `random`; Weft accepts every
 * {@link LbPolicy}.
 */
export const LB_TYPES = BALANCER_POLICIES.map((p) => p.name) as unknown as readonly [LbPolicy, ...LbPolicy[]];

/** The load-balancing policies that pick by a request key (and so use a backend's `hash_key`). */
export const HASHING_LB_TYPES: ReadonlySet<LbPolicy> = new Set<LbPolicy>(
  BALANCER_POLICIES.filter((p) => p.usesHashKey).map((p) => p.name),
);

/** `lb_type` of a backend. */
export const LbTypeSchema = withMeta(z.enum(LB_TYPES), {
  id: 'RuleLbType',
  description: 'Load-balancing policy among the instances of one backend.',
});
