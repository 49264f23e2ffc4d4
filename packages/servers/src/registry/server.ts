import { MemoryRegistry, type Registry } from '@weft/core';
import type { FastifyInstance } from 'fastify';
import { createAuthenticator } from '../auth/authenticator.js';
import { createApp } from '../http/create-app.js';
import { serveMetrics } from '../http/metrics-route.js';
import { eurekaMount, mountEureka } from './eureka/mount.js';
import { installMirrors, mirrorRegistry } from './mirrors/install.js';
import { openOwnedRegistry } from './open-registry.js';
import { logSnapshotErrors } from './owned-registry.js';
import { authenticateRegistryServer } from './request-auth.js';
import { registryRoutes } from './routes.js';
import { checkServerOptions, type RegistryServerOptions } from './server-options.js';

/** The registry server: a fastify instance with its registry at hand. */
export type RegistryServer = FastifyInstance & {
  /** The registry the server serves (the one it created, or the one it was given). */
  readonly registry: Registry;
};

/**
 * Builds Weft's reference registry server: Amalgam8's registry API (`/api/v1`, see
 * `registryRoutes`) with watches, behind the authentication chain, and `GET /health`, as a
 * fastify instance ready to extend — add routes, hooks (app-level hooks run before the API's, so
 * a platform's own auth can go in front) or plugins — and to `listen()`.
 *
 * `close()` is graceful: event streams end and long-polls answer, requests in flight finish, then
 * the registry closes — only if the server created it (its snapshot file gets a last write).
 *
 * @throws InvalidArgumentError naming every bad option, or what the store refuses (a TTL policy
 *   out of bounds, a damaged snapshot file, naming it).
 */
export async function createRegistryServer(options: RegistryServerOptions = {}): Promise<RegistryServer> {
  checkServerOptions(options);
  const authenticator = options.authenticator ?? createAuthenticator(options.auth);
  const owned = options.registry === undefined;
  const native = options.registry ?? (await openOwnedRegistry(options, 'registry server options'));
  let registry: Registry = native;
  const app = createApp(options);
  try {
    if (owned && native instanceof MemoryRegistry) logSnapshotErrors(native, app.log);
    // Other catalogues (Consul, a file…) shown read-only next to the native instances.
    registry = await mirrorRegistry(native, options.mirrors, app);
    app.decorate('registry', registry);
    serveMetrics(app, { registry });
    // Health checks, metrics and the Eureka routes go without a bearer token (see the helper).
    const eureka = eurekaMount(options.eureka, options.prefix ?? '');
    authenticateRegistryServer(app, authenticator, eureka);
    await installMirrors(app, registry, options.prefix ?? '');
    await app.register(registryRoutes, {
      registry,
      prefix: options.prefix ?? '',
      ...(options.requireHttps === undefined ? {} : { requireHttps: options.requireHttps }),
      ...(options.watch === undefined ? {} : { watch: options.watch }),
      ...(options.watchLingerMs === undefined ? {} : { watchLingerMs: options.watchLingerMs }),
    });
    await mountEureka(app, eureka, { registry, authenticator, requireHttps: options.requireHttps });
    // Liveness and readiness in one: the process answers and the store reads.
    app.get('/health', async (_request, reply) => {
      try {
        await registry.services();
        return { status: 'ok' };
      } catch (err) {
        return reply.code(503).send({ status: 'unavailable', error: err instanceof Error ? err.message : String(err) });
      }
    });
    if (owned) app.addHook('onClose', () => native.close());
  } catch (err) {
    await app.close().catch(() => undefined);
    if (registry !== native) await registry.close();
    if (owned) await native.close();
    throw err;
  }
  // decorate() above reports a clash with another plugin's `registry`; the assign types it.
  return Object.assign(app, { registry });
}
