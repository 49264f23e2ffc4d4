import * as z from 'zod/mini';
import { TagsSchema } from '../model/instance.js';
import { withDescription, withMeta } from '../zod-setup.js';
import { DurationSchema } from './duration.js';

const ProbabilitySchema = withDescription(
  z.optional(
    z
      .number({ error: 'must be a probability between 0 and 1' })
      .check(z.minimum(0, { error: 'must be between 0 and 1' }))
      .check(z.maximum(1, { error: 'must be between 0 and 1' })),
  ),
  'Chance that the action applies to an attempt, 0..1 (default 1).',
);

const ActionTagsSchema = withDescription(
  z.optional(TagsSchema),
  'The action applies only when the instance an attempt goes to carries all of these (default: any).',
);

/** Amalgam8's delay action: hold the attempt for `duration` before forwarding it. */
export const DelayActionSchema = withMeta(
  z.strictObject({
    action: z.literal('delay'),
    duration: DurationSchema,
    probability: ProbabilitySchema,
    tags: ActionTagsSchema,
  }),
  { id: 'RuleDelayAction', description: 'Delay an attempt (fault injection).' },
);

/** Amalgam8's abort action: answer with `return_code` instead of forwarding; a negative code resets the connection. */
export const AbortActionSchema = withMeta(
  z.strictObject({
    action: z.literal('abort'),
    return_code: z.int({ error: 'must be an integer status code' }).check(
      z.refine((c) => (c >= -5 && c <= -1) || (c >= 100 && c <= 599), {
        error: 'must be an HTTP status 100..599, or -5..-1 to reset the connection',
      }),
    ),
    probability: ProbabilitySchema,
    tags: ActionTagsSchema,
  }),
  { id: 'RuleAbortAction', description: 'Abort an attempt with a status or a connection reset.' },
);

/** Amalgam8's trace action: tag the access-log record of matching attempts with `log_key: log_value`. */
export const TraceActionSchema = withMeta(
  z.strictObject({
    action: z.literal('trace'),
    log_key: withDescription(z.optional(z.string().check(z.minLength(1))), 'Access-log field name (default "trace").'),
    log_value: z.string(),
    probability: ProbabilitySchema,
    tags: ActionTagsSchema,
  }),
  { id: 'RuleTraceAction', description: 'Add a key/value to the access log of matching attempts.' },
);

/** One action of an action rule. */
export const ActionSchema = withMeta(
  z.discriminatedUnion('action', [DelayActionSchema, AbortActionSchema, TraceActionSchema]),
  { id: 'RuleAction', description: 'delay, abort or trace.' },
);
/** One action of an action rule: a `delay`, an `abort` or a `trace`. */
export type ActionInput = z.output<typeof ActionSchema>;
