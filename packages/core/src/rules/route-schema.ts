import * as z from 'zod/mini';
import { TagsSchema } from '../model/instance.js';
import { withDescription, withMeta } from '../zod-setup.js';
import { DurationSchema, durationToMs } from './duration.js';
import { HASHING_LB_TYPES, LbTypeSchema } from './lb-type.js';
import { RateLimitSchema } from './rate-limit.js';
import { ALWAYS_ON_OBJECTS, countPresent } from './schema-helpers.js';

const positiveInt = (what: string) =>
  z.int({ error: `must be an integer ${what}` }).check(z.minimum(1, { error: 'must be at least 1' }));

/**
 * Amalgam8's per-backend `resilience` block, accepted with Amalgam8's names and defaults. Weft
 * maps it onto circuit-breaker and outlier-detection settings (see the rules README).
 */
export const ResilienceSchema = withMeta(
  z.strictObject({
    max_connections: withDescription(
      z.optional(positiveInt('count')),
      'Circuit breaker: concurrent connections to the backend (default 1024).',
    ),
    max_pending_requests: withDescription(
      z.optional(z.int({ error: 'must be an integer count' }).check(z.minimum(0, { error: 'must not be negative' }))),
      'Circuit breaker: requests queued waiting for a connection (default 1024).',
    ),
    max_requests: withDescription(
      z.optional(positiveInt('count')),
      'Circuit breaker: concurrent requests to the backend (default 1024).',
    ),
    sleep_window: withDescription(
      z.optional(DurationSchema),
      'Outlier ejection: how long an ejected instance stays out (default 30 s).',
    ),
    consecutive_errors: withDescription(
      z.optional(positiveInt('count')),
      'Outlier ejection: consecutive 5xx / connect errors that eject an instance (default 5).',
    ),
    detection_interval: withDescription(
      z.optional(DurationSchema),
      'Outlier ejection: analysis interval (default 10 s).',
    ),
    max_requests_per_connection: withDescription(
      z.optional(positiveInt('count')),
      'Requests per upstream connection before it is recycled (default unlimited).',
    ),
  }),
  { id: 'RuleResilience', description: 'Amalgam8 per-backend resilience settings.' },
);
export type ResilienceInput = z.output<typeof ResilienceSchema>;

const HASH_KEY_KEYS = ['header', 'cookie', 'query', 'source_ip'] as const;

/** Where a consistent-hash backend (`ring_hash`, `maglev`) reads a request's affinity key. Exactly one source. Weft extension. */
export const HashKeySchema = withMeta(
  z
    .strictObject({
      header: withDescription(z.optional(z.string().check(z.minLength(1))), 'Header name (case-insensitive).'),
      cookie: withDescription(z.optional(z.string().check(z.minLength(1))), 'Cookie name.'),
      query: withDescription(z.optional(z.string().check(z.minLength(1))), 'Query parameter name.'),
      source_ip: withDescription(z.optional(z.literal(true)), "The caller's IP address."),
    })
    .check(
      z.superRefine((k, ctx) => {
        if (countPresent(k, HASH_KEY_KEYS) !== 1)
          ctx.addIssue({ code: 'custom', message: 'give exactly one of header, cookie, query, source_ip' });
      }, ALWAYS_ON_OBJECTS),
    ),
  { id: 'RuleHashKey', description: 'The request attribute consistent-hash balancing keys on.' },
);
export type HashKeyInput = z.output<typeof HashKeySchema>;

/** One backend of a route: the instances of the destination that carry all `tags`. */
export const BackendSchema = withMeta(
  z
    .strictObject({
      name: withDescription(z.optional(z.string()), 'A label for logs and explain output.'),
      tags: withDescription(
        z.optional(TagsSchema),
        'Instances must carry all of these (default: none, i.e. every instance).',
      ),
      weight: withDescription(
        z.optional(
          z
            .number({ error: 'must be a number between 0 and 1' })
            .check(z.minimum(0, { error: 'must be between 0 and 1' }))
            .check(z.maximum(1, { error: 'must be between 0 and 1' })),
        ),
        'Share of traffic, 0..1. Unweighted backends share the remainder equally.',
      ),
      resilience: z.optional(ResilienceSchema),
      rate_limit: z.optional(RateLimitSchema),
      lb_type: z.optional(LbTypeSchema),
      hash_key: z.optional(HashKeySchema),
    })
    .check(
      z.superRefine((b, ctx) => {
        const lb = (b as { lb_type?: unknown }).lb_type;
        if (b.hash_key !== undefined && !HASHING_LB_TYPES.has(lb as never))
          ctx.addIssue({
            code: 'custom',
            path: ['hash_key'],
            message: `only applies with lb_type ring_hash or maglev (lb_type is ${lb === undefined ? 'not set' : JSON.stringify(lb)})`,
          });
      }, ALWAYS_ON_OBJECTS),
    ),
  { id: 'RuleBackend', description: 'A weighted subset of the destination, selected by tags.' },
);
export type BackendInput = z.output<typeof BackendSchema>;

/**
 * Conditions under which an attempt is retried, in Envoy's vocabulary (the resilience policies
 * use the same): `5xx` (any 5xx or no response), `gateway-error` (502, 503, 504 or no
 * response), `connect-failure`, `reset`, `timeout` (a try exceeded `per_try_timeout`),
 * `retriable-status-codes`.
 */
export const RETRY_CONDITIONS = [
  '5xx',
  'gateway-error',
  'connect-failure',
  'reset',
  'timeout',
  'retriable-status-codes',
] as const;
/** One retry condition (see {@link RETRY_CONDITIONS}). */
export type RouteRetryCondition = (typeof RETRY_CONDITIONS)[number];

/** A route's retry policy (Weft extension; `http_req_retries: n` is the Amalgam8 shorthand for `{attempts: n}`). */
export const RetryPolicySchema = withMeta(
  z
    .strictObject({
      attempts: withDescription(
        z.int({ error: 'must be a whole number of retries' }).check(z.minimum(0, { error: 'must not be negative' })),
        'Retries after the first try (total tries = attempts + 1).',
      ),
      per_try_timeout: withDescription(
        z.optional(DurationSchema),
        'Timeout of each try (default: only the route timeout).',
      ),
      retry_on: withDescription(
        z.optional(z.array(z.enum(RETRY_CONDITIONS))),
        'Default ["5xx", "connect-failure", "reset"]. A status code list implies "retriable-status-codes".',
      ),
      retriable_status_codes: z.optional(
        z.array(
          z
            .int()
            .check(z.minimum(100, { error: 'must be an HTTP status' }))
            .check(z.maximum(599, { error: 'must be an HTTP status' })),
        ),
      ),
      backoff: z.optional(
        z.strictObject({
          base: withDescription(
            z.optional(DurationSchema),
            'First backoff (default 25 ms); doubles per retry, with full jitter.',
          ),
          max: withDescription(z.optional(DurationSchema), 'Backoff cap (default 10 × base).'),
        }),
      ),
    })
    .check(
      z.superRefine((r, ctx) => {
        const retryOn = (r as { retry_on?: unknown }).retry_on;
        const codes = (r as { retriable_status_codes?: unknown }).retriable_status_codes;
        if (
          Array.isArray(retryOn) &&
          retryOn.includes('retriable-status-codes') &&
          !(Array.isArray(codes) && codes.length > 0)
        )
          ctx.addIssue({
            code: 'custom',
            path: ['retriable_status_codes'],
            message: 'must list at least one status when retry_on includes "retriable-status-codes"',
          });
        const backoff = (r as { backoff?: { base?: unknown; max?: unknown } }).backoff;
        const base = DurationSchema.safeParse(backoff?.base);
        const max = DurationSchema.safeParse(backoff?.max);
        if (base.success && max.success && durationToMs(max.data) < durationToMs(base.data))
          ctx.addIssue({ code: 'custom', path: ['backoff', 'max'], message: 'must not be less than backoff.base' });
      }, ALWAYS_ON_OBJECTS),
    ),
  { id: 'RuleRetryPolicy', description: 'Retry policy of a route.' },
);
export type RetryPolicyInput = z.output<typeof RetryPolicySchema>;

/**
 * Amalgam8's `uri` block. `path` (exact) and `prefix` are extra match conditions on the request
 * path; `prefix_rewrite` replaces the matched prefix before the request is forwarded.
 */
export const UriSchema = withMeta(
  z
    .strictObject({
      path: withDescription(z.optional(z.string().check(z.minLength(1))), 'The request path must equal this.'),
      prefix: withDescription(z.optional(z.string().check(z.minLength(1))), 'The request path must start with this.'),
      prefix_rewrite: withDescription(
        z.optional(z.string()),
        'Replaces the matched prefix (or the whole matched path).',
      ),
    })
    .check(
      z.superRefine((u, ctx) => {
        if (countPresent(u, ['path', 'prefix']) > 1)
          ctx.addIssue({ code: 'custom', message: 'give path or prefix, not both' });
      }, ALWAYS_ON_OBJECTS),
    ),
  { id: 'RuleUri', description: 'Path conditions and prefix rewrite of a route (Amalgam8).' },
);
export type UriInput = z.output<typeof UriSchema>;

/** Copies a share of the traffic, fire-and-forget, to another subset of the destination. Weft extension. */
export const MirrorSchema = withMeta(
  z.strictObject({
    tags: withDescription(TagsSchema, 'The mirror instances carry all of these.'),
    percentage: withDescription(
      z.optional(
        z
          .number({ error: 'must be a percentage' })
          .check(z.minimum(0, { error: 'must be between 0 and 100' }))
          .check(z.maximum(100, { error: 'must be between 0 and 100' })),
      ),
      'Share of requests mirrored, 0..100 (default 100).',
    ),
  }),
  { id: 'RuleMirror', description: 'Traffic mirroring to a tagged subset.' },
);
export type MirrorInput = z.output<typeof MirrorSchema>;

/** The route of a route rule: weighted backends plus per-route policy settings. */
export const RouteSchema = withMeta(
  z
    .strictObject({
      backends: z.array(BackendSchema).check(z.minLength(1, { error: 'must list at least one backend' })),
      http_req_timeout: withDescription(z.optional(DurationSchema), 'Overall request timeout (Amalgam8 default 15 s).'),
      http_req_retries: withDescription(
        z.optional(
          z.int({ error: 'must be a whole number of retries' }).check(z.minimum(0, { error: 'must not be negative' })),
        ),
        'Amalgam8: number of retries. Shorthand for retries: {attempts: n}.',
      ),
      retries: z.optional(RetryPolicySchema),
      uri: z.optional(UriSchema),
      mirror: z.optional(MirrorSchema),
    })
    .check(
      z.superRefine((r, ctx) => {
        if (r.http_req_retries !== undefined && r.retries !== undefined)
          ctx.addIssue({
            code: 'custom',
            path: ['http_req_retries'],
            message: 'give http_req_retries or retries, not both',
          });
        const backends = (r as { backends?: unknown }).backends;
        if (Array.isArray(backends) && backends.length > 0) {
          const allZero = backends.every(
            (b) => typeof b === 'object' && b !== null && (b as { weight?: unknown }).weight === 0,
          );
          if (allZero)
            ctx.addIssue({
              code: 'custom',
              path: ['backends'],
              message: 'every backend has weight 0; at least one must receive traffic',
            });
        }
      }, ALWAYS_ON_OBJECTS),
    ),
  { id: 'RuleRoute', description: 'Weighted backends and per-route policies.' },
);
export type RouteInput = z.output<typeof RouteSchema>;
