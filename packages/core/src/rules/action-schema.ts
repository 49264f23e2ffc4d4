import { z } from 'zod';
import { TagsSchema } from '../model/instance.js';
import { DurationSchema } from './duration.js';

const ProbabilitySchema = z
  .number({ error: 'must be a probability between 0 and 1' })
  .min(0, { error: 'must be between 0 and 1' })
  .max(1, { error: 'must be between 0 and 1' })
  .optional()
  .describe('Chance that the action applies to an attempt, 0..1 (default 1).');

const ActionTagsSchema = TagsSchema.optional().describe(
  'The action applies only when the instance an attempt goes to carries all of these (default: any).',
);

/** Amalgam8's delay action: hold the attempt for `duration` before forwarding it. */
export const DelayActionSchema = z
  .object({
    action: z.literal('delay'),
    duration: DurationSchema,
    probability: ProbabilitySchema,
    tags: ActionTagsSchema,
  })
  .strict()
  .meta({ id: 'RuleDelayAction', description: 'Delay an attempt (fault injection).' });

/** Amalgam8's abort action: answer with `return_code` instead of forwarding; a negative code resets the connection. */
export const AbortActionSchema = z
  .object({
    action: z.literal('abort'),
    return_code: z
      .int({ error: 'must be an integer status code' })
      .refine((c) => (c >= -5 && c <= -1) || (c >= 100 && c <= 599), {
        error: 'must be an HTTP status 100..599, or -5..-1 to reset the connection',
      }),
    probability: ProbabilitySchema,
    tags: ActionTagsSchema,
  })
  .strict()
  .meta({ id: 'RuleAbortAction', description: 'Abort an attempt with a status or a connection reset.' });

/** Amalgam8's trace action: tag the access-log record of matching attempts with `log_key: log_value`. */
export const TraceActionSchema = z
  .object({
    action: z.literal('trace'),
    log_key: z.string().min(1).optional().describe('Access-log field name (default "trace").'),
    log_value: z.string(),
    probability: ProbabilitySchema,
    tags: ActionTagsSchema,
  })
  .strict()
  .meta({ id: 'RuleTraceAction', description: 'Add a key/value to the access log of matching attempts.' });

/** One action of an action rule. */
export const ActionSchema = z
  .discriminatedUnion('action', [DelayActionSchema, AbortActionSchema, TraceActionSchema])
  .meta({ id: 'RuleAction', description: 'delay, abort or trace.' });
export type ActionInput = z.output<typeof ActionSchema>;
