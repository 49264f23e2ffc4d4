import type { ServiceInstance } from '@weft/core';
import { goTime } from './go-json.js';

/**
 * The JSON fields of an instance in Amalgam8's API, in the order its Go struct
 * (`protocol/amalgam8.ServiceInstance`) declared them — the order they appear on the wire. They are
 * also the names `fields=` and the query filters accept.
 */
export const INSTANCE_FIELDS = [
  'id',
  'service_name',
  'endpoint',
  'ttl',
  'status',
  'metadata',
  'last_heartbeat',
  'links',
  'tags',
] as const;
export type InstanceField = (typeof INSTANCE_FIELDS)[number];

/** An instance on the wire. Optional fields are left out when empty, as Go's `omitempty` did. */
export interface WireInstance {
  id: string;
  service_name?: string;
  endpoint: { type: string; value: string };
  ttl?: number;
  status?: string;
  metadata?: Readonly<Record<string, unknown>>;
  last_heartbeat?: string;
  tags?: readonly string[];
}

/**
 * Renders an instance as Amalgam8 listed it. With `fields`, only those are kept (Amalgam8's
 * `fields=` projection), but `id` and `endpoint` always are. `links` is never set in listings.
 *
 * Built field by field rather than from core's `toAmalgam8Instance`: the wire leaves empty
 * metadata and tags out and renders `last_heartbeat` the way Go did, which that mapping does not.
 */
export function wireInstance(instance: ServiceInstance, fields?: ReadonlySet<string>): WireInstance {
  const keep = (field: InstanceField): boolean => fields === undefined || fields.has(field);
  // One literal in wire order (JSON keeps insertion order); empty fields are spread in as nothing.
  return {
    id: instance.id,
    ...(keep('service_name') ? { service_name: instance.service } : {}),
    endpoint: { type: instance.endpoint.type, value: instance.endpoint.value },
    ...(keep('ttl') && wireTtl(instance.ttl) !== 0 ? { ttl: wireTtl(instance.ttl) } : {}),
    ...(keep('status') ? { status: instance.status } : {}),
    // Core keeps `{}` when no metadata was given, where Amalgam8 had a nil RawMessage it left out.
    ...(keep('metadata') && Object.keys(instance.metadata).length > 0 ? { metadata: instance.metadata } : {}),
    ...(keep('last_heartbeat') ? { last_heartbeat: goTime(instance.lastHeartbeat) } : {}),
    ...(keep('tags') && instance.tags.length > 0 ? { tags: instance.tags } : {}),
  };
}

/** The `links` of a registration answer: absolute URLs of the instance and of its heartbeat. */
export interface InstanceLinks {
  self: string;
  heartbeat: string;
}

/** Builds the links from the base URL (`scheme://host` plus the mount prefix) and the id. */
export function instanceLinks(base: string, id: string): InstanceLinks {
  const self = `${base}/api/v1/instances/${id}`;
  return { self, heartbeat: `${self}/heartbeat` };
}

/** A TTL as Amalgam8 sent it: whole seconds (a Go `uint32` of the duration, truncated). */
export function wireTtl(seconds: number): number {
  return Math.trunc(seconds);
}
