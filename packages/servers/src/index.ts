/**
 * `@weft/servers` — Weft's reference control plane, composed from the library: an
 * Amalgam8-compatible registry server and rules controller that push changes to proxies, and the
 * `weft` command that runs them.
 *
 * @packageDocumentation
 */
export {
  type HealthCheck,
  type HealthCheckSpec,
  type HealthCheckStatus,
  type HealthCheckTiming,
  HealthMonitor,
  type HealthMonitorEvents,
  type HealthReport,
} from './agent/health/index.js';
export {
  ACCESS_LOG_PATH,
  type AccessLogEndpointOptions,
  type AccessLogHandler,
  accessLogHandler,
  serveAccessLog,
} from './agent/serve-access-log.js';
export { type AppCommand, Supervisor, type SupervisorEvents, type SupervisorOptions } from './agent/supervisor.js';
export { pid1Advice } from './agent/supervisor-pid1.js';
export {
  AuthError,
  type Authenticator,
  type AuthMode,
  type Credentials,
  createAuthenticator,
  type Principal,
  principalOf,
} from './auth/authenticator.js';
export { BindingForbiddenError } from './auth/binding.js';
export { authenticate } from './auth/fastify.js';
export {
  type ControlPlaneControllerOptions,
  type ControlPlaneRegistryOptions,
  type ControlPlaneServer,
  type ControlPlaneServerOptions,
  createControlPlaneServer,
} from './control-plane.js';
export {
  type ControllerRoutesOptions,
  type ControllerServer,
  type ControllerServerOptions,
  type ControllerStoreConfig,
  controllerRoutes,
  createControllerServer,
  type ErrorBody,
  type ExplainInput,
  type ExplainOutput,
  type InstancesOf,
  openRulesStore,
  type RulesView,
  type RuleWarning,
  type ServicesView,
} from './controller/index.js';
export { DASHBOARD_PATH, type DashboardOptions, serveDashboard } from './dashboard/index.js';
export type { EtcdStoreConfig } from './etcd/config.js';
export { METRICS_PATH, serveMetrics } from './http/metrics-route.js';
export * from './identity/index.js';
export * from './recipes/index.js';
export {
  createRegistryServer,
  DEFAULT_EUREKA_PREFIX,
  type EurekaRoutesOptions,
  type EurekaSettings,
  ExternalFileSource,
  type ExternalFileSourceOptions,
  eurekaRoutes,
  MirroredInstanceError,
  MirroredRegistry,
  type MirroredRegistryOptions,
  MirrorMetadata,
  type MirrorSpec,
  type MirrorStatus,
  type RegistryMirrorOptions,
  type RegistryRoutesOptions,
  type RegistryServer,
  type RegistryServerOptions,
  type RegistryStoreConfig,
  type RegistryTtlConfig,
  registryRoutes,
} from './registry/index.js';
export {
  type DurableFileHandle,
  type DurableFs,
  EtcdRulesStore,
  type EtcdRulesStoreOptions,
  type EtcdStoreState,
  FileRulesStore,
  type FileRulesStoreOptions,
  KubernetesRulesStore,
  type KubernetesRulesStoreOptions,
  type KubernetesStoreConfig,
  KubernetesStoreUnavailableError,
  MemoryRulesStore,
  type MemoryRulesStoreOptions,
  type NamespaceRules,
  ReadOnlyStoreError,
  RevisionMismatchError,
  RuleConflictError,
  type RuleFilter,
  type RuleKind,
  type RulesStore,
  RulesStoreError,
  type RulesStoreOptions,
  ruleKind,
  ruleMatcher,
  type StoredRule,
  StoredRulesInvalidError,
  StoreUnavailableError,
  StoreWriteError,
  UnknownRuleError,
  type WriteOptions,
  type WriteResult,
  writeFileDurably,
} from './rules-store/index.js';
export * from './telemetry/index.js';
export {
  PROXY_HEADER,
  ProxyLog,
  type ProxyLogOptions,
  type ProxyTransport,
  type ProxyView,
} from './watch/proxy-log.js';
export { INDEX_HEADER, parseWait, serveRead, type WatchLimits } from './watch/serve-read.js';
export type { Versioned, Watchable } from './watch/types.js';
