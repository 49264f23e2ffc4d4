import { type ServiceInstance, ServiceInstanceSchema } from '@weft/core';

/**
 * The key layout (documented in the package README):
 *
 * ```
 * <prefix>/<namespace>/services/<service>/<id>   →  the instance as JSON
 * ```
 *
 * `prefix` defaults to `/weft`; namespace, service and id are URI-component encoded, so a `/`
 * in a name cannot change the layout. A value is the JSON of a Weft `ServiceInstance` (the fields
 * `instances()` returns). Keys of instances that expire are attached to an etcd lease of their TTL.
 */
export const DEFAULT_PREFIX = '/weft';

/** `prefix` without trailing slashes, with a leading one. */
export function normalizePrefix(prefix: string | undefined): string {
  const p = (prefix ?? DEFAULT_PREFIX).replace(/\/+$/, '');
  return p.startsWith('/') ? p : `/${p}`;
}

const enc = encodeURIComponent;

/** Keys of every instance of a namespace start with this. */
export function namespaceKeyPrefix(prefix: string, namespace: string): string {
  return `${prefix}/${enc(namespace)}/services/`;
}

/** Keys of every instance of a service start with this. */
export function serviceKeyPrefix(prefix: string, namespace: string, service: string): string {
  return `${namespaceKeyPrefix(prefix, namespace)}${enc(service)}/`;
}

/** The key of one instance. */
export function instanceKey(prefix: string, namespace: string, service: string, id: string): string {
  return `${serviceKeyPrefix(prefix, namespace, service)}${enc(id)}`;
}

/** The parts of an instance key, or undefined when the key is not of the layout. */
export function parseInstanceKey(
  prefix: string,
  key: string,
): { namespace: string; service: string; id: string } | undefined {
  if (!key.startsWith(`${prefix}/`)) return undefined;
  const parts = key.slice(prefix.length + 1).split('/');
  if (parts.length !== 4 || parts[1] !== 'services') return undefined;
  try {
    const [namespace, , service, id] = parts.map(decodeURIComponent) as [string, string, string, string];
    if (namespace === '' || service === '' || id === '') return undefined;
    return { namespace, service, id };
  } catch {
    return undefined; // malformed %-escape
  }
}

/** The end of the etcd range that holds exactly the keys starting with `prefix` (etcd's prefix rule). */
export function prefixRangeEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if ((end[i] as number) < 0xff) {
      end[i] = (end[i] as number) + 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]); // all 0xff: to the end of the keyspace
}

/** The stored JSON of an instance. */
export function encodeInstance(instance: ServiceInstance): string {
  const { id, namespace, service, endpoint, tags, metadata, status, ttl, registeredAt, lastHeartbeat } = instance;
  return JSON.stringify({ id, namespace, service, endpoint, tags, metadata, status, ttl, registeredAt, lastHeartbeat });
}

/** Reads a stored value; answers with the instance, or why it is not one. */
export function decodeInstance(
  prefix: string,
  key: string,
  value: Buffer | string,
): { instance: ServiceInstance } | { problem: string } {
  const where = parseInstanceKey(prefix, key);
  if (where === undefined) return { problem: 'the key is not <prefix>/<namespace>/services/<service>/<id>' };
  let json: unknown;
  try {
    json = JSON.parse(typeof value === 'string' ? value : value.toString('utf8'));
  } catch (err) {
    return { problem: `the value is not JSON (${(err as Error).message})` };
  }
  const parsed = ServiceInstanceSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    return { problem: `the value is not a Weft instance (${issues})` };
  }
  const i = parsed.data;
  if (i.service !== where.service || i.id !== where.id || i.namespace !== where.namespace)
    return {
      problem: `the value (${i.namespace}/${i.service}/${i.id}) does not match its key (${where.namespace}/${where.service}/${where.id})`,
    };
  return { instance: Object.freeze({ ...i, tags: Object.freeze([...i.tags]) }) as ServiceInstance };
}
