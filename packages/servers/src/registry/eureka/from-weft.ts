import type { ServiceInstance } from '@weft/core';
import { appOfService } from './names.js';
import { type EurekaRecord, RECORD_KEY, recordOf } from './record.js';
import type { EurekaPort } from './registration-body.js';
import { type EurekaStatus, weftStatus } from './status.js';
import { TAGS_KEYS } from './to-weft.js';

/** Eureka's delta actions. */
export type ActionType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** An instance as Eureka clients read it (`InstanceInfo`), before it is written as JSON or XML. */
export interface EurekaInstanceView {
  instanceId: string;
  hostName: string;
  app: string;
  ipAddr: string;
  status: EurekaStatus;
  overriddenStatus: EurekaStatus;
  port: EurekaPort;
  securePort: EurekaPort;
  countryId: number;
  dataCenterInfo: { className: string; name: string };
  leaseInfo: {
    renewalIntervalInSecs: number;
    durationInSecs: number;
    registrationTimestamp: number;
    lastRenewalTimestamp: number;
    evictionTimestamp: number;
    serviceUpTimestamp: number;
  };
  metadata: Record<string, string>;
  homePageUrl: string | undefined;
  statusPageUrl: string | undefined;
  healthCheckUrl: string | undefined;
  secureHealthCheckUrl: string | undefined;
  vipAddress: string;
  secureVipAddress: string;
  isCoordinatingDiscoveryServer: boolean;
  lastUpdatedTimestamp: number;
  lastDirtyTimestamp: number;
  actionType: ActionType;
}

/** Whole milliseconds: Eureka's timestamps are Java longs (the registry's clock may give fractions). */
const ms = (t: number): number => Math.trunc(t);

export const DEFAULT_DATA_CENTER_CLASS = 'com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo';

/**
 * The status Eureka clients see: an override set through Eureka while it still holds, else the
 * status the client reported while Weft's still says it (so DOWN and UNKNOWN survive as STARTING),
 * else Weft's own — a change made through `/api/v1` wins over what the client once said.
 */
export function shownStatus(instance: ServiceInstance, record = recordOf(instance)): EurekaStatus {
  if (record?.overriddenStatus !== undefined && weftStatus(record.overriddenStatus) === instance.status)
    return record.overriddenStatus;
  if (record?.status !== undefined && weftStatus(record.status) === instance.status) return record.status;
  return instance.status;
}

/**
 * The override in force, or undefined: one set through Eureka's status endpoint, or an
 * OUT_OF_SERVICE the client did not report itself (set through `/api/v1`). Re-registrations keep it.
 */
export function overrideOf(instance: ServiceInstance, record = recordOf(instance)): EurekaStatus | undefined {
  if (record?.overriddenStatus !== undefined && weftStatus(record.overriddenStatus) === instance.status)
    return record.overriddenStatus;
  if (instance.status === 'OUT_OF_SERVICE' && record?.status !== 'OUT_OF_SERVICE') return 'OUT_OF_SERVICE';
  return undefined;
}

/** Eureka metadata is strings: other JSON values are written as JSON text. */
function metadataOf(instance: ServiceInstance, record: EurekaRecord | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(instance.metadata)) {
    if (key === RECORD_KEY) continue;
    out[key] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  // Instances registered another way show their tags, under the key that would set them.
  const tagsKey = TAGS_KEYS[0];
  if (record === undefined && instance.tags.length > 0 && out[tagsKey] === undefined)
    out[tagsKey] = instance.tags.join(',');
  return out;
}

/** The ports of an instance: the endpoint's, enabled, and the other as the record keeps it. */
function portsOf(
  instance: ServiceInstance,
  record: EurekaRecord | undefined,
): Pick<EurekaInstanceView, 'port' | 'securePort'> {
  const endpointPort = instance.endpoint.port ?? 0;
  if (instance.endpoint.type === 'https')
    return { port: { port: record?.port ?? 80, enabled: false }, securePort: { port: endpointPort, enabled: true } };
  return {
    port: { port: endpointPort, enabled: true },
    securePort: { port: record?.securePort ?? 443, enabled: record?.securePortEnabled === true },
  };
}

/**
 * Any Weft instance as a Eureka `InstanceInfo`: the application is the service upper-cased; ids,
 * host names, links and lease details come from the Eureka record when the instance was registered
 * through Eureka, and are derived from the endpoint otherwise (Weft's id as the instance id, the
 * endpoint's host as host name and address, `http(s)://host:port/` as home page, the service (lower-cased)
 * as VIP address, tags as `weft.tags` metadata). `user` endpoints have no host and port a Eureka
 * client could call: callers leave them out (see {@link hasEurekaEndpoint}).
 */
export function toEurekaInstance(instance: ServiceInstance, actionType: ActionType = 'ADDED'): EurekaInstanceView {
  const record = recordOf(instance);
  const host = instance.endpoint.host ?? instance.endpoint.value;
  const status = shownStatus(instance, record);
  const scheme = instance.endpoint.type === 'https' ? 'https' : 'http';
  return {
    instanceId: record?.instanceId ?? instance.id,
    hostName: record?.hostName ?? host,
    app: appOfService(instance.service),
    ipAddr: record?.ipAddr ?? host,
    status,
    overriddenStatus: overrideOf(instance, record) ?? 'UNKNOWN',
    ...portsOf(instance, record),
    countryId: 1,
    dataCenterInfo: {
      // Netflix's client picks the class to read by it: Amazon's has its own.
      className: record?.dataCenter === 'Amazon' ? 'com.netflix.appinfo.AmazonInfo' : DEFAULT_DATA_CENTER_CLASS,
      name: record?.dataCenter ?? 'MyOwn',
    },
    leaseInfo: {
      renewalIntervalInSecs: record?.renewalIntervalInSecs ?? 30,
      durationInSecs: Math.trunc(instance.ttl),
      registrationTimestamp: ms(instance.registeredAt),
      lastRenewalTimestamp: ms(instance.lastHeartbeat),
      evictionTimestamp: 0,
      serviceUpTimestamp: ms(instance.registeredAt),
    },
    metadata: metadataOf(instance, record),
    homePageUrl: record === undefined ? `${scheme}://${instance.endpoint.value}/` : record.homePageUrl,
    statusPageUrl: record?.statusPageUrl,
    healthCheckUrl: record?.healthCheckUrl,
    secureHealthCheckUrl: record?.secureHealthCheckUrl,
    vipAddress: record?.vipAddress ?? instance.service.toLowerCase(),
    secureVipAddress: record?.secureVipAddress ?? instance.service.toLowerCase(),
    isCoordinatingDiscoveryServer: false,
    lastUpdatedTimestamp: ms(instance.lastHeartbeat),
    lastDirtyTimestamp: ms(record?.lastDirtyTimestamp ?? instance.registeredAt),
    actionType,
  };
}

/** True for instances a Eureka client can call: every endpoint type but `user`. */
export function hasEurekaEndpoint(instance: ServiceInstance): boolean {
  return instance.endpoint.type !== 'user' && instance.endpoint.port !== undefined;
}
