import type { InstanceStatus } from '@weft/core';

/** Eureka's instance statuses (`InstanceInfo.InstanceStatus`). */
export const EUREKA_STATUSES = ['UP', 'DOWN', 'STARTING', 'OUT_OF_SERVICE', 'UNKNOWN'] as const;
export type EurekaStatus = (typeof EUREKA_STATUSES)[number];

const KNOWN: ReadonlySet<string> = new Set(EUREKA_STATUSES);

/** The status named by `text` in any case, or undefined when Eureka has no such status. */
export function eurekaStatus(text: unknown): EurekaStatus | undefined {
  if (typeof text !== 'string') return undefined;
  const upper = text.toUpperCase();
  return KNOWN.has(upper) ? (upper as EurekaStatus) : undefined;
}

/**
 * The Weft status that stands for a Eureka status. Weft has three: DOWN and UNKNOWN become
 * STARTING — not routable, and still expiring without heartbeats — rather than OUT_OF_SERVICE,
 * which never expires (a crashed client that had reported DOWN would stay listed forever).
 */
export function weftStatus(status: EurekaStatus): InstanceStatus {
  return status === 'UP' || status === 'OUT_OF_SERVICE' ? status : 'STARTING';
}
