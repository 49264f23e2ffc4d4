import { MemoryRegistry, type MemoryRegistryOptions, type Registry } from '@weft/core';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  LogController,
  type preHandlerHookHandler,
} from 'fastify';
import type { LoggerOptions } from 'pino';
import { type Authenticator, type AuthMode, createAuthenticator } from './auth/authenticator.js';
import { authenticate } from './auth/fastify.js';
import { openRulesStore } from './controller/open-store.js';
import { controllerRoutes } from './controller/routes.js';
import type { ControllerStoreConfig } from './controller/server-options.js';
import { registryRoutes } from './registry/routes.js';
import type { RegistryStoreConfig, RegistryTtlConfig } from './registry/server-options.js';
import type { RulesStore } from './rules-store/types.js';
import type { WatchLimits } from './watch/serve-read.js';

/** The registry's part of {@link ControlPlaneServerOptions}: the plain settings of `createRegistryServer`. */
export interface ControlPlaneRegistryOptions {
  /** Where instances are kept (default memory), when no `registryInstance` is given. Closed with the server. */
  readonly store?: RegistryStoreConfig | undefined;
  /** TTL policy of the registry the server creates. */
  readonly ttl?: RegistryTtlConfig | undefined;
  /** Most instances one namespace may hold (403 beyond), in the registry the server creates. Unlimited by default. */
  readonly capacity?: number | undefined;
  /** Redirect plain-HTTP registry requests to HTTPS (301), as Amalgam8's `--require_https`. Default false. */
  readonly requireHttps?: boolean | undefined;
  /** Where the `/api/v1` routes are mounted, e.g. `/registry`. Default: the root, as Amalgam8. */
  readonly prefix?: string | undefined;
  /** How long a registry watch outlives its last reader, ms. Default 30 000. */
  readonly watchLingerMs?: number | undefined;
}

/** The controller's part of {@link ControlPlaneServerOptions}. */
export interface ControlPlaneControllerOptions {
  /** Where rules are kept (default memory), when no `rulesStore` is given. Closed with the server. */
  readonly store?: ControllerStoreConfig | undefined;
}

/**
 * Options of {@link createControlPlaneServer}: plain data a CLI builds from flags, environment
 * and YAML (`weft control-plane` does), plus the last four fields, which inject live objects
 * when embedding. Every field is optional: `{}` is the embedded default — memory stores, no
 * credentials, one namespace.
 */
export interface ControlPlaneServerOptions {
  readonly registry?: ControlPlaneRegistryOptions | undefined;
  readonly controller?: ControlPlaneControllerOptions | undefined;
  /**
   * Authentication modes, chained, for both APIs: the first that recognises a request's
   * credentials decides its namespace; none → 401. Default `[{type: 'none'}]`.
   */
  readonly auth?: readonly AuthMode[] | undefined;
  /** Logging through pino: `false` (default) logs nothing, `true` logs at info, or pino options (`{level: 'debug'}`). */
  readonly logger?: boolean | LoggerOptions | undefined;
  /** Log every request and response. Default false: heartbeats would flood the log. */
  readonly logRequests?: boolean | undefined;
  /** Watch limits of both APIs: longest and default long-poll wait, SSE keep-alive interval (ms). */
  readonly watch?: WatchLimits | undefined;
  /** Largest request body accepted, bytes (413 beyond). Default 1 MiB. */
  readonly bodyLimit?: number | undefined;

  /** A registry to serve instead of creating one from `registry` (etcd, Consul, a shared one). Never closed by the server. */
  readonly registryInstance?: Registry | undefined;
  /** A rules store to serve instead of creating one from `controller.store`. Never closed by the server. */
  readonly rulesStore?: RulesStore | undefined;
  /** An authenticator to use instead of building one from `auth`. */
  readonly authenticator?: Authenticator | undefined;
  /** A logger (pino or compatible) to log through, instead of creating one from `logger`. */
  readonly loggerInstance?: FastifyBaseLogger | undefined;
}

/** The control plane: a fastify instance with both stores at hand. */
export type ControlPlaneServer = FastifyInstance & {
  readonly registry: Registry;
  readonly rulesStore: RulesStore;
};

/** The embedded registry's options from the plain settings (as `createRegistryServer` builds them). */
function memoryRegistryOptions(options: ControlPlaneRegistryOptions): MemoryRegistryOptions {
  const { store, ttl, capacity } = options;
  const out: MemoryRegistryOptions = {};
  if (ttl !== undefined)
    out.ttl = {
      ...(ttl.defaultSeconds === undefined ? {} : { defaultSeconds: ttl.defaultSeconds }),
      ...(ttl.minSeconds === undefined ? {} : { minSeconds: ttl.minSeconds }),
      ...(ttl.maxSeconds === undefined ? {} : { maxSeconds: ttl.maxSeconds }),
    };
  if (capacity !== undefined) out.capacity = capacity;
  if (store?.type === 'file') {
    out.snapshotFile = store.path;
    if (store.debounceMs !== undefined) out.snapshotDebounceMs = store.debounceMs;
  }
  return out;
}

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
  const reg = options.registry ?? {};
  const authenticator = options.authenticator ?? createAuthenticator(options.auth);
  const ownsRegistry = options.registryInstance === undefined;
  const ownsRules = options.rulesStore === undefined;
  const registry = options.registryInstance ?? new MemoryRegistry(memoryRegistryOptions(reg));
  let rulesStore: RulesStore | undefined;
  const app: FastifyInstance = Fastify({
    ...(options.bodyLimit === undefined ? {} : { bodyLimit: options.bodyLimit }),
    ...(options.loggerInstance !== undefined
      ? { loggerInstance: options.loggerInstance }
      : { logger: options.logger ?? false }),
    logController: new LogController({ disableRequestLogging: options.logRequests !== true }),
    // Idle keep-alive connections are cut at close(), so it does not wait for clients to hang up.
    forceCloseConnections: 'idle',
  });
  try {
    rulesStore = options.rulesStore ?? (await openRulesStore(options.controller?.store));
    if (ownsRegistry && registry instanceof MemoryRegistry)
      // A failed background write is retried with the next change; meanwhile it must not go unseen.
      registry.on('snapshotError', (err) => app.log.error({ err }, 'writing the registry snapshot file failed'));
    app.decorate('registry', registry);
    app.decorate('rulesStore', rulesStore);
    // One chain for both APIs; health checks go without credentials, as in Amalgam8.
    authenticate(app, authenticator, (request) => request.routeOptions.url === '/health');
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
    await app.register(controllerRoutes, {
      store: rulesStore,
      watch: options.watch,
      // Write warnings name backends and destinations no registered instance matches.
      instances: (namespace) => registry.instances({ namespace, status: 'ALL' }),
    });
    const store = rulesStore;
    if (ownsRules) app.addHook('onClose', () => store.close());
    if (ownsRegistry) app.addHook('onClose', () => registry.close());
  } catch (err) {
    await app.close().catch(() => undefined);
    if (ownsRules) await rulesStore?.close();
    if (ownsRegistry) await registry.close();
    throw err;
  }
  return app as ControlPlaneServer;
}
