/**
 * Weft instances ↔ Consul services.
 *
 * - Consul service `ID`: the Weft instance id (sha256-derived, so registration stays idempotent);
 *   outside the default namespace `<namespace>--<id>`, as Consul service ids are global.
 * - `Name`, `Address`, `Port`: service, endpoint host, endpoint port.
 * - `Tags`: Weft tags, verbatim (`version=v2`, `canary`).
 * - `Meta`: metadata entries whose value is a string and whose key Consul accepts map one to
 *   one; everything else (numbers, objects, odd keys) travels as JSON in `weft-metadata-<n>`
 *   chunks. Weft's own fields use the reserved `weft-` prefix: `weft-type`, `weft-status`,
 *   `weft-ttl`, `weft-namespace`, `weft-registered-at`, `weft-endpoint` (user endpoints).
 * - Status, read from the health checks: any critical check (an expired TTL, a failing HTTP
 *   check) removes the instance, as an expired Weft instance is removed; Consul maintenance
 *   mode reads as `OUT_OF_SERVICE`; otherwise `weft-status` (`STARTING`) or `UP`. A `warning`
 *   check still counts as serving (Consul's DNS does the same).
 */
import {
  DEFAULT_NAMESPACE,
  type EndpointType,
  EndpointTypeSchema,
  type InstanceStatus,
  instanceId,
  joinHostPort,
  type Registration,
  type ServiceInstance,
} from '@weft/core';
import type { AdapterWarning } from '../internal/log.js';
import type { ConsulHealthEntry } from './client.js';

export const META_TYPE = 'weft-type';
export const META_STATUS = 'weft-status';
export const META_TTL = 'weft-ttl';
export const META_NAMESPACE = 'weft-namespace';
export const META_REGISTERED_AT = 'weft-registered-at';
export const META_ENDPOINT = 'weft-endpoint';
export const META_JSON_PREFIX = 'weft-metadata-';

/** Consul's meta limits (agent/structs validateMetaPair): 64 pairs, keys ≤ 128 of [A-Za-z0-9_-], values ≤ 512. */
const META_MAX_PAIRS = 64;
const META_KEY = /^[A-Za-z0-9_-]{1,128}$/;
const META_VALUE_MAX = 512;
/** JSON chunk size, in characters (well under Consul's value limit even with multi-byte text). */
const CHUNK = 480;

/** Check id of an instance's TTL or HTTP check. */
export function checkIdOf(consulId: string): string {
  return `service:${consulId}`;
}

/** Consul service id of a Weft instance id in a namespace. */
export function consulIdOf(id: string, namespace: string): string {
  return namespace === DEFAULT_NAMESPACE ? id : `${namespace}--${id}`;
}

/** Weft instance id of a Consul service id (inverse of {@link consulIdOf}). */
export function weftIdOf(consulId: string, namespace: string): string {
  const prefix = `${namespace}--`;
  return namespace !== DEFAULT_NAMESPACE && consulId.startsWith(prefix) ? consulId.slice(prefix.length) : consulId;
}

/** Encodes Weft metadata as Consul meta (see the module comment). */
export function encodeMetadata(
  metadata: Readonly<Record<string, unknown>>,
  reservedPairs: number,
): Record<string, string> {
  const meta: Record<string, string> = {};
  const rest: Record<string, unknown> = {};
  let pairs = 0;
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v === 'string' && META_KEY.test(k) && !isReserved(k) && v.length <= META_VALUE_MAX) {
      meta[k] = v;
      pairs++;
    } else rest[k] = v;
  }
  let json = Object.keys(rest).length === 0 ? '' : JSON.stringify(rest);
  const chunks = Math.ceil(json.length / CHUNK);
  if (pairs + chunks + reservedPairs > META_MAX_PAIRS) {
    // Too many pairs for Consul: everything goes into the JSON chunks instead.
    for (const k of Object.keys(meta)) delete meta[k];
    json = JSON.stringify(metadata);
  }
  for (let i = 0, n = 0; i < json.length; i += CHUNK, n++) meta[`${META_JSON_PREFIX}${n}`] = json.slice(i, i + CHUNK);
  return meta;
}

function isReserved(key: string): boolean {
  return key.startsWith('weft-') || key.startsWith('consul-');
}

/** Decodes Consul meta into Weft metadata (plain meta entries become string values). */
export function decodeMetadata(meta: Readonly<Record<string, string>> | null | undefined): ServiceInstance['metadata'] {
  const metadata: ServiceInstance['metadata'] = {};
  if (meta === null || meta === undefined) return metadata;
  const chunks: Array<[number, string]> = [];
  for (const [k, v] of Object.entries(meta)) {
    if (k.startsWith(META_JSON_PREFIX)) chunks.push([Number(k.slice(META_JSON_PREFIX.length)), v]);
    else if (!isReserved(k)) metadata[k] = v;
  }
  if (chunks.length > 0) {
    chunks.sort((a, b) => a[0] - b[0]);
    const parsed = JSON.parse(chunks.map((c) => c[1]).join('')) as unknown;
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) Object.assign(metadata, parsed);
  }
  return metadata;
}

/** The Consul meta of a registration. */
export function registrationMeta(
  reg: Registration,
  namespace: string,
  ttlSeconds: number,
  registeredAt: number,
): Record<string, string> {
  const own: Record<string, string> = {
    [META_TYPE]: reg.endpoint.type,
    [META_STATUS]: reg.status,
    [META_TTL]: String(ttlSeconds),
    [META_REGISTERED_AT]: String(registeredAt),
  };
  if (namespace !== DEFAULT_NAMESPACE) own[META_NAMESPACE] = namespace;
  if (reg.endpoint.type === 'user') own[META_ENDPOINT] = reg.endpoint.value;
  return { ...encodeMetadata(reg.metadata, Object.keys(own).length), ...own };
}

/** How {@link entryToInstance} reads services that Weft did not register. */
export interface EntryMapping {
  /** Endpoint type of services without `weft-type` meta. */
  endpointType: EndpointType;
  /** Use the node's address when a service has none (`node`), or skip the service (`skip`). */
  emptyAddress: 'node' | 'skip';
  /** Source name, for warnings. */
  source: string;
}

/** Result of mapping one health entry: an instance, nothing (critical), or a warning. */
export type EntryResult =
  | { kind: 'instance'; instance: ServiceInstance }
  | { kind: 'unhealthy' }
  | { kind: 'skipped'; warning: AdapterWarning };

function describeEntry(e: ConsulHealthEntry): string {
  return `consul service ${e.Service?.Service ?? '?'} (ID ${JSON.stringify(e.Service?.ID ?? '')}) on node ${e.Node?.Node ?? '?'}`;
}

function statusFromChecks(e: ConsulHealthEntry): InstanceStatus | 'critical' | undefined {
  const serviceId = e.Service?.ID ?? '';
  let maintenance = false;
  let critical = false;
  for (const c of e.Checks ?? []) {
    if (c.CheckID === '_node_maintenance' || c.CheckID === `_service_maintenance:${serviceId}`) maintenance = true;
    else if (c.Status === 'critical') critical = true;
  }
  if (maintenance) return 'OUT_OF_SERVICE';
  return critical ? 'critical' : undefined;
}

/** Maps one `/v1/health/service` entry to a Weft instance. */
export function entryToInstance(e: ConsulHealthEntry, mapping: EntryMapping): EntryResult {
  const svc = e.Service;
  const object = describeEntry(e);
  const skipped = (code: AdapterWarning['code'], message: string): EntryResult => ({
    kind: 'skipped',
    warning: { code, message: `${mapping.source}: skipped ${object}: ${message}`, source: mapping.source, object },
  });
  if (svc === null || svc === undefined || typeof svc.Service !== 'string' || svc.Service === '')
    return skipped('WEFT_WARN_CONSUL_BAD_SERVICE', 'the entry has no service name');
  const checkStatus = statusFromChecks(e);
  if (checkStatus === 'critical') return { kind: 'unhealthy' };
  const meta = svc.Meta ?? {};
  const namespace = meta[META_NAMESPACE] || DEFAULT_NAMESPACE;
  const typeParse = EndpointTypeSchema.safeParse(meta[META_TYPE] ?? mapping.endpointType);
  const type: EndpointType = typeParse.success ? typeParse.data : mapping.endpointType;
  let metadata: ServiceInstance['metadata'];
  try {
    metadata = decodeMetadata(meta);
  } catch (err) {
    return skipped(
      'WEFT_WARN_CONSUL_BAD_SERVICE',
      `its weft-metadata chunks are not JSON (${err instanceof Error ? err.message : String(err)})`,
    );
  }
  let endpoint: ServiceInstance['endpoint'];
  if (type === 'user') {
    const value = meta[META_ENDPOINT] ?? '';
    if (value === '') return skipped('WEFT_WARN_CONSUL_EMPTY_ADDRESS', 'a user endpoint without weft-endpoint meta');
    endpoint = { type, value };
  } else {
    let host = svc.Address ?? '';
    if (host === '' && mapping.emptyAddress === 'node') host = e.Node?.Address ?? '';
    if (host === '')
      return skipped(
        'WEFT_WARN_CONSUL_EMPTY_ADDRESS',
        mapping.emptyAddress === 'node'
          ? 'neither the service nor its node has an address'
          : 'the service has an empty address (emptyAddress: "skip")',
      );
    const port = svc.Port ?? 0;
    if (!Number.isInteger(port) || port <= 0 || port > 65535)
      return skipped('WEFT_WARN_CONSUL_BAD_SERVICE', `port ${String(port)} is not a usable port`);
    endpoint = { type, value: joinHostPort(host, port), host, port };
  }
  const metaStatus = meta[META_STATUS];
  const status: InstanceStatus = checkStatus ?? (metaStatus === 'STARTING' ? 'STARTING' : 'UP');
  const registeredAt = Number(meta[META_REGISTERED_AT] ?? 0) || 0;
  const consulId = svc.ID ?? '';
  const id = consulId === '' ? instanceId(svc.Service, endpoint.type, endpoint.value) : weftIdOf(consulId, namespace);
  return {
    kind: 'instance',
    instance: {
      id,
      namespace,
      service: svc.Service,
      endpoint,
      tags: Object.freeze([...(svc.Tags ?? [])]),
      metadata,
      status,
      ttl: Number(meta[META_TTL] ?? 0) || 0,
      registeredAt,
      lastHeartbeat: registeredAt,
    },
  };
}
