import { InvalidArgumentError } from '../errors/index.js';
import { leastRequestPolicy } from './least-request.js';
import { maglevPolicy } from './maglev.js';
import { peakEwmaPolicy } from './peak-ewma.js';
import type { BalancerPolicy } from './policy.js';
import { randomPolicy } from './random.js';
import { ringHashPolicy } from './ring-hash.js';
import { roundRobinPolicy } from './round-robin.js';
import { weightedRoundRobinPolicy } from './weighted-round-robin.js';

/**
 * Every load-balancing policy Weft ships, in the order docs and schemas list them. The
 * {@link LbPolicy} names, the rules' `lb_type` values (`LB_TYPES`, `HASHING_LB_TYPES`),
 * `createPicker` and the proxy's choices derive from this list: a new balancer is its file
 * (exporting a {@link BalancerPolicy}) plus one line here.
 */
export const BALANCER_POLICIES = [
  roundRobinPolicy,
  weightedRoundRobinPolicy,
  randomPolicy,
  leastRequestPolicy,
  peakEwmaPolicy,
  ringHashPolicy,
  maglevPolicy,
] as const;

/** The load-balancing policies Weft ships (the names of {@link BALANCER_POLICIES}). */
export type LbPolicy = (typeof BALANCER_POLICIES)[number]['name'];

/** The policy of each name, so a lookup is one Map read. */
const BY_NAME: ReadonlyMap<string, (typeof BALANCER_POLICIES)[number]> = new Map(
  BALANCER_POLICIES.map((p) => [p.name, p]),
);

/** True when `name` is one of the {@link LbPolicy} names. */
export function isLbPolicy(name: unknown): name is LbPolicy {
  return typeof name === 'string' && BY_NAME.has(name);
}

/**
 * The descriptor of the policy called `name`.
 *
 * @throws InvalidArgumentError naming `policy` when it is not an {@link LbPolicy} (reachable from
 *   untyped callers: config files).
 */
export function balancerPolicy(name: LbPolicy): BalancerPolicy<LbPolicy> {
  const policy = BY_NAME.get(name);
  if (policy === undefined) {
    throw new InvalidArgumentError('picker policy', [
      {
        path: 'policy',
        message: `unknown load-balancing policy ${JSON.stringify(name as unknown)} (expected one of ${[...BY_NAME.keys()].join(', ')})`,
      },
    ]);
  }
  return policy as BalancerPolicy<LbPolicy>;
}
