/**
 * `@weft/proxy/sidecar` — the sidecar / gateway alone, with the rules router: everything a
 * sidecar process needs and nothing it does not (undici, which MeshAgent is built on, is never
 * loaded here, and costs a process ~25 MB of resident memory). The same classes as the main entry.
 *
 * @packageDocumentation
 */
// First: refuses an unsupported Node.js with a coded error before anything else is loaded.
import '../runtime-check.js';

export type { RetryBudgetOptions, RetryDecisionOptions } from '@weft/core';
export type { EndpointPool, MeshEngineOptions, PoolFactory } from '../engine/engine.js';
export type { BreakerOptions, OutlierOptions } from '../engine/health.js';
export type { PoolTarget } from '../engine/options.js';
export type { RateLimitOptions } from '../engine/rate-limit.js';
export type { MeshIdentity, Router } from '../engine/route.js';
export { type RulesRouter, type RulesRouterOptions, rulesRouter } from '../engine/rules-router.js';
export { Http1Pool, type Http1PoolOptions, type Http1TlsConnector } from '../http1/client.js';
export { type AccessLogSink, MemoryAccessLog, pinoAccessLog } from '../telemetry/access-log.js';
export { MeshMetrics, type MetricsRegistry } from '../telemetry/metrics.js';
export type { MeshSpan, MeshSpanOptions, MeshTracer } from '../telemetry/otel.js';
export { MeshTlsClient, type MeshTlsOptions } from '../tls/client.js';
export {
  announcedIdentity,
  type MeshCredentials,
  MTLS_METADATA_KEY,
  PeerIdentityError,
  type PeerIdentityErrorOptions,
  uriSans,
  verifyPeerIdentity,
} from '../tls/credentials.js';
export { InboundProxy, type InboundProxyOptions, MTLS_MODES, type MtlsMode } from './inbound.js';
export {
  clientCertHeader,
  Sidecar,
  type SidecarAddresses,
  type SidecarOptions,
  type SidecarRouting,
} from './sidecar.js';
export type { TcpProxyOptions } from './tcp.js';
