import { z } from 'zod';
import { TagsSchema } from '../model/instance.js';
import { DurationSchema, durationToMs } from './duration.js';
import { HASHING_LB_TYPES, LbTypeSchema } from './lb-type.js';
import { ALWAYS_ON_OBJECTS, countPresent } from './schema-helpers.js';

const positiveInt = (what: string) =>
  z.int({ error: `must be an integer ${what}` }).min(1, { error: 'must be at least 1' });

/**
 * Amalgam8's per-backend `resilience` block, accepted with Amalgam8's names and defaults. Weft
 * maps it onto circuit-breaker and outlier-detection settings (see the rules README).
 */
export const ResilienceSchema = z
  .object({
    max_connections: positiveInt('count')
      .optional()
      .describe('Circuit breaker: concurrent connections to the backend (default 1024).'),
    max_pending_requests: z
      .int({ error: 'must be an integer count' })
      .min(0, { error: 'must not be negative' })
      .optional()
      .describe('Circuit breaker: requests queued waiting for a connection (default 1024).'),
    max_requests: positiveInt('count')
      .optional()
      .describe('Circuit breaker: concurrent requests to the backend (default 1024).'),
    sleep_window: DurationSchema.optional().describe(
      'Outlier ejection: how long an ejected instance stays out (default 30 s).',
    ),
    consecutive_errors: positiveInt('count')
      .optional()
      .describe('Outlier ejection: consecutive 5xx / connect errors that eject an instance (default 5).'),
    detection_interval: DurationSchema.optional().describe('Outlier ejection: analysis interval (default 10 s).'),
    max_requests_per_connection: positiveInt('count')
      .optional()
      .describe('Requests per upstream connection before it is recycled (default unlimited).'),
  })
  .strict()
  .meta({ id: 'RuleResilience', description: 'Amalgam8 per-backend resilience settings.' });
export type ResilienceInput = z.output<typeof ResilienceSchema>;

const HASH_KEY_KEYS = ['header', 'cookie', 'query', 'source_ip'] as const;

/** Where a consistent-hash backend (`ring_hash`, `maglev`) reads a request's affinity key. Exactly one source. Weft extension. */
export const HashKeySchema = z
  .object({
    header: z.string().min(1).optional().describe('Header name (case-insensitive).'),
    cookie: z.string().min(1).optional().describe('Cookie name.'),
    query: z.string().min(1).optional().describe('Query parameter name.'),
    source_ip: z.literal(true).optional().describe("The caller's IP address."),
  })
  .strict()
  .superRefine((k, ctx) => {
    if (countPresent(k, HASH_KEY_KEYS) !== 1)
      ctx.addIssue({ code: 'custom', message: 'give exactly one of header, cookie, query, source_ip' });
  }, ALWAYS_ON_OBJECTS)
  .meta({ id: 'RuleHashKey', description: 'The request attribute consistent-hash balancing keys on.' });
export type HashKeyInput = z.output<typeof HashKeySchema>;

/** One backend of a route: the instances of the destination that carry all `tags`. */
export const BackendSchema = z
  .object({
    name: z.string().optional().describe('A label for logs and explain output.'),
    tags: TagsSchema.optional().describe('Instances must carry all of these (default: none, i.e. every instance).'),
    weight: z
      .number({ error: 'must be a number between 0 and 1' })
      .min(0, { error: 'must be between 0 and 1' })
      .max(1, { error: 'must be between 0 and 1' })
      .optional()
      .describe('Share of traffic, 0..1. Unweighted backends share the remainder equally.'),
    resilience: ResilienceSchema.optional(),
    lb_type: LbTypeSchema.optional(),
    hash_key: HashKeySchema.optional(),
  })
  .strict()
  .superRefine((b, ctx) => {
    const lb = (b as { lb_type?: unknown }).lb_type;
    if (b.hash_key !== undefined && !HASHING_LB_TYPES.has(lb as never))
      ctx.addIssue({
        code: 'custom',
        path: ['hash_key'],
        message: `only applies with lb_type ring_hash or maglev (lb_type is ${lb === undefined ? 'not set' : JSON.stringify(lb)})`,
      });
  }, ALWAYS_ON_OBJECTS)
  .meta({ id: 'RuleBackend', description: 'A weighted subset of the destination, selected by tags.' });
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
export const RetryPolicySchema = z
  .object({
    attempts: z
      .int({ error: 'must be a whole number of retries' })
      .min(0, { error: 'must not be negative' })
      .describe('Retries after the first try (total tries = attempts + 1).'),
    per_try_timeout: DurationSchema.optional().describe('Timeout of each try (default: only the route timeout).'),
    retry_on: z
      .array(z.enum(RETRY_CONDITIONS))
      .optional()
      .describe('Default ["5xx", "connect-failure", "reset"]. A status code list implies "retriable-status-codes".'),
    retriable_status_codes: z
      .array(z.int().min(100, { error: 'must be an HTTP status' }).max(599, { error: 'must be an HTTP status' }))
      .optional(),
    backoff: z
      .object({
        base: DurationSchema.optional().describe('First backoff (default 25 ms); doubles per retry, with full jitter.'),
        max: DurationSchema.optional().describe('Backoff cap (default 10 × base).'),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
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
  }, ALWAYS_ON_OBJECTS)
  .meta({ id: 'RuleRetryPolicy', description: 'Retry policy of a route.' });
export type RetryPolicyInput = z.output<typeof RetryPolicySchema>;

/**
 * Amalgam8's `uri` block. `path` (exact) and `prefix` are extra match conditions on the request
 * path; `prefix_rewrite` replaces the matched prefix before the request is forwarded.
 */
export const UriSchema = z
  .object({
    path: z.string().min(1).optional().describe('The request path must equal this.'),
    prefix: z.string().min(1).optional().describe('The request path must start with this.'),
    prefix_rewrite: z.string().optional().describe('Replaces the matched prefix (or the whole matched path).'),
  })
  .strict()
  .superRefine((u, ctx) => {
    if (countPresent(u, ['path', 'prefix']) > 1)
      ctx.addIssue({ code: 'custom', message: 'give path or prefix, not both' });
  }, ALWAYS_ON_OBJECTS)
  .meta({ id: 'RuleUri', description: 'Path conditions and prefix rewrite of a route (Amalgam8).' });
export type UriInput = z.output<typeof UriSchema>;

/** Copies a share of the traffic, fire-and-forget, to another subset of the destination. Weft extension. */
export const MirrorSchema = z
  .object({
    tags: TagsSchema.describe('The mirror instances carry all of these.'),
    percentage: z
      .number({ error: 'must be a percentage' })
      .min(0, { error: 'must be between 0 and 100' })
      .max(100, { error: 'must be between 0 and 100' })
      .optional()
      .describe('Share of requests mirrored, 0..100 (default 100).'),
  })
  .strict()
  .meta({ id: 'RuleMirror', description: 'Traffic mirroring to a tagged subset.' });
export type MirrorInput = z.output<typeof MirrorSchema>;

/** The route of a route rule: weighted backends plus per-route policy settings. */
export const RouteSchema = z
  .object({
    backends: z.array(BackendSchema).min(1, { error: 'must list at least one backend' }),
    http_req_timeout: DurationSchema.optional().describe('Overall request timeout (Amalgam8 default 15 s).'),
    http_req_retries: z
      .int({ error: 'must be a whole number of retries' })
      .min(0, { error: 'must not be negative' })
      .optional()
      .describe('Amalgam8: number of retries. Shorthand for retries: {attempts: n}.'),
    retries: RetryPolicySchema.optional(),
    uri: UriSchema.optional(),
    mirror: MirrorSchema.optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
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
  }, ALWAYS_ON_OBJECTS)
  .meta({ id: 'RuleRoute', description: 'Weighted backends and per-route policies.' });
export type RouteInput = z.output<typeof RouteSchema>;
