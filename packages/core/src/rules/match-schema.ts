import * as z from 'zod/mini';
import { ServiceNameSchema, TagsSchema } from '../model/instance.js';
import { withDescription, withMeta } from '../zod-setup.js';
import { ALWAYS_ON_OBJECTS, countPresent, RegexSourceSchema } from './schema-helpers.js';

const STRING_MATCH_KEYS = ['exact', 'prefix', 'regex', 'present', 'absent'] as const;
const PATH_MATCH_KEYS = ['exact', 'prefix', 'regex'] as const;

/**
 * How one string value (a header, a cookie, a query parameter) must look. Exactly one of:
 * `exact`, `prefix`, `regex` (a search, anchor with `^…$`), `present: true`, `absent: true`.
 * Weft extension.
 */
export const StringMatchSchema = withMeta(
  z
    .strictObject({
      exact: z.optional(z.string()),
      prefix: z.optional(z.string()),
      regex: z.optional(RegexSourceSchema),
      present: z.optional(z.literal(true, { error: 'must be true (use absent: true for the opposite)' })),
      absent: z.optional(z.literal(true, { error: 'must be true (use present: true for the opposite)' })),
    })
    .check(
      z.superRefine((m, ctx) => {
        if (countPresent(m, STRING_MATCH_KEYS) !== 1)
          ctx.addIssue({ code: 'custom', message: 'give exactly one of exact, prefix, regex, present, absent' });
      }, ALWAYS_ON_OBJECTS),
    ),
  {
    id: 'RuleStringMatch',
    description: 'One of {exact}, {prefix}, {regex}, {present: true}, {absent: true}.',
  },
);
/** A condition on one string value: exactly one of `exact`, `prefix`, `regex`, `present`, `absent`. */
export type StringMatch = z.output<typeof StringMatchSchema>;

/**
 * A header condition. A string is Amalgam8's form: a regular expression the header value must
 * contain a match of. The object form is Weft's extension ({@link StringMatchSchema}).
 */
export const HeaderMatchSchema = withMeta(z.union([RegexSourceSchema, StringMatchSchema]), {
  id: 'RuleHeaderMatch',
  description: 'A regex (Amalgam8) or one of {exact}, {prefix}, {regex}, {present: true}, {absent: true}.',
});
export type HeaderMatch = z.output<typeof HeaderMatchSchema>;

/** A condition on the request path (without its query string). Exactly one of `exact`, `prefix`, `regex`. Weft extension. */
export const PathMatchSchema = withMeta(
  z
    .strictObject({
      exact: z.optional(z.string()),
      prefix: z.optional(z.string()),
      regex: z.optional(RegexSourceSchema),
    })
    .check(
      z.superRefine((m, ctx) => {
        if (countPresent(m, PATH_MATCH_KEYS) !== 1)
          ctx.addIssue({ code: 'custom', message: 'give exactly one of exact, prefix, regex' });
      }, ALWAYS_ON_OBJECTS),
    ),
  { id: 'RulePathMatch', description: 'One of {exact}, {prefix}, {regex} on the request path.' },
);
export type PathMatch = z.output<typeof PathMatchSchema>;

const MethodSchema = z
  .string()
  .check(z.regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, { error: 'must be an HTTP method token such as GET' }));

/** Amalgam8's source condition: the calling service's name and tags it must all carry. */
export const SourceMatchSchema = withMeta(
  z.strictObject({
    name: z.optional(ServiceNameSchema),
    tags: z.optional(TagsSchema),
  }),
  { id: 'RuleSourceMatch', description: 'The calling service: its name and tags it must all carry.' },
);
export type SourceMatch = z.output<typeof SourceMatchSchema>;

/** The conditions of a rule. All present conditions must hold; an absent `match` matches every request. */
export const MatchSchema = withMeta(
  z.strictObject({
    source: z.optional(SourceMatchSchema),
    headers: withDescription(
      z.optional(
        z.record(z.string().check(z.minLength(1, { error: 'header name must not be empty' })), HeaderMatchSchema),
      ),
      'Header name (case-insensitive) → condition. A string value is a regex (Amalgam8).',
    ),
    cookies: withDescription(
      z.optional(
        z.record(z.string().check(z.minLength(1, { error: 'cookie name must not be empty' })), StringMatchSchema),
      ),
      'Weft extension. Cookie name (case-sensitive) → condition, read from the Cookie header.',
    ),
    path: z.optional(PathMatchSchema),
    method: withDescription(
      z.optional(
        z.union([
          MethodSchema,
          z.array(MethodSchema).check(z.minLength(1, { error: 'must list at least one method' })),
        ]),
      ),
      'Weft extension. A method or a list of methods (case-insensitive).',
    ),
    query: withDescription(
      z.optional(
        z.record(z.string().check(z.minLength(1, { error: 'parameter name must not be empty' })), StringMatchSchema),
      ),
      'Weft extension. Query parameter name → condition on its (decoded) first value.',
    ),
  }),
  { id: 'RuleMatch', description: 'Conditions a request must all meet for the rule to apply.' },
);
/** A rule's `match`: conditions (source, headers, …) a request must all meet for the rule to apply. */
export type Match = z.output<typeof MatchSchema>;
