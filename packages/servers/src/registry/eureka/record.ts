import type { RegistrationInput, ServiceInstance } from '@weft/core';
import { type EurekaStatus, eurekaStatus } from './status.js';

/**
 * The metadata key under which an instance registered through the Eureka API keeps what Eureka
 * knows of it and Weft's model does not (its instance id, host name, status page…). Kept in the
 * registry itself, not beside it, so every server on a shared store (etcd) and every restart sees
 * it; `/api/v1` shows it as ordinary metadata.
 */
export const RECORD_KEY = '_eureka';

/**
 * What an instance registered through Eureka keeps under {@link RECORD_KEY}. Only what cannot be
 * derived is stored: fields equal to their derived default are left out, since an instance's
 * metadata must fit in 1 024 bytes of JSON.
 */
export interface EurekaRecord {
  /** Eureka's `instanceId` (client-chosen; Weft's own id is derived from the endpoint). */
  instanceId: string;
  hostName?: string;
  /** `ipAddr`, when not the endpoint's host. */
  ipAddr?: string;
  /** The disabled plain port of an https endpoint, when not 80. */
  port?: number;
  /** The secure port of an http endpoint, when enabled or not 443. */
  securePort?: number;
  securePortEnabled?: boolean;
  /** When not the service name. */
  vipAddress?: string;
  secureVipAddress?: string;
  /** When not 30. */
  renewalIntervalInSecs?: number;
  homePageUrl?: string;
  statusPageUrl?: string;
  healthCheckUrl?: string;
  secureHealthCheckUrl?: string;
  /** `dataCenterInfo.name`, when not `MyOwn`. */
  dataCenter?: string;
  /** The status the client itself reported, when Weft's status cannot say it (DOWN, UNKNOWN) or an override hides it. */
  status?: EurekaStatus;
  /** A status set through `PUT …/status`: it outlives the client's re-registrations until deleted. */
  overriddenStatus?: EurekaStatus;
  lastDirtyTimestamp?: number;
}

const STRING_FIELDS = [
  'hostName',
  'ipAddr',
  'vipAddress',
  'secureVipAddress',
  'homePageUrl',
  'statusPageUrl',
  'healthCheckUrl',
  'secureHealthCheckUrl',
  'dataCenter',
] as const;
const NUMBER_FIELDS = ['port', 'securePort', 'renewalIntervalInSecs', 'lastDirtyTimestamp'] as const;

/** Metadata as the registry takes it (JSON values). */
export type WeftMetadata = NonNullable<RegistrationInput['metadata']>;

/** The record as a metadata value: its defined fields only (JSON has no `undefined`). */
export function recordJson(record: EurekaRecord): WeftMetadata {
  const out: WeftMetadata = {};
  for (const [key, value] of Object.entries(record))
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') out[key] = value;
  return out;
}

/**
 * The record of an instance, or undefined for one registered another way (`/api/v1`, a sidecar).
 * Read field by field: anyone may write metadata through `/api/v1`, so a malformed field is
 * ignored rather than trusted.
 */
export function recordOf(instance: ServiceInstance): EurekaRecord | undefined {
  const raw = instance.metadata[RECORD_KEY];
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
  const source = raw as Readonly<Record<string, unknown>>;
  if (typeof source.instanceId !== 'string' || source.instanceId === '') return undefined;
  const record: EurekaRecord = { instanceId: source.instanceId };
  for (const field of STRING_FIELDS) {
    const value = source[field];
    if (typeof value === 'string') record[field] = value;
  }
  for (const field of NUMBER_FIELDS) {
    const value = source[field];
    if (typeof value === 'number' && Number.isFinite(value)) record[field] = value;
  }
  if (typeof source.securePortEnabled === 'boolean') record.securePortEnabled = source.securePortEnabled;
  const status = eurekaStatus(source.status);
  if (status !== undefined) record.status = status;
  const overridden = eurekaStatus(source.overriddenStatus);
  if (overridden !== undefined) record.overriddenStatus = overridden;
  return record;
}

/** The Eureka instance id of any instance: its record's, or Weft's id for one registered another way. */
export function eurekaIdOf(instance: ServiceInstance): string {
  return recordOf(instance)?.instanceId ?? instance.id;
}
