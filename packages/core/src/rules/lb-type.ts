import * as z from 'zod/mini';
import type { LbPolicy } from '../balancers/picker.js';
import { withMeta } from '../zod-setup.js';

/**
 * Every load-balancing policy a backend may ask for. Amalgam8 knew `round_robin`,
 * `least_request` and `random`; Weft accepts every {@link LbPolicy}.
 */
export const LB_TYPES = [
  'round_robin',
  'weighted_round_robin',
  'random',
  'least_request',
  'peak_ewma',
  'ring_hash',
  'maglev',
] as const satisfies readonly LbPolicy[];

// Fails to compile when the balancers gain a policy this list does not name.
type MissingLbType = Exclude<LbPolicy, (typeof LB_TYPES)[number]>;
const _everyPolicyListed: [MissingLbType] extends [never] ? true : MissingLbType = true;
void _everyPolicyListed;

/** The load-balancing policies that pick by a request key (and so use a backend's `hash_key`). */
export const HASHING_LB_TYPES: ReadonlySet<LbPolicy> = new Set<LbPolicy>(['ring_hash', 'maglev']);

/** `lb_type` of a backend. */
export const LbTypeSchema = withMeta(z.enum(LB_TYPES), {
  id: 'RuleLbType',
  description: 'Load-balancing policy among the instances of one backend.',
});
