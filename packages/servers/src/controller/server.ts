import type { FastifyInstance } from 'fastify';
import { createAuthenticator } from '../auth/authenticator.js';
import { authenticate } from '../auth/fastify.js';
import { createApp } from '../http/create-app.js';
import { METRICS_PATH, serveMetrics } from '../http/metrics-route.js';
import { mountIdentity } from '../identity/mount.js';
import type { OpenedAuthority } from '../identity/open-authority.js';
import type { RulesStore } from '../rules-store/types.js';
import { telemetryRoutes } from '../telemetry/routes.js';
import { RulesHistory, rulesHistoryRoutes } from '../telemetry/rules-history.js';
import { resolveTelemetry } from '../telemetry/settings.js';
import { TelemetryHub } from '../telemetry/telemetry-hub.js';
import { openRulesStore } from './open-store.js';
import { controllerRoutes } from './routes.js';
import type { ControllerServerOptions } from './server-options.js';

/** The controller server: a fastify instance with its store at hand. */
export type ControllerServer = FastifyInstance & {
  /** The store the server serves (the one it created, or the one it was given). */
  readonly rulesStore: RulesStore;
  /** The CA of the identity API (`/v1/identity/*`); absent when `identity.enabled` is false. */
  readonly certificateAuthority?: OpenedAuthority;
};

/**
 * Builds Weft's reference rules controller: Amalgam8's `/v1/rules` API with push, `explain` and
 * `/health`, behind the authentication chain, as a fastify instance ready to extend (add routes,
 * hooks, plugins) and to `listen()`.
 *
 * `close()` is graceful: watches end (event streams close, long-polls answer), requests in
 * flight finish, then the store closes — only if the server created it.
 *
 * @throws InvalidArgumentError for bad options or a damaged store file (naming it).
 */
export async function createControllerServer(options: ControllerServerOptions = {}): Promise<ControllerServer> {
  const authenticator = options.authenticator ?? createAuthenticator(options.auth);
  const telemetrySettings = resolveTelemetry(options.telemetry);
  const owned = options.rulesStore === undefined;
  const store = options.rulesStore ?? (await openRulesStore(options.store));
  const app = createApp(options);
  try {
    app.decorate('rulesStore', store);
    // Streamed access-log records and recipe runs: in memory, whatever the store (telemetry is not state).
    const telemetry = new TelemetryHub(telemetrySettings);
    serveMetrics(app, { rulesStore: store }, () => telemetry.families());
    // Amalgam8 served /health without credentials (load balancers and orchestrators probe it);
    // the Prometheus metrics go without them too (scrapers carry none).
    authenticate(
      app,
      authenticator,
      (request) => request.routeOptions.url === '/health' || request.routeOptions.url === METRICS_PATH,
    );
    // The rules' recent revisions (GET /v1/rules/history): each write through this server is recorded.
    const history = new RulesHistory(store, telemetrySettings.rulesHistory, telemetrySettings.maxNamespaces);
    await app.register(controllerRoutes, {
      store: history.recording(),
      watch: options.watch,
      instances: options.instances,
    });
    await mountIdentity(app, options.identity, options.watch);
    await app.register(telemetryRoutes, { hub: telemetry, watch: options.watch, settings: telemetrySettings });
    await app.register(rulesHistoryRoutes, { history, watch: options.watch });
    if (owned) app.addHook('onClose', () => store.close());
  } catch (err) {
    await app.close().catch(() => undefined);
    if (owned) await store.close();
    throw err;
  }
  return app as ControllerServer;
}
