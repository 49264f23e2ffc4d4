import { MemoryRegistry, type Registry } from '@weft/core';
import type { FastifyInstance, preHandlerHookHandler } from 'fastify';
import { createAuthenticator } from './auth/authenticator.js';
import { openRulesStore } from './controller/open-store.js';
import { controllerRoutes } from './controller/routes.js';
import type { ControllerSettings } from './controller/server-options.js';
import { type DashboardOptions, serveDashboard } from './dashboard/serve.js';
import type { EtcdStoreConfig } from './etcd/config.js';
import type { ApiServerOptions } from './http/app-options.js';
import { createApp } from './http/create-app.js';
import { serveMetrics } from './http/metrics-route.js';
import { mountIdentity } from './identity/mount.js';
import type { OpenedAuthority } from './identity/open-authority.js';
import type { IdentitySettings } from './identity/settings.js';
import { eurekaMount, mountEureka } from './registry/eureka/mount.js';
import { installMirrors, mirrorRegistry } from './registry/mirrors/install.js';
import { openOwnedRegistry } from './registry/open-registry.js';
import { logSnapshotErrors } from './registry/owned-registry.js';
import { authenticateRegistryServer } from './registry/request-auth.js';
import { registryRoutes } from './registry/routes.js';
import type { RegistrySettings } from './registry/server-options.js';
import type { RulesStore } from './rules-store/types.js';
import { telemetryRoutes } from './telemetry/routes.js';
import { RulesHistory, rulesHistoryRoutes } from './telemetry/rules-history.js';
import { resolveTelemetry, type TelemetrySettings } from './telemetry/settings.js';
import { TelemetryHub } from './telemetry/telemetry-hub.js';

/** The registry's part of {@link ControlPlaneServerOptions}: the plain settings of `createRegistryServer`. */
export type ControlPlaneRegistryOptions = RegistrySettings;

/** The controller's part of {@link ControlPlaneServerOptions}: the plain settings of `createControllerServer`. */
export type ControlPlaneControllerOptions = ControllerSettings;

/**
 * Options of {@link createControlPlaneServer}: plain data a CLI builds from flags, environment
 * and YAML (`weft control-plane` does), but for `registryInstance`, `rulesStore`,
 * `authenticator` and `loggerInstance`, which inject live objects when embedding. Every field is
 * optional: `{}` is the embedded default — memory stores, no credentials, one namespace.
 */
export interface ControlPlaneServerOptions extends ApiServerOptions {
  readonly registry?: ControlPlaneRegistryOptions | undefined;
  readonly controller?: ControlPlaneControllerOptions | undefined;

  /**
   * One store for both servers: `{type: 'etcd', endpoints: ['http://etcd-0:2379', …]}` runs this
   * process as one of N stateless replicas sharing the cluster (`weft control-plane --store
   * etcd://…`). `registry.store` and `controller.store` win over it when given.
   */
  readonly store?: EtcdStoreConfig | undefined;

  /**
   * Workload identities: the CA that signs workload certificates (`POST /v1/identity/certificates`)
   * and the trust bundle (`GET /v1/identity/bundle`, watchable). On by default, with a root
   * generated on first use; see `IdentitySettings`.
   */
  readonly identity?: IdentitySettings | undefined;

  /**
   * The telemetry routes' limits and switch (see `TelemetrySettings`). `GET /v1/topology` here
   * also shows the registry's idle services and versions.
   */
  readonly telemetry?: TelemetrySettings | undefined;

  /**
   * The dashboard at `/ui/` (and `/` redirects there): the package's built files by default,
   * `{directory}` for others, `false` for none. Its pages load without credentials; the API calls
   * they make carry the token the page asks for.
   */
  readonly dashboard?: DashboardOptions | false | undefined;

  /** A registry to serve instead of creating one from `registry` (etcd, Consul, a shared one). Never closed by the server. */
  readonly registryInstance?: Registry | undefined;
  /** A rules store to serve instead of creating one from `controller.store`. Never closed by the server. */
  readonly rulesStore?: RulesStore | undefined;
}

/** The control plane: a fastify instance with both stores at hand. */
export type ControlPlaneServer = FastifyInstance & {
  readonly registry: Registry;
  readonly rulesStore: RulesStore;
  /** The CA of the identity API (`/v1/identity/*`); absent when `identity.enabled` is false. */
  readonly certificateAuthority?: OpenedAuthority;
};

/**
 * A `/health` that also answers for the registry: the controller's plugin owns the route (it
 * checks the rules store), and two plugins cannot both declare it, so the registry's check runs
 * as that route's pre-handler.
 */
function registryHealth(registry: Registry): preHandlerHookHandler {
  return async (_request, reply) => {
    try {
      await registry.services();
    } catch (err) {
      await reply
        .code(503)
        .send({ status: 'unavailable', error: `registry: ${err instanceof Error ? err.message : String(err)}` });
    }
  };
}

/**
 * Builds Weft's control plane: the registry (Amalgam8's `/api/v1`) and the rules controller
 * (`/v1/rules`) on ONE fastify app — one port, one authentication chain, one logger — with
 * `GET /health` covering both stores. It is what `weft control-plane` runs; `{}` gives the
 * embedded default (memory stores, no credentials). The app is ready to extend and `listen()`.
 *
 * `close()` is graceful: watches end (event streams close, long-polls answer), requests in
 * flight finish, then the stores the server created close (a file store gets its last write).
 *
 * @throws InvalidArgumentError for a bad option or a store that cannot open (naming it).
 */
export async function createControlPlaneServer(options: ControlPlaneServerOptions = {}): Promise<ControlPlaneServer> {
  // The shared store (`store`) fills in whichever server's store is not configured.
  const reg = { ...options.registry, store: options.registry?.store ?? options.store };
  const controllerStore = options.controller?.store ?? options.store;
  const authenticator = options.authenticator ?? createAuthenticator(options.auth);
  const telemetrySettings = resolveTelemetry(options.telemetry);
  const ownsRegistry = options.registryInstance === undefined;
  const ownsRules = options.rulesStore === undefined;
  const native = options.registryInstance ?? (await openOwnedRegistry(reg, 'control plane options', 'registry.'));
  let registry: Registry = native;
  let rulesStore: RulesStore | undefined;
  const app = createApp(options);
  try {
    rulesStore =
      options.rulesStore ??
      (await openRulesStore(controllerStore, (state) =>
        state.status === 'unavailable'
          ? app.log.error({ store: 'rules', error: state.error }, 'the rules store lost etcd; serving the last state')
          : app.log.info({ store: 'rules', status: state.status }, 'the rules store reaches etcd'),
      ));
    if (ownsRegistry && native instanceof MemoryRegistry) logSnapshotErrors(native, app.log);
    // Other catalogues (Consul, a file…) shown read-only next to the native instances.
    registry = await mirrorRegistry(native, reg.mirrors, app, 'registry.mirrors');
    app.decorate('registry', registry);
    app.decorate('rulesStore', rulesStore);
    // Streamed access-log records and recipe runs: in memory, whatever the stores (telemetry is not state).
    const telemetry = new TelemetryHub(telemetrySettings);
    serveMetrics(app, { registry, rulesStore }, () => telemetry.families());
    // One chain for both APIs; health checks, metrics and the Eureka routes go without a bearer
    // token (see the helper).
    const eureka = eurekaMount(reg.eureka, reg.prefix ?? '');
    authenticateRegistryServer(app, authenticator, eureka);
    await installMirrors(app, registry, reg.prefix ?? '');
    const check = registryHealth(registry);
    app.addHook('onRoute', (route) => {
      if (route.url !== '/health') return;
      const own = route.preHandler;
      route.preHandler = own === undefined ? [check] : [check, ...(Array.isArray(own) ? own : [own])];
    });
    await app.register(registryRoutes, {
      registry,
      prefix: reg.prefix ?? '',
      ...(reg.requireHttps === undefined ? {} : { requireHttps: reg.requireHttps }),
      ...(options.watch === undefined ? {} : { watch: options.watch }),
      ...(reg.watchLingerMs === undefined ? {} : { watchLingerMs: reg.watchLingerMs }),
    });
    await mountEureka(app, eureka, { registry, authenticator, requireHttps: reg.requireHttps });
    // The rules' recent revisions (GET /v1/rules/history): each write through this server is recorded.
    const history = new RulesHistory(rulesStore, telemetrySettings.rulesHistory, telemetrySettings.maxNamespaces);
    await app.register(controllerRoutes, {
      store: history.recording(),
      watch: options.watch,
      // Write warnings name backends and destinations no registered instance matches.
      instances: (namespace) => registry.instances({ namespace, status: 'ALL' }),
    });
    await mountIdentity(app, options.identity, options.watch);
    // The topology adds the registry's idle services and versions.
    await app.register(telemetryRoutes, {
      hub: telemetry,
      watch: options.watch,
      settings: telemetrySettings,
      registry,
    });
    await app.register(rulesHistoryRoutes, { history, watch: options.watch });
    if (options.dashboard !== false) serveDashboard(app, options.dashboard);
    const store = rulesStore;
    if (ownsRules) app.addHook('onClose', () => store.close());
    if (ownsRegistry) app.addHook('onClose', () => native.close());
  } catch (err) {
    await app.close().catch(() => undefined);
    if (ownsRules) await rulesStore?.close();
    if (registry !== native) await registry.close();
    if (ownsRegistry) await native.close();
    throw err;
  }
  return app as ControlPlaneServer;
}
