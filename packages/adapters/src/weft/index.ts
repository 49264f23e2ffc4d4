/**
 * `@weft/adapters/weft` — the client side of Weft's own control plane (and of Amalgam8's):
 * {@link WeftRegistrySource}, a discovery source over the registry server;
 * {@link WeftRulesSource}, which keeps a `rulesRouter` on the controller's rules;
 * {@link RegistrationClient}, which keeps a Node service registered; and {@link WorkloadIdentity},
 * which keeps a workload's certificate (SPIFFE identity) issued by the controller renewed. Both sources follow their
 * server over Server-Sent Events, falling back to long-poll and then polling, and keep the
 * last-known-good state while it is away. Needs `undici` (an optional peer dependency, loaded on
 * first use).
 *
 * @packageDocumentation
 * @module @weft/adapters/weft
 */
export type { AdapterLogger, AdapterWarning, AdapterWarningCode } from '../internal/log.js';
export { processWarningLogger } from '../internal/log.js';
export { MissingPeerDependencyError } from '../internal/peer.js';
export {
  ACCESS_LOG_STREAM_PATH,
  type AccessLogForward,
  AccessLogStream,
  type AccessLogStreamOptions,
  type AccessLogStreamStats,
  type StreamDropReason,
  type StreamedRecord,
} from './access-log-stream.js';
export {
  type AuthorizationFollowOptions,
  type AuthorizationTarget,
  WeftAuthorizationSource,
  type WeftAuthorizationSourceOptions,
} from './authorization-source.js';
export type { ControlPlaneConnectionOptions } from './connection-options.js';
export { ControlPlaneRequestError } from './errors.js';
export type { FollowOptions, WatchTransport } from './follow-options.js';
export { INDEX_HEADER } from './http.js';
export { UNDICI_RANGE } from './load-undici.js';
export { REFLECT_METADATA_RANGE, X509_RANGE } from './load-x509.js';
export { type BadInstance, type MappedInstances, mapInstances } from './mapping.js';
export {
  RegistrationClient,
  type RegistrationClientEvents,
  type RegistrationClientOptions,
  type RegistrationReason,
} from './registration-client.js';
export type { RegisteredInstance } from './registry-api.js';
export { WeftRegistrySource, type WeftRegistrySourceOptions } from './registry-source.js';
export type { RulesFollow, RulesFollowOptions, RulesTarget } from './rules-follow.js';
export { type RulesObserver, type RulesUpdate, WeftRulesSource, type WeftRulesSourceOptions } from './rules-source.js';
export { type SseEvent, SseParser, type SseParserHandlers, SseProtocolError } from './sse-parser.js';
export {
  type WorkloadCertificate,
  WorkloadIdentity,
  type WorkloadIdentityEvents,
  type WorkloadIdentityOptions,
} from './workload-identity.js';
