import type { AuthMode } from '../auth/authenticator.js';
import type { ControllerConfig, ControlPlaneConfig, RegistryConfig } from '../config/schemas.js';
import type { ControlPlaneRegistryOptions, ControlPlaneServerOptions } from '../control-plane.js';
import type { ControllerServerOptions } from '../controller/index.js';
import type { RegistryServerOptions } from '../registry/index.js';

/** A store section as a factory takes it (the config check guarantees a file store's path). */
function storePath(store: { type: 'memory' | 'file'; path?: string | undefined }): string {
  if (store.path === undefined) throw new TypeError('a file store needs its path (the config check missed it)');
  return store.path;
}

/** The options every factory shares: auth, logger, watch limits, body limit. */
function commonOptions(
  config: Pick<ControlPlaneConfig, 'logLevel' | 'watch' | 'bodyLimit'>,
  auth: readonly AuthMode[],
) {
  return {
    auth,
    logger: { level: config.logLevel },
    watch: {
      maxWaitMs: config.watch.maxWait,
      defaultWaitMs: config.watch.defaultWait,
      heartbeatMs: config.watch.heartbeat,
    },
    bodyLimit: config.bodyLimit,
  };
}

/** The registry's plain options from its settings (durations in ms, TTLs in seconds as the registry takes them). */
function registryPart(registry: RegistryConfig['registry']): ControlPlaneRegistryOptions {
  const { store, ttl } = registry;
  return {
    store:
      store.type === 'memory'
        ? { type: 'memory' }
        : { type: 'file', path: storePath(store), debounceMs: store.debounce },
    ttl: { defaultSeconds: ttl.default / 1000, minSeconds: ttl.min / 1000, maxSeconds: ttl.max / 1000 },
    capacity: registry.capacity,
    requireHttps: registry.requireHttps,
    prefix: registry.prefix,
    watchLingerMs: registry.watchLinger,
  };
}

/** The controller's store from its settings. */
function controllerStore(store: ControllerConfig['controller']['store']): ControllerServerOptions['store'] {
  return store.type === 'memory' ? { type: 'memory' } : { type: 'file', path: storePath(store) };
}

/** `createRegistryServer`'s options from `weft registry`'s config. */
export function registryOptions(config: RegistryConfig, auth: readonly AuthMode[]): RegistryServerOptions {
  return { ...commonOptions(config, auth), logRequests: config.logRequests, ...registryPart(config.registry) };
}

/** `createControllerServer`'s options from `weft controller`'s config. */
export function controllerOptions(config: ControllerConfig, auth: readonly AuthMode[]): ControllerServerOptions {
  return { ...commonOptions(config, auth), store: controllerStore(config.controller.store) };
}

/** `createControlPlaneServer`'s options from `weft control-plane`'s config. */
export function controlPlaneOptions(config: ControlPlaneConfig, auth: readonly AuthMode[]): ControlPlaneServerOptions {
  return {
    ...commonOptions(config, auth),
    logRequests: config.logRequests,
    registry: registryPart(config.registry),
    controller: { store: controllerStore(config.controller.store) },
  };
}
