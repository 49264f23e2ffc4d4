import * as z from 'zod/mini';
import { parseGremlinDuration } from './duration.js';

/**
 * The three files of a Gremlin recipe, accepted as Gremlin and a8ctl wrote them: fields they
 * ignored (`comments`, `log_server`, `bodypattern`, distributions …) pass validation and are
 * reported as ignored where they would change the meaning; a misspelt required field does not.
 */

const name = z
  .string({ error: 'must be a service name, e.g. "reviews" or "reviews:version=v2"' })
  .check(z.minLength(1, { error: 'must not be empty' }));

/** Go's duration syntax (`7s`, `100ms`, `1s500ms`) or a number of seconds, in milliseconds. */
const duration = z.pipe(
  z.union([z.string(), z.number()], { error: 'must be a duration such as "100ms", "7s" or "1s500ms"' }),
  z.transform((value, ctx) => {
    const ms = parseGremlinDuration(value);
    if (ms === undefined) {
      ctx.issues.push({
        code: 'custom',
        input: value,
        message: `must be a duration such as "100ms", "7s" or "1s500ms" (units ns, us, ms, s, m, h; got ${JSON.stringify(value)})`,
      });
      return z.NEVER;
    }
    return ms;
  }),
);

const probability = z
  .number({ error: 'must be a probability between 0 and 1' })
  .check(z.minimum(0, { error: 'must be between 0 and 1' }), z.maximum(1, { error: 'must be between 0 and 1' }));

const count = z.int({ error: 'must be a whole number' }).check(z.minimum(0, { error: 'must be 0 or more' }));

// ── topology ──────────────────────────────────────────────────────────────────────────────────

export const TopologySchema = z.looseObject({
  services: z.array(
    z.looseObject({
      name,
      /** Gremlin's proxy addresses of the service; Weft reads access logs from them (admin URLs). */
      service_proxies: z.optional(z.array(z.string())),
    }),
  ),
  dependencies: z._default(z.record(z.string(), z.array(name)), {}),
});
export type TopologyFile = z.output<typeof TopologySchema>;

// ── scenarios ─────────────────────────────────────────────────────────────────────────────────

/** Every scenario Gremlin's failure generator knows. */
export const SCENARIO_KINDS = [
  'delay_requests',
  'delay_responses',
  'abort_requests',
  'abort_responses',
  'partition_services',
  'crash_service',
  'overload_service',
] as const;
export type ScenarioKind = (typeof SCENARIO_KINDS)[number];

export const GremlinSchema = z.looseObject({
  scenario: z.enum(SCENARIO_KINDS, {
    error: `must be one of ${SCENARIO_KINDS.join(', ')}`,
  }),
  source: z.optional(name),
  dest: z.optional(name),
  delaytime: z.optional(duration),
  delayprobability: z.optional(probability),
  abortprobability: z.optional(probability),
  srcprobability: z.optional(probability),
  dstprobability: z.optional(probability),
  errorcode: z.optional(z.int({ error: 'must be an HTTP status, or -1 to reset the connection' })),
  headerpattern: z.optional(z.string()),
  messagetype: z.optional(z.string()),
});
export type Gremlin = z.output<typeof GremlinSchema>;

/** `{gremlins: [...]}`, or the bare list (Gremlin's template file). */
export const ScenariosSchema = z.pipe(
  z.transform((value: unknown) => (Array.isArray(value) ? { gremlins: value } : value)),
  z.looseObject({ gremlins: z.array(GremlinSchema) }),
);
export type ScenariosFile = z.output<typeof ScenariosSchema>;

// ── checks ────────────────────────────────────────────────────────────────────────────────────

const edge = { source: name, dest: name };
const optionalEdge = { source: z.optional(name), dest: z.optional(name) };

/** Every check Gremlin's assertion checker knows. */
export const CHECK_NAMES = [
  'bounded_response_time',
  'http_status',
  'http_success_status',
  'no_proxy_errors',
  'bounded_retries',
  'circuit_breaker',
  'at_most_requests',
  'bulkhead',
] as const;
export type CheckName = (typeof CHECK_NAMES)[number];

export const CheckSchema = z.discriminatedUnion(
  'name',
  [
    z.looseObject({ name: z.literal('bounded_response_time'), ...edge, max_latency: duration }),
    z.looseObject({
      name: z.literal('http_status'),
      ...edge,
      status: z.union([z.int(), z.array(z.int())], { error: 'must be a status or a list of statuses' }),
      req_id: z.optional(z.string()),
    }),
    z.looseObject({ name: z.literal('http_success_status'), ...optionalEdge }),
    z.looseObject({ name: z.literal('no_proxy_errors'), ...optionalEdge }),
    z.looseObject({
      name: z.literal('bounded_retries'),
      ...edge,
      retries: count,
      wait_time: z.optional(duration),
      errdelta: z.optional(duration),
      by_uri: z.optional(z.boolean()),
    }),
    z.looseObject({
      name: z.literal('circuit_breaker'),
      ...edge,
      closed_attempts: count,
      reset_time: duration,
      halfopen_attempts: z.optional(count),
      headerprefix: z.optional(z.string()),
      remove_retries: z.optional(z.boolean()),
    }),
    z.looseObject({ name: z.literal('at_most_requests'), ...edge, num_requests: count }),
    z.looseObject({
      name: z.literal('bulkhead'),
      source: name,
      dependencies: z.array(name).check(z.minLength(1, { error: 'must list the dependencies' })),
      slow_dest: name,
      rate: z.number({ error: 'must be requests per second' }).check(z.positive({ error: 'must be above 0' })),
    }),
  ],
  { error: `name must be one of ${CHECK_NAMES.join(', ')}` },
);
export type Check = z.output<typeof CheckSchema>;

export const ChecksSchema = z.looseObject({ checks: z.array(CheckSchema) });
export type ChecksFile = z.output<typeof ChecksSchema>;
