import * as z from 'zod/mini';
import { ServiceNameSchema, TagsSchema } from '../model/instance.js';
import { PathMatchSchema, StringMatchSchema } from '../rules/match-schema.js';
import { ALWAYS_ON_OBJECTS } from '../rules/schema-helpers.js';
import { withMeta } from '../zod-setup.js';
import { cidrProblem } from './cidr.js';

const CidrSchema = z.string({ error: 'must be a CIDR string' }).check(
  z.superRefine((s, ctx) => {
    const problem = cidrProblem(s);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  }),
);

const SegmentSchema = z
  .string()
  .check(z.regex(/^[A-Za-z0-9._-]+$/, { error: "must be a name of letters, digits, '.', '-', '_'" }));

const MethodSchema = z
  .string()
  .check(z.regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, { error: 'must be an HTTP method token such as GET' }));

const nonEmpty = <T extends z.ZodMiniType>(item: T) =>
  z.array(item).check(z.minLength(1, { error: 'must list at least one entry (omit the field to match any)' }));

const SOURCE_FIELDS = ['services', 'namespaces', 'tags', 'ipBlocks', 'notIpBlocks', 'authenticated'] as const;

/**
 * Who is calling. Every field given must hold (AND); an entry must give at least one. `services`,
 * `namespaces` and `tags` are read from the caller's **authenticated** workload identity (its
 * certificate), never from headers a client could forge; `ipBlocks` from the connection's peer
 * address.
 */
export const AuthzSourceSchema = withMeta(
  z
    .strictObject({
      /** Calling services (by their identity), any of. */
      services: z.optional(nonEmpty(ServiceNameSchema)),
      /** Namespaces the calling identity belongs to, any of. */
      namespaces: z.optional(nonEmpty(SegmentSchema)),
      /** Tags the calling instance must all carry (from its registration). */
      tags: z.optional(TagsSchema),
      /** Peer addresses or CIDR blocks, any of (`10.0.0.0/8`, `127.0.0.2`, `2001:db8::/32`). */
      ipBlocks: z.optional(nonEmpty(CidrSchema)),
      /** Peer addresses or blocks the caller must be outside of. */
      notIpBlocks: z.optional(nonEmpty(CidrSchema)),
      /** `true`: the caller presented a valid workload certificate; `false`: it did not. */
      authenticated: z.optional(z.boolean()),
    })
    .check(
      z.superRefine((s, ctx) => {
        if (!SOURCE_FIELDS.some((k) => (s as Record<string, unknown>)[k] !== undefined))
          ctx.addIssue({ code: 'custom', message: `give at least one of ${SOURCE_FIELDS.join(', ')}` });
      }, ALWAYS_ON_OBJECTS),
    ),
  {
    id: 'AuthzSource',
    description: 'Who is calling: identity (services, namespaces, tags), peer address, authentication.',
  },
);
/** Who is calling: see {@link AuthzSourceSchema}. */
export type AuthzSource = z.output<typeof AuthzSourceSchema>;

const OPERATION_FIELDS = ['methods', 'paths', 'headers'] as const;

/** What is called. Every field given must hold (AND); an entry must give at least one. */
export const AuthzOperationSchema = withMeta(
  z
    .strictObject({
      /** HTTP methods, any of. */
      methods: z.optional(nonEmpty(MethodSchema)),
      /** Path conditions, any of. */
      paths: z.optional(nonEmpty(PathMatchSchema)),
      /** Header conditions, all of (names are case-insensitive). */
      headers: z.optional(z.record(z.string(), StringMatchSchema)),
    })
    .check(
      z.superRefine((o, ctx) => {
        if (!OPERATION_FIELDS.some((k) => (o as Record<string, unknown>)[k] !== undefined))
          ctx.addIssue({ code: 'custom', message: `give at least one of ${OPERATION_FIELDS.join(', ')}` });
      }, ALWAYS_ON_OBJECTS),
    ),
  { id: 'AuthzOperation', description: 'What is called: methods, paths, headers.' },
);
/** What is called: see {@link AuthzOperationSchema}. */
export type AuthzOperation = z.output<typeof AuthzOperationSchema>;

/**
 * One authorization policy: `action` applies to requests to `destination` that match one of
 * `from` (or any caller when absent) and one of `to` (or any operation when absent).
 */
export const AuthorizationPolicySchema = withMeta(
  z.strictObject({
    /** A name unique in the namespace; explain output and denials cite it. */
    id: SegmentSchema,
    /** The called service, or `*` for every service of the namespace. */
    destination: z.union([z.literal('*'), ServiceNameSchema]),
    /** `deny` wins over `allow`, whatever the order. */
    action: z.enum(['allow', 'deny'], { error: 'must be "allow" or "deny"' }),
    from: z.optional(nonEmpty(AuthzSourceSchema)),
    to: z.optional(nonEmpty(AuthzOperationSchema)),
  }),
  { id: 'AuthorizationPolicy', description: 'Allow or deny calls to a service by caller and operation.' },
);
/** One authorization policy: see {@link AuthorizationPolicySchema}. */
export type AuthorizationPolicy = z.output<typeof AuthorizationPolicySchema>;

/**
 * A namespace's authorization: its policies and what happens to a request no policy decides
 * (`defaultAction`, `allow` unless given — so adding the first policy never cuts traffic that no
 * policy mentions; set `deny` for default-deny, "zero trust").
 */
export const AuthorizationDocumentSchema = withMeta(
  z
    .strictObject({
      defaultAction: z.optional(z.enum(['allow', 'deny'], { error: 'must be "allow" or "deny"' })),
      policies: z.array(AuthorizationPolicySchema),
    })
    .check(
      z.superRefine((doc, ctx) => {
        if (!Array.isArray(doc.policies)) return;
        const seen = new Map<string, number>();
        doc.policies.forEach((p, i) => {
          const id = (p as { id?: unknown } | null)?.id;
          if (typeof id !== 'string') return;
          const first = seen.get(id);
          if (first !== undefined)
            ctx.addIssue({
              code: 'custom',
              path: ['policies', i, 'id'],
              message: `repeats the id of policies[${first}]`,
            });
          else seen.set(id, i);
        });
      }, ALWAYS_ON_OBJECTS),
    ),
  { id: 'AuthorizationDocument', description: "A namespace's authorization policies and default action." },
);
/** A namespace's authorization policies and default action: see {@link AuthorizationDocumentSchema}. */
export type AuthorizationDocument = z.output<typeof AuthorizationDocumentSchema>;
