import * as z from 'zod/mini';
import { withDescription, withMeta } from '../zod-setup.js';
import { EndpointInputSchema, EndpointSchema } from './endpoint.js';
import { withJsonBounds } from './json-bounds.js';
import { Limits, utf8Length } from './limits.js';

const bytesAtMost = (max: number) => (s: string) => utf8Length(s) <= max;

/** A service name: non-empty, at most 64 UTF-8 bytes. */
export const ServiceNameSchema = withMeta(
  z
    .string({ error: 'must be a string' })
    .check(z.minLength(1, { error: 'must not be empty' }))
    .check(
      z.refine(bytesAtMost(Limits.serviceNameBytes), {
        error: (iss) => `must be at most ${Limits.serviceNameBytes} bytes (got ${utf8Length(String(iss.input))})`,
      }),
    ),
  { id: 'ServiceName' },
);

/**
 * Lifecycle status. Only `UP` instances receive traffic by default. `OUT_OF_SERVICE` instances
 * never expire: an operator took them out and expects them to stay listed.
 */
export const InstanceStatusSchema = withMeta(z.enum(['UP', 'STARTING', 'OUT_OF_SERVICE']), { id: 'InstanceStatus' });
/** Lifecycle status: `UP` (receives traffic), `STARTING`, `OUT_OF_SERVICE` (kept, never expires). */
export type InstanceStatus = z.infer<typeof InstanceStatusSchema>;

/** A tag: `key=value` or a bare word. */
export const TagSchema = z
  .string()
  .check(z.minLength(1, { error: 'must not be empty' }))
  .check(z.refine(bytesAtMost(Limits.tagBytes), { error: `must be at most ${Limits.tagBytes} bytes` }));

/** The tags of an instance: `key=value` strings or bare words, at most `Limits.tagsPerInstance`. */
export const TagsSchema = withMeta(
  z
    .array(TagSchema)
    .check(z.maxLength(Limits.tagsPerInstance, { error: `must have at most ${Limits.tagsPerInstance} tags` })),
  { id: 'Tags', description: 'Tags: `key=value` strings or bare words.' },
);

/** Free-form metadata as JSON Schema shows it; serialised as JSON it must fit in 1024 bytes. */
const MetadataRecordSchema = withMeta(
  z.record(z.string(), z.json()).check(
    z.superRefine((m, ctx) => {
      const bytes = utf8Length(JSON.stringify(m));
      if (bytes > Limits.metadataJsonBytes)
        ctx.addIssue({
          code: 'custom',
          message: `must be at most ${Limits.metadataJsonBytes} bytes as JSON (got ${bytes})`,
        });
    }),
  ),
  { id: 'Metadata' },
);

/**
 * Depth and size of registered metadata, checked first and without recursion (see
 * {@link withJsonBounds}). Each JSON value takes at least one byte, so more than 1024 values
 * cannot fit in 1024 bytes either.
 */
const METADATA_BOUNDS = {
  maxDepth: Limits.metadataDepth,
  maxValues: Limits.metadataJsonBytes,
  tooManyValues: `must be at most ${Limits.metadataJsonBytes} bytes as JSON (it holds more than ${Limits.metadataJsonBytes} values)`,
} as const;

/**
 * Free-form metadata: at most `Limits.metadataDepth` (32) levels of objects and arrays, and at
 * most 1024 bytes as JSON.
 */
export const MetadataSchema = withJsonBounds(MetadataRecordSchema, METADATA_BOUNDS);

/**
 * Metadata of an instance read back from a store: the same depth limit (it guards the
 * validators' call stack), and a bound on the number of values instead of the byte limit.
 */
export const InstanceMetadataSchema = withJsonBounds(z.record(z.string(), z.json()), {
  maxDepth: Limits.metadataDepth,
  maxValues: Limits.instanceMetadataValues,
  tooManyValues: `must hold at most ${Limits.instanceMetadataValues} values`,
});

/** TTL in seconds. 0 (or absent) asks for the registry's default; the registry clamps it to its bounds. */
export const TtlSchema = z
  .number({ error: 'must be a number of seconds' })
  .check(z.minimum(0, { error: 'must not be negative' }))
  .check(z.refine(Number.isFinite, { error: 'must be finite' }));

/** What a client sends to register an instance. */
export const RegistrationSchema = withMeta(
  z.strictObject({
    service: ServiceNameSchema,
    endpoint: EndpointInputSchema,
    tags: z._default(TagsSchema, []),
    // The default sits inside the bounds check so that JSON Schemas still show it (a default
    // outside a pipe with a transform is dropped from input schemas).
    metadata: withJsonBounds(z._default(MetadataRecordSchema, {}), METADATA_BOUNDS),
    status: z._default(InstanceStatusSchema, 'UP'),
    ttl: z._default(TtlSchema, 0),
  }),
  { id: 'Registration', description: 'A request to register one service instance.' },
);
/**
 * What `register` accepts: `service`, `endpoint` (an {@link EndpointInput}) and optionally
 * `tags`, `metadata`, `status`, `ttl` (seconds; 0 or absent for the registry's default).
 */
export type RegistrationInput = z.input<typeof RegistrationSchema>;
/** A validated {@link RegistrationInput}: defaults applied, the endpoint normalised. */
export type Registration = z.output<typeof RegistrationSchema>;

/** A registered instance as the registry reports it. */
export const ServiceInstanceSchema = withMeta(
  z.object({
    id: z.string(),
    namespace: z.string(),
    service: ServiceNameSchema,
    endpoint: EndpointSchema,
    tags: z.readonly(z.array(z.string())),
    metadata: InstanceMetadataSchema,
    status: InstanceStatusSchema,
    ttl: withDescription(z.number(), 'Effective TTL in seconds, after clamping.'),
    registeredAt: withDescription(z.number(), 'Registration time, ms since the epoch.'),
    lastHeartbeat: withDescription(z.number(), 'Last registration or renewal, ms since the epoch.'),
  }),
  { id: 'ServiceInstance', description: 'A registered service instance.' },
);
/**
 * A registered instance of a service: its `id`, `namespace`, `service`, normalised
 * {@link Endpoint}, `tags`, `metadata`, `status`, `ttl` and times. What registries store,
 * sources deliver and balancers pick.
 */
export type ServiceInstance = Readonly<z.output<typeof ServiceInstanceSchema>>;
