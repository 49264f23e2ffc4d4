import { createHash } from 'node:crypto';
import type { ServiceInstance } from '@weft/core';

/**
 * The metadata keys that mark a mirrored instance. Amalgam8's wire format has a fixed list of
 * instance fields, and `metadata` is the one that carries anything else, so the mark goes there:
 * every client (Amalgam8's, the Weft sources, proxies) sees it without a new field, and native
 * instances stay byte for byte what they were. Keys use the reserved `weft.` prefix.
 */
export const MirrorMetadata = {
  /** The source's type: `consul`, `etcd`, `kubernetes`, `weave`, `file` (or a custom source's name). */
  source: 'weft.source',
  /** The mirror's name, as errors, `/health` and `GET /api/v1/mirrors` give it. */
  mirror: 'weft.mirror',
  /** The instance's id in its source (the Consul service id, say), to find it there. */
  sourceId: 'weft.source_id',
} as const;

/**
 * The registry id of a mirrored instance: derived from the mirror's name and the source's id, so
 * it is stable across restarts and reloads, and never equal to a native id — a service
 * registered natively and mirrored from Consul at the same endpoint shows twice, once per source,
 * rather than one hiding the other. Same shape as native ids (16 hex digits).
 */
export function mirroredId(mirror: string, sourceId: string): string {
  return createHash('sha256').update(`mirror\u0000${mirror}\u0000${sourceId}`).digest().toString('hex', 0, 8);
}

/** What a mirror stamps on its instances. */
export interface MirrorStamp {
  readonly name: string;
  readonly type: string;
  readonly namespace: string;
}

/**
 * A source's instance as the registry shows it: in the mirror's namespace, under its mirrored
 * id, marked with its source, TTL 0 (it never expires: the source decides when it goes).
 * `seenAt` (ms) stands for the registration and heartbeat times when the source has none.
 */
export function mirrorInstance(instance: ServiceInstance, stamp: MirrorStamp, seenAt: number): ServiceInstance {
  return Object.freeze({
    id: mirroredId(stamp.name, instance.id),
    namespace: stamp.namespace,
    service: instance.service,
    endpoint: instance.endpoint,
    tags: instance.tags,
    metadata: Object.freeze({
      ...instance.metadata,
      [MirrorMetadata.source]: stamp.type,
      [MirrorMetadata.mirror]: stamp.name,
      [MirrorMetadata.sourceId]: instance.id,
    }),
    status: instance.status,
    ttl: 0,
    registeredAt: instance.registeredAt > 0 ? instance.registeredAt : seenAt,
    lastHeartbeat: seenAt,
  });
}
