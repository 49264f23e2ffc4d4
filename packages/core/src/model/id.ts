import { createHash } from 'node:crypto';

/**
 * The deterministic instance id Amalgam8 used: the first 16 hex characters of
 * sha256(`service/type/value`). Registering the same endpoint twice yields the same id, which
 * makes registration idempotent and lets a restarted sidecar take over its old record.
 */
export function instanceId(service: string, endpointType: string, endpointValue: string): string {
  return createHash('sha256').update(`${service}/${endpointType}/${endpointValue}`).digest('hex').slice(0, 16);
}
