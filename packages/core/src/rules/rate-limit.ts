import * as z from 'zod/mini';
import { withDescription, withMeta } from '../zod-setup.js';
import { ALWAYS_ON_OBJECTS, countPresent } from './schema-helpers.js';

/**
 * What a rate limit keeps one token bucket per: `none` — one bucket for the whole backend;
 * `service` — one per calling service (the `source.name` the rules match on); `client_ip` — one
 * per client IP address (the peer of the connection: a gateway's clients).
 */
export const RATE_LIMIT_SOURCES = ['service', 'client_ip'] as const;
/** A per-source key of a rate limit (see {@link RATE_LIMIT_SOURCES}); `none` when not per source. */
export type RateLimitSource = (typeof RATE_LIMIT_SOURCES)[number] | 'none';

/** Per-source buckets kept at most, by default, per rate-limited backend (least recently used go first). */
export const DEFAULT_RATE_LIMIT_MAX_SOURCES = 10_000;

const positiveRate = z
  .number({ error: 'must be a number of requests' })
  .check(z.positive({ error: 'must be greater than 0' }));
const positiveInt = z.int({ error: 'must be a whole number' }).check(z.minimum(1, { error: 'must be at least 1' }));

/**
 * A backend's rate limit (Weft extension): a token bucket that refills at `requests_per_second`
 * (or `requests_per_minute`) and holds at most `burst` tokens; a call that finds it empty is
 * answered 429 with `Retry-After`. Limits are local to each proxy: N proxies admit up to N × the rate.
 */
export const RateLimitSchema = withMeta(
  z
    .strictObject({
      requests_per_second: withDescription(z.optional(positiveRate), 'Refill rate, requests per second.'),
      requests_per_minute: withDescription(z.optional(positiveRate), 'Refill rate, requests per minute.'),
      burst: withDescription(
        z.optional(positiveInt),
        'Bucket size: requests admitted at once after a quiet period (default: the rate per its unit, at least 1).',
      ),
      per_source: withDescription(
        z.optional(z.enum(RATE_LIMIT_SOURCES, { error: `must be one of ${RATE_LIMIT_SOURCES.join(', ')}` })),
        'One bucket per calling service (service) or per client IP address (client_ip); default one bucket for the backend.',
      ),
      max_sources: withDescription(
        z.optional(positiveInt),
        `With per_source: buckets kept at most, least recently used dropped first (default ${DEFAULT_RATE_LIMIT_MAX_SOURCES}).`,
      ),
    })
    .check(
      z.superRefine((r, ctx) => {
        if (countPresent(r, ['requests_per_second', 'requests_per_minute']) !== 1)
          ctx.addIssue({ code: 'custom', message: 'give exactly one of requests_per_second, requests_per_minute' });
        if ((r as { max_sources?: unknown }).max_sources !== undefined && r.per_source === undefined)
          ctx.addIssue({ code: 'custom', path: ['max_sources'], message: 'only applies with per_source' });
      }, ALWAYS_ON_OBJECTS),
    ),
  { id: 'RuleRateLimit', description: 'A token-bucket rate limit of a backend, local to each proxy.' },
);
/** A `rate_limit` block as validated. */
export type RateLimitInput = z.output<typeof RateLimitSchema>;

/** A rate limit as plain, validated data, for a proxy to build its token buckets from. */
export interface RateLimitSettings {
  /** Tokens added per second, > 0. */
  readonly ratePerSecond: number;
  /** Bucket size, >= 1. */
  readonly burst: number;
  /** What one bucket is kept per. */
  readonly perSource: RateLimitSource;
  /** Per-source buckets kept at most. */
  readonly maxSources: number;
  /**
   * Names the limit's buckets: a proxy keeps the buckets of a limit whose scope and settings a
   * rule update left unchanged. `<destination>/<rule id or #index>/<backend index>` for a rule.
   */
  readonly scope: string;
}

/** Maps a rule backend's `rate_limit` block onto {@link RateLimitSettings}. */
export function toRateLimitSettings(r: RateLimitInput, scope: string): RateLimitSettings {
  const perMinute = r.requests_per_second === undefined;
  const count = r.requests_per_second ?? r.requests_per_minute ?? 1;
  return Object.freeze({
    ratePerSecond: perMinute ? count / 60 : count,
    // "N per second / minute" admits N at once by default, as a window of that length would.
    burst: r.burst ?? Math.max(1, Math.ceil(count)),
    perSource: r.per_source ?? 'none',
    maxSources: r.max_sources ?? DEFAULT_RATE_LIMIT_MAX_SOURCES,
    scope,
  });
}
