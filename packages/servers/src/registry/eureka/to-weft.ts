import { type InstanceStatus, joinHostPort, Limits, type RegistrationInput, utf8Length } from '@weft/core';
import { serviceOfApp } from './names.js';
import { type EurekaRecord, RECORD_KEY, recordJson, type WeftMetadata } from './record.js';
import type { EurekaRegistration } from './registration-body.js';
import { type EurekaStatus, weftStatus } from './status.js';

/** Metadata keys whose values become tags (see {@link tagsOfMetadata}). */
export const TAGS_KEYS = ['weft.tags', 'amalgam8.tags'] as const;

/**
 * The tags of an instance registered through Eureka, from its metadata — Eureka has no tags, and
 * Weft routes by them (`version=v2`):
 * - a `version` key becomes the tag `version=<value>`;
 * - `weft.tags` (or Amalgam8's `amalgam8.tags`) is a comma-separated list of tags, taken as
 *   they are (`canary,zone=eu`).
 * Empty items are skipped and duplicates kept once.
 */
export function tagsOfMetadata(metadata: Readonly<Record<string, unknown>>): string[] {
  const tags: string[] = [];
  const version = metadata.version;
  if (typeof version === 'string' && version !== '') tags.push(`version=${version}`);
  for (const key of TAGS_KEYS) {
    const list = metadata[key];
    if (typeof list === 'string') for (const tag of list.split(',')) if (tag.trim() !== '') tags.push(tag.trim());
  }
  return [...new Set(tags)];
}

/** Record fields dropped, in this order, when the metadata would exceed its 1 024 bytes: links only. */
const DROPPABLE = ['secureHealthCheckUrl', 'homePageUrl', 'statusPageUrl', 'healthCheckUrl'] as const;

/** What a status decision needs to know of the instance already registered under the same Eureka id. */
export interface StatusContext {
  /** The override set through `PUT …/status`, which outlives re-registrations. */
  readonly overriddenStatus: EurekaStatus | undefined;
}

/**
 * A Eureka registration as a Weft registration:
 * - service: the application name lower-cased;
 * - endpoint: `ipAddr` (or `hostName` when there is none) with the plain port, `http`, when that
 *   port is enabled, else with the secure port, `https`;
 * - TTL: `leaseInfo.durationInSecs` (the registry's TTL policy clamps it);
 * - status: Eureka's mapped to Weft's (DOWN and UNKNOWN → STARTING), or the override's;
 * - metadata: the client's, plus the record of what Eureka knows and Weft does not under
 *   `_eureka`; tags from metadata (see {@link tagsOfMetadata}).
 */
export function toWeftRegistration(reg: EurekaRegistration, context: StatusContext): RegistrationInput {
  const host = reg.ipAddr !== '' ? reg.ipAddr : reg.hostName;
  const https = !reg.port.enabled && reg.securePort.enabled;
  const endpointPort = https ? reg.securePort.port : reg.port.port;
  const shown: EurekaStatus = context.overriddenStatus ?? reg.status;
  const status: InstanceStatus = weftStatus(shown);
  const record = recordOf(reg, host, https, context.overriddenStatus);
  const { [RECORD_KEY]: _reserved, ...clientMetadata } = reg.metadata;
  const metadata = (): WeftMetadata => ({ ...clientMetadata, [RECORD_KEY]: recordJson(record) });
  for (const field of DROPPABLE) {
    if (utf8Length(JSON.stringify(metadata())) <= Limits.metadataJsonBytes) break;
    delete record[field];
  }
  return {
    service: serviceOfApp(reg.app),
    endpoint: { type: https ? 'https' : 'http', value: joinHostPort(host, endpointPort) },
    ttl: reg.durationInSecs,
    status,
    metadata: metadata(),
    tags: tagsOfMetadata(clientMetadata),
  };
}

function recordOf(
  reg: EurekaRegistration,
  host: string,
  https: boolean,
  overriddenStatus: EurekaStatus | undefined,
): EurekaRecord {
  const service = serviceOfApp(reg.app);
  const record: EurekaRecord = { instanceId: reg.instanceId };
  if (reg.hostName !== host) record.hostName = reg.hostName;
  if (reg.ipAddr !== host) record.ipAddr = reg.ipAddr;
  if (https && reg.port.port !== 80) record.port = reg.port.port;
  if (!https && (reg.securePort.enabled || reg.securePort.port !== 443)) {
    record.securePort = reg.securePort.port;
    if (reg.securePort.enabled) record.securePortEnabled = true;
  }
  if (reg.vipAddress !== undefined && reg.vipAddress !== service) record.vipAddress = reg.vipAddress;
  if (reg.secureVipAddress !== undefined && reg.secureVipAddress !== service)
    record.secureVipAddress = reg.secureVipAddress;
  if (reg.renewalIntervalInSecs !== 30) record.renewalIntervalInSecs = reg.renewalIntervalInSecs;
  for (const field of ['homePageUrl', 'statusPageUrl', 'healthCheckUrl', 'secureHealthCheckUrl'] as const) {
    const value = reg[field];
    if (value !== undefined) record[field] = value;
  }
  if (reg.dataCenter !== 'MyOwn') record.dataCenter = reg.dataCenter;
  // Always kept: Weft's status cannot say DOWN or UNKNOWN, and an override (Eureka's or one set
  // through /api/v1) is told from the client's own status by comparing the two.
  record.status = reg.status;
  if (overriddenStatus !== undefined) record.overriddenStatus = overriddenStatus;
  if (reg.lastDirtyTimestamp !== undefined) record.lastDirtyTimestamp = reg.lastDirtyTimestamp;
  return record;
}
