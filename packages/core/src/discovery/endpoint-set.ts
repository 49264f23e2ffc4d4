import type { ServiceInstance } from '../model/index.js';

/** The endpoints of one service as Discovery currently believes them to be. */
export interface EndpointSet {
  readonly service: string;
  /**
   * Grows each time the set really changes (membership, status, tags, endpoint or metadata);
   * values are unique across services. Equal revisions mean identical sets, so consumers can
   * skip rebuilding. 0 means the service is unknown.
   */
  readonly revision: number;
  /** Instances that pass the filter, ordered by id. */
  readonly instances: readonly ServiceInstance[];
  /** True while a source that contributed to the set is failing; the set is its last-known-good state. */
  readonly stale: boolean;
  /** Milliseconds since the oldest contributing failure began (0 when fresh). */
  readonly staleForMs: number;
}

/** Criteria for the instances of an {@link EndpointSet}. */
export interface EndpointFilter {
  /** Only instances carrying all of these tags. */
  tags?: readonly string[];
  /** Only instances in these statuses (default `['UP']`). */
  status?: readonly ServiceInstance['status'][];
}

/**
 * A string that is equal for two instances exactly when nothing a balancer or router cares
 * about differs. Cheaper than deep equality and order-independent for tags.
 */
export function instanceFingerprint(i: ServiceInstance): string {
  const tags = i.tags.length > 1 ? [...i.tags].sort().join(',') : (i.tags[0] ?? '');
  const meta = Object.keys(i.metadata).length === 0 ? '' : JSON.stringify(i.metadata);
  return `${i.id}\u0000${i.status}\u0000${i.endpoint.type}\u0000${i.endpoint.value}\u0000${tags}\u0000${meta}`;
}
