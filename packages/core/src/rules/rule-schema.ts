import * as z from 'zod/mini';
import { ServiceNameSchema, TagsSchema } from '../model/instance.js';
import { withDescription, withMeta } from '../zod-setup.js';
import { ActionSchema } from './action-schema.js';
import { MatchSchema } from './match-schema.js';
import { RouteSchema } from './route-schema.js';
import { ALWAYS_ON_OBJECTS } from './schema-helpers.js';

/**
 * A rule of Amalgam8's `/v1/rules` model, extended. It has exactly one of `route` (a route
 * rule: where matching requests go) and `actions` (an action rule: faults and traces applied to
 * matching requests after routing).
 */
export const RuleSchema = withMeta(
  z
    .strictObject({
      id: withDescription(
        z.optional(z.string().check(z.minLength(1, { error: 'must not be empty' }))),
        'Unique id (the controller assigns a UUID when absent).',
      ),
      priority: withDescription(
        z.optional(z.int({ error: 'must be an integer' })),
        'Higher first (default 0). Ties: by id, then input order.',
      ),
      tags: withDescription(z.optional(TagsSchema), 'Labels for selecting rules (controller filters, recipes).'),
      destination: withDescription(ServiceNameSchema, 'The service whose requests the rule governs.'),
      match: z.optional(MatchSchema),
      route: z.optional(RouteSchema),
      actions: z.optional(z.array(ActionSchema).check(z.minLength(1, { error: 'must list at least one action' }))),
    })
    .check(
      z.superRefine((rule, ctx) => {
        const hasRoute = rule.route !== undefined;
        const hasActions = rule.actions !== undefined;
        if (hasRoute === hasActions)
          ctx.addIssue({
            code: 'custom',
            message: hasRoute ? 'give route or actions, not both' : 'needs a route or actions',
          });
        // A prefix rewrite needs to know which prefix it replaces.
        const uri = (rule.route as { uri?: { path?: unknown; prefix?: unknown; prefix_rewrite?: unknown } } | undefined)
          ?.uri;
        if (
          uri !== undefined &&
          uri !== null &&
          uri.prefix_rewrite !== undefined &&
          uri.path === undefined &&
          uri.prefix === undefined
        ) {
          const path = (rule.match as { path?: { exact?: unknown; prefix?: unknown } } | undefined)?.path;
          if (path?.exact === undefined && path?.prefix === undefined)
            ctx.addIssue({
              code: 'custom',
              path: ['route', 'uri', 'prefix_rewrite'],
              message: 'needs a prefix to replace: set uri.prefix, uri.path, match.path.prefix or match.path.exact',
            });
        }
      }, ALWAYS_ON_OBJECTS),
    ),
  { id: 'Rule', description: 'A route rule or an action rule (Amalgam8 /v1/rules, extended).' },
);
/** A rule as accepted on input (Amalgam8's snake_case fields). */
export type RuleInput = z.input<typeof RuleSchema>;
/** A validated rule. */
export type Rule = z.output<typeof RuleSchema>;

/** The body of Amalgam8's `POST /v1/rules` and of `GET /v1/rules` (which adds `revision`). */
export const RulesDocumentSchema = withMeta(
  z.strictObject({
    rules: z.array(RuleSchema),
    revision: withDescription(z.optional(z.int().check(z.minimum(0))), 'Controller revision, bumped on every change.'),
  }),
  { id: 'RulesDocument', description: 'A list of rules, as /v1/rules sends and returns them.' },
);
/** A `/v1/rules` body as accepted on input: `{ rules: [...] }`, optionally with `revision`. */
export type RulesDocumentInput = z.input<typeof RulesDocumentSchema>;
/** A validated {@link RulesDocumentInput}. */
export type RulesDocument = z.output<typeof RulesDocumentSchema>;
