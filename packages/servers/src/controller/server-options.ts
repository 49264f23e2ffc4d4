import type { EtcdStoreConfig } from '../etcd/config.js';
import type { ApiServerOptions } from '../http/app-options.js';
import type { IdentitySettings } from '../identity/settings.js';
import type { KubernetesStoreConfig } from '../rules-store/kubernetes-store.js';
import type { RulesStore } from '../rules-store/types.js';
import type { TelemetrySettings } from '../telemetry/settings.js';
import type { InstancesOf } from './warnings.js';

/** Where a controller keeps its rules, as configuration (a CLI flag, an env variable, YAML). */
export type ControllerStoreConfig =
  /** In memory: lost when the process ends; revisions restart at 0. */
  | { readonly type: 'memory' }
  /**
   * One JSON snapshot file, written durably before each write is acknowledged, loaded on start;
   * a damaged file stops the start with an error naming it. The file is locked (`<path>.lock`).
   */
  | { readonly type: 'file'; readonly path: string }
  /**
   * On etcd, shared by every replica pointed at the same cluster and prefix (`EtcdRulesStore`):
   * one transaction per write, watches fed by etcd's. When etcd is out of reach, reads answer the
   * last state seen and writes fail with 503 (`WEFT_ERR_STORE_UNAVAILABLE`).
   */
  | EtcdStoreConfig
  /**
   * Read-only, from Kubernetes `Rule` custom objects (`KubernetesRulesStore`): controller
   * namespace `x` is Kubernetes namespace `x`; writes through the API answer 405.
   */
  | KubernetesStoreConfig;

/** The controller's plain settings: where it keeps rules. The control plane takes them as its `controller` part. */
export interface ControllerSettings {
  /**
   * Where rules are kept, when no `rulesStore` is given. Default `{type: 'memory'}`. The server
   * creates this store and closes it when it closes.
   */
  readonly store?: ControllerStoreConfig | undefined;
}

/**
 * Options of `createControllerServer`. Everything but `rulesStore`, `authenticator`,
 * `loggerInstance` and `instances` is plain data, so a CLI can build it from flags, environment
 * and YAML; those four inject objects when embedding.
 */
export interface ControllerServerOptions extends ControllerSettings, ApiServerOptions {
  /** A store to use instead of creating one from `store` (embedding, a shared store). The server never closes it. */
  readonly rulesStore?: RulesStore | undefined;
  /**
   * The known instances of a namespace (from a registry in the same process), so that write
   * warnings can name backends, actions and destinations that no instance matches.
   */
  readonly instances?: InstancesOf | undefined;
  /**
   * Workload identities: the CA that signs workload certificates (`POST /v1/identity/certificates`)
   * and the trust bundle (`GET /v1/identity/bundle`). On by default, with a root generated on
   * first use; see `IdentitySettings`.
   */
  readonly identity?: IdentitySettings | undefined;
  /**
   * The telemetry routes' limits (records kept per namespace, records per batch, recipe runs
   * kept, topology windows, rules history) and whether access-log records are taken at all;
   * see `TelemetrySettings`. Default: on, with its defaults.
   */
  readonly telemetry?: TelemetrySettings | undefined;
}
