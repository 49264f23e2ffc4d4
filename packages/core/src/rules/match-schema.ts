import { z } from 'zod';
import { ServiceNameSchema, TagsSchema } from '../model/instance.js';
import { ALWAYS_ON_OBJECTS, countPresent, RegexSourceSchema } from './schema-helpers.js';

const STRING_MATCH_KEYS = ['exact', 'prefix', 'regex', 'present', 'absent'] as const;
const PATH_MATCH_KEYS = ['exact', 'prefix', 'regex'] as const;

/**
 * How one string value (a header, a cookie, a query parameter) must look. Exactly one of:
 * `exact`, `prefix`, `regex` (a search, anchor with `^…$`), `present: true`, `absent: true`.
 * Weft extension.
 */
export const StringMatchSchema = z
  .object({
    exact: z.string().optional(),
    prefix: z.string().optional(),
    regex: RegexSourceSchema.optional(),
    present: z.literal(true, { error: 'must be true (use absent: true for the opposite)' }).optional(),
    absent: z.literal(true, { error: 'must be true (use present: true for the opposite)' }).optional(),
  })
  .strict()
  .superRefine((m, ctx) => {
    if (countPresent(m, STRING_MATCH_KEYS) !== 1)
      ctx.addIssue({ code: 'custom', message: 'give exactly one of exact, prefix, regex, present, absent' });
  }, ALWAYS_ON_OBJECTS)
  .meta({
    id: 'RuleStringMatch',
    description: 'One of {exact}, {prefix}, {regex}, {present: true}, {absent: true}.',
  });
export type StringMatch = z.output<typeof StringMatchSchema>;

/**
 * A header condition. A string is Amalgam8's form: a regular expression the header value must
 * contain a match of. The object form is Weft's extension ({@link StringMatchSchema}).
 */
export const HeaderMatchSchema = z.union([RegexSourceSchema, StringMatchSchema]).meta({
  id: 'RuleHeaderMatch',
  description: 'A regex (Amalgam8) or one of {exact}, {prefix}, {regex}, {present: true}, {absent: true}.',
});
export type HeaderMatch = z.output<typeof HeaderMatchSchema>;

/** A condition on the request path (without its query string). Exactly one of `exact`, `prefix`, `regex`. Weft extension. */
export const PathMatchSchema = z
  .object({
    exact: z.string().optional(),
    prefix: z.string().optional(),
    regex: RegexSourceSchema.optional(),
  })
  .strict()
  .superRefine((m, ctx) => {
    if (countPresent(m, PATH_MATCH_KEYS) !== 1)
      ctx.addIssue({ code: 'custom', message: 'give exactly one of exact, prefix, regex' });
  }, ALWAYS_ON_OBJECTS)
  .meta({ id: 'RulePathMatch', description: 'One of {exact}, {prefix}, {regex} on the request path.' });
export type PathMatch = z.output<typeof PathMatchSchema>;

const MethodSchema = z
  .string()
  .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, { error: 'must be an HTTP method token such as GET' });

/** Amalgam8's source condition: the calling service's name and tags it must all carry. */
export const SourceMatchSchema = z
  .object({
    name: ServiceNameSchema.optional(),
    tags: TagsSchema.optional(),
  })
  .strict()
  .meta({ id: 'RuleSourceMatch', description: 'The calling service: its name and tags it must all carry.' });
export type SourceMatch = z.output<typeof SourceMatchSchema>;

/** The conditions of a rule. All present conditions must hold; an absent `match` matches every request. */
export const MatchSchema = z
  .object({
    source: SourceMatchSchema.optional(),
    headers: z
      .record(z.string().min(1, { error: 'header name must not be empty' }), HeaderMatchSchema)
      .optional()
      .describe('Header name (case-insensitive) → condition. A string value is a regex (Amalgam8).'),
    cookies: z
      .record(z.string().min(1, { error: 'cookie name must not be empty' }), StringMatchSchema)
      .optional()
      .describe('Weft extension. Cookie name (case-sensitive) → condition, read from the Cookie header.'),
    path: PathMatchSchema.optional(),
    method: z
      .union([MethodSchema, z.array(MethodSchema).min(1, { error: 'must list at least one method' })])
      .optional()
      .describe('Weft extension. A method or a list of methods (case-insensitive).'),
    query: z
      .record(z.string().min(1, { error: 'parameter name must not be empty' }), StringMatchSchema)
      .optional()
      .describe('Weft extension. Query parameter name → condition on its (decoded) first value.'),
  })
  .strict()
  .meta({ id: 'RuleMatch', description: 'Conditions a request must all meet for the rule to apply.' });
export type Match = z.output<typeof MatchSchema>;
