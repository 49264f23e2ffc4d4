import type { InstanceStatus, RegistrationInput, ServiceInstance } from '@weft/core';
import type { WeftMetadata } from './record.js';

/**
 * The registration that rewrites an instance with new metadata, tags or status and everything
 * else as it is: how the Eureka API changes what `Registry` has no finer write for (overrides,
 * metadata). The registry keeps `registeredAt` on an overwrite.
 */
export function reregistration(
  instance: ServiceInstance,
  change: {
    metadata?: Readonly<WeftMetadata>;
    tags?: readonly string[];
    status?: InstanceStatus;
  },
): RegistrationInput {
  return {
    service: instance.service,
    endpoint: { type: instance.endpoint.type, value: instance.endpoint.value },
    tags: [...(change.tags ?? instance.tags)],
    metadata: { ...(change.metadata ?? instance.metadata) },
    status: change.status ?? instance.status,
    ttl: instance.ttl,
  };
}
