import type { AuthMode } from '../auth/authenticator.js';
import type { ControllerConfig, ControlPlaneConfig, RegistryConfig } from '../config/schemas.js';
import { telemetryPart } from '../config/telemetry-settings.js';
import type { ControlPlaneRegistryOptions, ControlPlaneServerOptions } from '../control-plane.js';
import type { ControllerServerOptions } from '../controller/index.js';
import type { EtcdStoreConfig } from '../etcd/config.js';
import type { IdentitySettings } from '../identity/settings.js';
import type { RegistryServerOptions } from '../registry/index.js';

/** A store section as the config gives it. */
type StoreSettings = ControllerConfig['controller']['store'];

/** A store section as a factory takes it (the config check guarantees a file store's path). */
function storePath(store: { path?: string | undefined }): string {
  if (store.path === undefined) throw new TypeError('a file store needs its path (the config check missed it)');
  return store.path;
}

/** An etcd store section as the factories take it (the config check guarantees its endpoints). */
function etcdStore(store: StoreSettings): EtcdStoreConfig {
  if (store.endpoints === undefined) throw new TypeError('an etcd store needs endpoints (the config check missed it)');
  return {
    type: 'etcd',
    endpoints: store.endpoints,
    prefix: store.prefix,
    tls: store.tls,
    username: store.username,
    password: store.password,
    passwordFile: store.passwordFile,
    requestTimeoutMs: store.timeout,
  };
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
      store.type === 'etcd'
        ? etcdStore(store)
        : store.type === 'file'
          ? { type: 'file', path: storePath(store), debounceMs: store.debounce }
          : { type: 'memory' },
    ttl: { defaultSeconds: ttl.default / 1000, minSeconds: ttl.min / 1000, maxSeconds: ttl.max / 1000 },
    capacity: registry.capacity,
    requireHttps: registry.requireHttps,
    prefix: registry.prefix,
    watchLingerMs: registry.watchLinger,
    eureka: { enabled: registry.eureka.enabled, prefix: registry.eureka.prefix },
    mirrors: registry.mirrors,
  };
}

/** The controller's store from its settings. */
function controllerStore(store: StoreSettings): ControllerServerOptions['store'] {
  if (store.type === 'etcd') return etcdStore(store);
  if (store.type === 'kubernetes') return { type: 'kubernetes', kubeconfig: store.kubeconfig, context: store.context };
  return store.type === 'file' ? { type: 'file', path: storePath(store) } : { type: 'memory' };
}

/** The identity options from their settings (durations in ms). */
function identityPart(identity: ControllerConfig['identity']): IdentitySettings {
  return {
    enabled: identity.enabled,
    trustDomain: identity.trustDomain,
    certTtlMs: identity.certTtl,
    requireServiceBinding: identity.requireServiceBinding,
    ca: {
      certFile: identity.ca.certFile,
      keyFile: identity.ca.keyFile,
      file: identity.ca.file,
      ttlMs: identity.ca.ttl,
    },
  };
}

/** `createRegistryServer`'s options from `weft registry`'s config. */
export function registryOptions(config: RegistryConfig, auth: readonly AuthMode[]): RegistryServerOptions {
  return { ...commonOptions(config, auth), logRequests: config.logRequests, ...registryPart(config.registry) };
}

/** `createControllerServer`'s options from `weft controller`'s config. */
export function controllerOptions(config: ControllerConfig, auth: readonly AuthMode[]): ControllerServerOptions {
  return {
    ...commonOptions(config, auth),
    store: controllerStore(config.controller.store),
    identity: identityPart(config.identity),
    telemetry: telemetryPart(config.telemetry),
  };
}

/** `createControlPlaneServer`'s options from `weft control-plane`'s config. */
export function controlPlaneOptions(config: ControlPlaneConfig, auth: readonly AuthMode[]): ControlPlaneServerOptions {
  return {
    ...commonOptions(config, auth),
    logRequests: config.logRequests,
    registry: registryPart(config.registry),
    controller: { store: controllerStore(config.controller.store) },
    identity: identityPart(config.identity),
    telemetry: telemetryPart(config.telemetry),
  };
}
