import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import { namespaceOf } from '../context.js';
import { Amalgam8Errors, failure, WireCodes } from '../errors.js';
import type { MirrorStatus } from './mirror.js';
import type { MirroredRegistry } from './mirrored-registry.js';

/** The status route's path (Weft's), next to Amalgam8's under `/api/v1`. */
export const MIRRORS = '/api/v1/mirrors';

/** A mirror's status on the wire, in the snake case of the registry's other Weft routes (`/api/v1/proxies`). */
export interface WireMirrorStatus {
  name: string;
  namespace: string;
  source: string;
  state: MirrorStatus['state'];
  services: number;
  instances: number;
  last_update: string | null;
  stale_since: string | null;
  error: string | null;
  source_revision: string | number | null;
}

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

export function wireMirrorStatus(s: MirrorStatus): WireMirrorStatus {
  return {
    name: s.name,
    namespace: s.namespace,
    source: s.type,
    state: s.state,
    services: s.services,
    instances: s.instances,
    last_update: iso(s.lastUpdate),
    stale_since: iso(s.staleSince),
    error: s.lastError ?? null,
    source_revision: s.sourceRevision ?? null,
  };
}

/**
 * What `/health` adds for the mirrors: `degraded` while any is not `ok` (its source is failing,
 * or has not answered yet) — still a 200, since the registry serves (native instances, and each
 * mirror's last state); a load balancer must not take it out because Consul is down. Only the
 * name, type and state of each mirror, as `/health` answers without credentials; the details are
 * on `GET /api/v1/mirrors`, per namespace.
 */
export function mirrorHealth(registry: MirroredRegistry): {
  status: 'ok' | 'degraded';
  mirrors: { name: string; source: string; state: MirrorStatus['state']; stale_since: string | null }[];
} {
  const mirrors = registry.mirrorStatus();
  return {
    status: mirrors.every((m) => m.state === 'ok') ? 'ok' : 'degraded',
    mirrors: mirrors.map((m) => ({ name: m.name, source: m.type, state: m.state, stale_since: iso(m.staleSince) })),
  };
}

const OTHER_METHODS: readonly HTTPMethods[] = ['DELETE', 'HEAD', 'PATCH', 'POST', 'PUT', 'OPTIONS'];

/**
 * `GET /api/v1/mirrors`: the mirrors of the request's namespace and how each source is doing
 * (`{mirrors: [{name, namespace, source, state, services, instances, last_update, stale_since,
 * error, source_revision}]}`). A tenant sees its own namespace's mirrors only. Register it under
 * the registry routes' prefix, on an app that authenticates requests (`request.namespace`).
 */
export async function mirrorRoutes(app: FastifyInstance, options: { registry: MirroredRegistry }): Promise<void> {
  const { registry } = options;
  app.get(MIRRORS, { exposeHeadRoute: false }, async (request: FastifyRequest) => ({
    mirrors: registry.mirrorStatus(namespaceOf(request)).map(wireMirrorStatus),
  }));
  const notAllowed = failure(
    405,
    Amalgam8Errors.methodNotAllowed,
    WireCodes.methodNotAllowed,
    'method not allowed here',
  );
  app.route({
    method: [...OTHER_METHODS],
    url: MIRRORS,
    exposeHeadRoute: false,
    handler: async (_request: FastifyRequest, reply: FastifyReply) =>
      reply.code(notAllowed.status).send(notAllowed.body),
  });
}
