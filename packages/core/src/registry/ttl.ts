import * as z from 'zod/mini';
import { setUpZod } from '../zod-setup.js';

setUpZod();

/** How a registry turns a requested TTL into the one it applies. All values are in seconds. */
export interface TtlPolicy {
  /** Applied when a registration asks for 0 (or gives no TTL). Amalgam8: 30 s. */
  readonly defaultSeconds: number;
  /** Shorter requests are raised to this. Amalgam8: 10 s. */
  readonly minSeconds: number;
  /** Longer requests are lowered to this. Amalgam8: 10 min. */
  readonly maxSeconds: number;
}

/** Amalgam8's TTL policy: default 30 s, clamped to [10 s, 10 min]. */
export const DEFAULT_TTL_POLICY: TtlPolicy = Object.freeze({ defaultSeconds: 30, minSeconds: 10, maxSeconds: 600 });

const seconds = z
  .number({ error: 'must be a number of seconds' })
  .check(z.positive({ error: 'must be greater than 0' }));

/** Validates a partial {@link TtlPolicy}, filling gaps from {@link DEFAULT_TTL_POLICY}. */
export const TtlPolicySchema = z
  .strictObject({
    defaultSeconds: z._default(seconds, DEFAULT_TTL_POLICY.defaultSeconds),
    minSeconds: z._default(seconds, DEFAULT_TTL_POLICY.minSeconds),
    maxSeconds: z._default(seconds, DEFAULT_TTL_POLICY.maxSeconds),
  })
  .check(
    z.superRefine((p, ctx) => {
      // A default outside the bounds would be clamped on every registration, which is never what was meant.
      if (p.minSeconds > p.maxSeconds)
        ctx.addIssue({ code: 'custom', path: ['minSeconds'], message: `must not exceed maxSeconds (${p.maxSeconds})` });
      else if (p.defaultSeconds < p.minSeconds || p.defaultSeconds > p.maxSeconds)
        ctx.addIssue({
          code: 'custom',
          path: ['defaultSeconds'],
          message: `must lie within [minSeconds, maxSeconds] = [${p.minSeconds}, ${p.maxSeconds}]`,
        });
    }),
  );

/**
 * The TTL a registration gets, in seconds: the policy default for 0, otherwise the request
 * clamped to the policy's bounds (Amalgam8 clamped rather than rejected, and its clients rely on it).
 */
export function effectiveTtlSeconds(requested: number, policy: TtlPolicy): number {
  if (requested === 0) return policy.defaultSeconds;
  return Math.min(policy.maxSeconds, Math.max(policy.minSeconds, requested));
}
