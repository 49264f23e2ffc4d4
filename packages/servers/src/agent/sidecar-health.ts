import type { SidecarConfig } from '../config/sidecar-settings.js';
import type { HealthReport } from './health/index.js';
import type { IdentityHealth } from './sidecar-identity.js';
import type { Mesh } from './sidecar-mesh.js';
import type { RegistrationStatus } from './sidecar-registration.js';

/** What GET /health is made of. */
export interface HealthInput {
  readonly config: SidecarConfig;
  readonly mesh: Mesh | undefined;
  readonly registration: RegistrationStatus | undefined;
  readonly health: HealthReport | undefined;
  readonly appRunning: number;
  readonly draining: boolean;
  /** The workload identity's state (identity.enabled); undefined without one. */
  readonly identity?: IdentityHealth | undefined;
  /** The inbound mTLS listener (inbound.port): its port once it listens, its mode; undefined without one. */
  readonly inbound?: InboundHealth | undefined;
}

/** The `inbound` section of GET /health. */
export interface InboundHealth {
  /** False while it waits for the first certificate (the app is registered once it listens). */
  readonly listening: boolean;
  /** The port it listens on (or will: the one configured). */
  readonly port: number;
  readonly mtls: 'permissive' | 'strict';
}

/**
 * The body of the agent's GET /health. `status` is `ok`, `degraded` (a control-plane source is
 * stale, or the endpoints still come from the snapshot), or `draining`; the HTTP status is 503
 * only while draining, so an orchestrator does not restart a sidecar for its control plane's outage.
 */
export function healthBody(input: HealthInput) {
  const { config, mesh } = input;
  const now = Date.now();
  const sources = mesh?.discovery.health().map((h) => ({
    name: h.name,
    state: h.state,
    revision: h.revision,
    lastUpdate: h.lastUpdate,
    staleForMs: h.staleSince === undefined ? 0 : now - h.staleSince,
    ...(h.lastError === undefined ? {} : { error: h.lastError.message }),
  }));
  const fromSnapshot = mesh !== undefined && mesh.loaded !== undefined && !mesh.seeded.live;
  const rulesFromSnapshot = mesh !== undefined && mesh.loaded !== undefined && mesh.following.revision === undefined;
  const endpoints =
    mesh === undefined
      ? null
      : {
          sources,
          fromSnapshot,
          stale: fromSnapshot || (sources ?? []).some((s) => s.state !== 'ok'),
          services: mesh.discovery.services().length,
        };
  const rules =
    mesh === undefined
      ? null
      : {
          revision: mesh.following.revision ?? (rulesFromSnapshot ? mesh.loaded?.rulesRevision : undefined),
          count: mesh.router.ruleSet.size,
          fromSnapshot: rulesFromSnapshot,
          stale: rulesFromSnapshot || mesh.following.stale || mesh.following.revision === undefined,
          ...(mesh.following.lastError === undefined ? {} : { error: mesh.following.lastError.message }),
        };
  const degraded = endpoints?.stale === true || rules?.stale === true;
  return {
    status: input.draining ? 'draining' : degraded ? 'degraded' : 'ok',
    mode: config.mode,
    service: config.service.name === undefined ? null : { name: config.service.name, tags: config.service.tags },
    registration: input.registration ?? null,
    health: input.health ?? null,
    app: { running: input.appRunning },
    endpoints,
    rules,
    snapshot:
      mesh?.writer === undefined
        ? null
        : {
            path: config.snapshot,
            loadedFrom: mesh.loaded?.savedAt ?? null,
            lastWrite: mesh.writer.lastWrite ?? null,
            ...(mesh.writer.lastError === undefined ? {} : { error: mesh.writer.lastError.message }),
          },
    proxy: mesh === undefined ? null : { draining: mesh.sidecar.isDraining },
    // Present only when enabled: a sidecar without identities has nothing to say about them.
    ...(input.identity === undefined ? {} : { identity: input.identity }),
    ...(input.inbound === undefined ? {} : { inbound: input.inbound }),
  };
}

/** GET /debug/endpoints: every known service's UP endpoints. */
export function listEndpoints(mesh: Mesh | undefined) {
  if (mesh === undefined) return { services: {} };
  const services: Record<string, unknown> = {};
  for (const name of mesh.discovery.services()) {
    const set = mesh.discovery.endpoints(name);
    services[name] = {
      stale: set.stale,
      staleForMs: set.staleForMs,
      endpoints: set.instances.map((i) => ({ id: i.id, address: i.endpoint.value, tags: i.tags })),
    };
  }
  return { services };
}
