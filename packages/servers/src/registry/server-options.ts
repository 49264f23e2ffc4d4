import { InvalidArgumentError, type Registry, type ValidationIssue } from '@weft/core';
import { type EtcdStoreConfig, etcdConfigIssues } from '../etcd/config.js';
import type { ApiServerOptions } from '../http/app-options.js';
import type { EurekaSettings } from './eureka/mount.js';
import { checkMirrors } from './mirrors/check.js';
import type { RegistryMirrorOptions } from './mirrors/open-mirrors.js';

/** Where the registry server keeps instances, as configuration (a CLI flag, an env variable, YAML). */
export type RegistryStoreConfig =
  /** In memory: lost when the process ends. */
  | { readonly type: 'memory' }
  /**
   * In memory, restored from `path` at start-up and written to it (atomically) before any
   * registration, deregistration or status change is acknowledged — so what the server
   * acknowledged survives a crash. Heartbeats are not written: restored instances get a full TTL
   * from the restart, and those whose clients are gone expire then.
   */
  | {
      readonly type: 'file';
      readonly path: string;
      /** How long other changes (expiries) accumulate before the file is rewritten, ms. Default 1000. */
      readonly debounceMs?: number | undefined;
    }
  /**
   * On etcd, shared by every replica pointed at the same cluster and prefix: each instance is a
   * key on an etcd lease of its TTL, and a heartbeat through any replica renews it (Amalgam8's
   * semantics; `EtcdRegistry` with `keepAlive: false`). The TTL policy applies; `capacity` does
   * not. When etcd is out of reach, reads answer the last snapshot of the server's watches and
   * writes fail with 503 (`WEFT_ERR_STORE_UNAVAILABLE`).
   */
  | EtcdStoreConfig;

/** A TTL policy in seconds; unset fields keep Amalgam8's (default 30, bounds [10, 600]). */
export interface RegistryTtlConfig {
  /** TTL of a registration that asks for none (or 0). */
  readonly defaultSeconds?: number | undefined;
  /** Shorter TTLs asked for are raised to this. */
  readonly minSeconds?: number | undefined;
  /** Longer TTLs asked for are lowered to this. */
  readonly maxSeconds?: number | undefined;
}

/**
 * The registry's plain settings: its store and its API's. `createRegistryServer` takes them with
 * the rest of its options; the control plane takes them as its `registry` part.
 */
export interface RegistrySettings {
  /**
   * Where instances are kept when no registry is given to serve (`registry` here,
   * `registryInstance` in the control plane). Default `{type: 'memory'}`. The server creates this
   * store and closes it when it closes.
   */
  readonly store?: RegistryStoreConfig | undefined;
  /** TTL policy of the store the server creates. */
  readonly ttl?: RegistryTtlConfig | undefined;
  /** Most instances one namespace may hold (403 beyond) in the store the server creates. Unlimited by default. */
  readonly capacity?: number | undefined;
  /**
   * Redirect plain-HTTP requests to HTTPS (301), as Amalgam8's `--require_https`; for servers
   * behind a TLS proxy that sets `X-Forwarded-Proto`. Default false.
   */
  readonly requireHttps?: boolean | undefined;
  /** Where the `/api/v1` routes are mounted, e.g. `/registry`. Default: the root, as Amalgam8. */
  readonly prefix?: string | undefined;
  /**
   * How long a store watch opened for readers outlives its last reader, ms, so repeated reads and
   * reconnecting watchers share it. Default 30 000.
   */
  readonly watchLingerMs?: number | undefined;
  /**
   * Other catalogues — Consul, etcd, Kubernetes, Weave Flux, a file of external services, or any
   * discovery source — shown read-only in the registry's namespaces next to the native
   * instances, each marked with its source (`weft.source` metadata). See the README's "Mirrors".
   */
  readonly mirrors?: readonly RegistryMirrorOptions[] | undefined;
  /**
   * Eureka's REST API beside Amalgam8's, on the same registry and authenticator: on by default
   * at `/eureka` (and `/eureka/v2`); `{enabled: false}` turns it off.
   */
  readonly eureka?: EurekaSettings | undefined;
}

/**
 * Options of `createRegistryServer`. Everything but `registry`, `authenticator` and
 * `loggerInstance` is plain data, so a CLI can build it from flags, environment variables and
 * YAML; those three inject live objects when the server is embedded.
 */
export interface RegistryServerOptions extends RegistrySettings, ApiServerOptions {
  /** A registry to serve instead of creating one from `store` (etcd, Consul, a shared one). The server never closes it. */
  readonly registry?: Registry | undefined;
}

const KNOWN: ReadonlySet<string> = new Set([
  'store',
  'ttl',
  'capacity',
  'auth',
  'requireHttps',
  'prefix',
  'logger',
  'logRequests',
  'watch',
  'watchLingerMs',
  'mirrors',
  'eureka',
  'bodyLimit',
  'registry',
  'authenticator',
  'loggerInstance',
]);

/**
 * Checks the options, naming every bad field. The TTL policy and capacity are checked again, in
 * depth, by the registry the server creates.
 */
export function checkServerOptions(options: RegistryServerOptions): void {
  if (typeof options !== 'object' || options === null) throw new TypeError('registry server options must be an object');
  const issues: ValidationIssue[] = [];
  const bad = (path: string, message: string): void => {
    issues.push({ path, message });
  };
  for (const key of Object.keys(options)) if (!KNOWN.has(key)) bad(key, 'is not an option');
  const { store, prefix } = options;
  if (store !== undefined) {
    if (store.type !== 'memory' && store.type !== 'file' && store.type !== 'etcd')
      bad('store.type', 'must be "memory", "file" or "etcd"');
    if (store.type === 'etcd') {
      issues.push(...etcdConfigIssues(store, 'store'));
      if (options.capacity !== undefined) bad('capacity', 'is not supported by the etcd store');
    }
    if (store.type === 'file' && (typeof store.path !== 'string' || store.path === ''))
      bad('store.path', 'must be a non-empty path for a file store');
  }
  if (options.registry !== undefined)
    for (const key of ['store', 'ttl', 'capacity'] as const)
      if (options[key] !== undefined) bad(key, 'configures the registry the server creates; not with `registry`');
  if (options.capacity !== undefined && !(Number.isInteger(options.capacity) && options.capacity >= 0))
    bad('capacity', 'must be a whole number ≥ 0');
  if (options.auth !== undefined && (!Array.isArray(options.auth) || options.auth.length === 0))
    bad('auth', 'must be a non-empty list of modes');
  if (prefix !== undefined && prefix !== '' && !/^\/[^?#]*[^/?#]$/.test(prefix))
    bad('prefix', 'must start with "/" and not end with one (e.g. "/registry")');
  const eurekaPrefix = options.eureka?.prefix;
  if (eurekaPrefix !== undefined && !/^\/[^?#]*[^/?#]$/.test(eurekaPrefix))
    bad('eureka.prefix', 'must start with "/" and not end with one (e.g. "/eureka")');
  if (options.eureka?.enabled !== undefined && typeof options.eureka.enabled !== 'boolean')
    bad('eureka.enabled', 'must be true or false');
  for (const [path, value] of [
    ['bodyLimit', options.bodyLimit],
    ['watchLingerMs', options.watchLingerMs],
    ['watch.maxWaitMs', options.watch?.maxWaitMs],
    ['watch.defaultWaitMs', options.watch?.defaultWaitMs],
  ] as const)
    if (value !== undefined && !(typeof value === 'number' && Number.isFinite(value) && value >= 0))
      bad(path, 'must be a number ≥ 0');
  const heartbeat = options.watch?.heartbeatMs;
  if (heartbeat !== undefined && !(typeof heartbeat === 'number' && Number.isFinite(heartbeat) && heartbeat > 0))
    bad('watch.heartbeatMs', 'must be a number > 0');
  if (options.mirrors !== undefined) checkMirrors(options.mirrors, bad);
  if (issues.length > 0) throw new InvalidArgumentError('registry server options', issues);
}
