/**
 * `@weft/proxy` — Weft's data plane: {@link MeshAgent}, an undici Dispatcher that routes
 * `fetch` / `undici.request` calls through the mesh in-process, and the sidecar / gateway proxy
 * built on the same engine.
 *
 * @packageDocumentation
 * @module @weft/proxy
 */
// First, before anything loads undici: refuses an unsupported Node.js with a coded error.
import './runtime-check.js';

/** Core's resilience vocabulary, which the engine's options use (re-exported, not redefined). */
export type {
  BackoffOptions,
  CallOutcome,
  RetryBudgetOptions,
  RetryCondition,
  RetryDecisionOptions,
  RetryOptions,
  TripOptions,
} from '@weft/core';
export { Outcome, outcomeWord } from '@weft/core';
export type { AuthorizationInput } from './engine/authorization.js';
export type { CallInit, EndpointPool, MeshEngineOptions, PoolFactory } from './engine/engine.js';
export type { BreakerOptions, BreakerState, OutlierOptions } from './engine/health.js';
export type { PoolTarget } from './engine/options.js';
export type { RateLimitOptions } from './engine/rate-limit.js';
export { NotRetried } from './engine/retry-decision.js';
export { AGENT_RETRY_ON, type RetryPlan, routeRetryPlan, toRetryPlan } from './engine/retry-plan.js';
export {
  type AttemptFault,
  type HeaderSource,
  isRouteFailure,
  type MeshIdentity,
  RESET_FAULT,
  type RouteFailure,
  type RoutePlan,
  type RouteRequest,
  type Router,
} from './engine/route.js';
export { type RulesRouter, type RulesRouterOptions, rulesRouter } from './engine/rules-router.js';
export {
  type AttemptOutcome,
  describeAttempts,
  ForbiddenError,
  InjectedResetError,
  isInjectedReset,
  isMeshRequestError,
  type MeshAttempt,
  MeshRequestError,
  type MeshRequestErrorOptions,
  meshErrorOf,
} from './errors.js';
export { Http1Pool, type Http1PoolOptions, type Http1TlsConnector } from './http1/client.js';
export { type MeshInterceptor, type MeshInterceptorOptions, mesh } from './interceptor.js';
export { type IncomingHeaders, MeshAgent, type MeshAgentOptions } from './mesh-agent.js';
export { InboundProxy, type InboundProxyOptions, MTLS_MODES, type MtlsMode } from './sidecar/inbound.js';
export {
  clientCertHeader,
  Sidecar,
  type SidecarAddresses,
  type SidecarOptions,
  type SidecarRouting,
} from './sidecar/sidecar.js';
export type { TcpProxyOptions } from './sidecar/tcp.js';
export {
  type AccessLogRecord,
  type AccessLogSink,
  MemoryAccessLog,
  type PinoAccessLogOptions,
  pinoAccessLog,
} from './telemetry/access-log.js';
export { LATENCY_BUCKETS, MeshMetrics, type MetricsRegistry, type ServiceSnapshot } from './telemetry/metrics.js';
export type { MeshSpan, MeshSpanOptions, MeshTracer } from './telemetry/otel.js';
export { formatTraceparent, parseTraceparent, type TraceParent } from './telemetry/tracing.js';
export { MeshTlsClient, type MeshTlsOptions } from './tls/client.js';
export {
  announcedIdentity,
  type MeshCredentials,
  MTLS_METADATA_KEY,
  PeerIdentityError,
  type PeerIdentityErrorOptions,
  uriSans,
  verifyPeerIdentity,
} from './tls/credentials.js';
