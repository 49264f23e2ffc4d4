import { z } from 'zod';
import { EndpointInputSchema, EndpointSchema } from './endpoint.js';
import { Limits, utf8Length } from './limits.js';

const bytesAtMost = (max: number) => (s: string) => utf8Length(s) <= max;

/** A service name: non-empty, at most 64 UTF-8 bytes. */
export const ServiceNameSchema = z
  .string({ error: 'must be a string' })
  .min(1, { error: 'must not be empty' })
  .refine(bytesAtMost(Limits.serviceNameBytes), {
    error: (iss) => `must be at most ${Limits.serviceNameBytes} bytes (got ${utf8Length(String(iss.input))})`,
  })
  .meta({ id: 'ServiceName' });

/**
 * Lifecycle status. Only `UP` instances receive traffic by default. `OUT_OF_SERVICE` instances
 * never expire: an operator took them out and expects them to stay listed.
 */
export const InstanceStatusSchema = z.enum(['UP', 'STARTING', 'OUT_OF_SERVICE']).meta({ id: 'InstanceStatus' });
export type InstanceStatus = z.infer<typeof InstanceStatusSchema>;

/** A tag: `key=value` or a bare word. */
export const TagSchema = z
  .string()
  .min(1, { error: 'must not be empty' })
  .refine(bytesAtMost(Limits.tagBytes), { error: `must be at most ${Limits.tagBytes} bytes` });

export const TagsSchema = z
  .array(TagSchema)
  .max(Limits.tagsPerInstance, { error: `must have at most ${Limits.tagsPerInstance} tags` })
  .meta({ id: 'Tags', description: 'Tags: `key=value` strings or bare words.' });

/** Free-form metadata; serialised as JSON it must fit in 1024 bytes. */
export const MetadataSchema = z
  .record(z.string(), z.json())
  .superRefine((m, ctx) => {
    const bytes = utf8Length(JSON.stringify(m));
    if (bytes > Limits.metadataJsonBytes)
      ctx.addIssue({
        code: 'custom',
        message: `must be at most ${Limits.metadataJsonBytes} bytes as JSON (got ${bytes})`,
      });
  })
  .meta({ id: 'Metadata' });

/** TTL in seconds. 0 (or absent) asks for the registry's default; the registry clamps it to its bounds. */
export const TtlSchema = z
  .number({ error: 'must be a number of seconds' })
  .min(0, { error: 'must not be negative' })
  .refine(Number.isFinite, { error: 'must be finite' });

/** What a client sends to register an instance. */
export const RegistrationSchema = z
  .object({
    service: ServiceNameSchema,
    endpoint: EndpointInputSchema,
    tags: TagsSchema.default([]),
    metadata: MetadataSchema.default({}),
    status: InstanceStatusSchema.default('UP'),
    ttl: TtlSchema.default(0),
  })
  .strict()
  .meta({ id: 'Registration', description: 'A request to register one service instance.' });
export type RegistrationInput = z.input<typeof RegistrationSchema>;
export type Registration = z.output<typeof RegistrationSchema>;

/** A registered instance as the registry reports it. */
export const ServiceInstanceSchema = z
  .object({
    id: z.string(),
    namespace: z.string(),
    service: ServiceNameSchema,
    endpoint: EndpointSchema,
    tags: z.array(z.string()).readonly(),
    metadata: z.record(z.string(), z.json()),
    status: InstanceStatusSchema,
    ttl: z.number().describe('Effective TTL in seconds, after clamping.'),
    registeredAt: z.number().describe('Registration time, ms since the epoch.'),
    lastHeartbeat: z.number().describe('Last registration or renewal, ms since the epoch.'),
  })
  .meta({ id: 'ServiceInstance', description: 'A registered service instance.' });
export type ServiceInstance = Readonly<z.output<typeof ServiceInstanceSchema>>;
