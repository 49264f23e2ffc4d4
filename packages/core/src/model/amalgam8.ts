import * as z from 'zod/mini';
import { withDescription, withMeta } from '../zod-setup.js';
import { EndpointTypeSchema } from './endpoint.js';
import {
  InstanceMetadataSchema,
  InstanceStatusSchema,
  MetadataSchema,
  type Registration,
  type RegistrationSchema,
  type ServiceInstance,
  ServiceNameSchema,
  TagsSchema,
  TtlSchema,
} from './instance.js';

/** Amalgam8's `POST /api/v1/instances` body, accepted verbatim. */
export const Amalgam8RegistrationSchema = withMeta(
  z.object({
    service_name: ServiceNameSchema,
    endpoint: z.strictObject({ type: EndpointTypeSchema, value: z.string() }),
    ttl: z.optional(TtlSchema),
    status: z.optional(InstanceStatusSchema),
    metadata: z.optional(MetadataSchema),
    tags: z.optional(TagsSchema),
  }),
  { id: 'Amalgam8Registration', description: 'Amalgam8 registry registration body.' },
);
/** The body of Amalgam8's `POST /api/v1/instances` (snake_case: `service_name`, …). */
export type Amalgam8Registration = z.input<typeof Amalgam8RegistrationSchema>;

/** An instance as Amalgam8's `GET /api/v1/instances` returns it. */
export const Amalgam8InstanceSchema = withMeta(
  z.object({
    id: z.string(),
    service_name: z.string(),
    endpoint: z.object({ type: EndpointTypeSchema, value: z.string() }),
    ttl: z.number(),
    status: InstanceStatusSchema,
    metadata: z.optional(InstanceMetadataSchema),
    last_heartbeat: withDescription(z.string(), 'RFC 3339 time of the last heartbeat.'),
    tags: z.optional(z.array(z.string())),
  }),
  { id: 'Amalgam8Instance', description: 'Amalgam8 registry instance record.' },
);
/** An instance as Amalgam8's `GET /api/v1/instances` returns it. */
export type Amalgam8Instance = z.output<typeof Amalgam8InstanceSchema>;

/** Maps an Amalgam8 registration body onto Weft's registration input (validated later, with Weft's field names). */
export function fromAmalgam8Registration(body: Amalgam8Registration): z.input<typeof RegistrationSchema> {
  const out: z.input<typeof RegistrationSchema> = {
    service: body.service_name,
    endpoint: { type: body.endpoint.type, value: body.endpoint.value },
  };
  if (body.ttl !== undefined) out.ttl = body.ttl;
  if (body.status !== undefined) out.status = body.status;
  if (body.metadata !== undefined) out.metadata = body.metadata;
  if (body.tags !== undefined) out.tags = body.tags;
  return out;
}

/** Renders an instance the way Amalgam8's registry did. */
export function toAmalgam8Instance(instance: ServiceInstance): Amalgam8Instance {
  return {
    id: instance.id,
    service_name: instance.service,
    endpoint: { type: instance.endpoint.type, value: instance.endpoint.value },
    ttl: instance.ttl,
    status: instance.status,
    metadata: instance.metadata,
    last_heartbeat: new Date(instance.lastHeartbeat).toISOString(),
    tags: [...instance.tags],
  };
}

export type { Registration };
