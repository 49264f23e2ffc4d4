/** The engine's options and the per-call extras: types only, shared by the engine and its parts. */
import type { AuthzPeer, Clock, RetryBudgetOptions, RetryDecisionOptions } from '@weft/core';
import type { Dispatcher, Pool } from 'undici';
import type { AccessLogSink } from '../telemetry/access-log.js';
import type { MeshMetrics, MetricsRegistry } from '../telemetry/metrics.js';
import type { MeshTracer } from '../telemetry/otel.js';
import type { MeshTlsOptions } from '../tls/client.js';
import type { AuthorizationInput } from './authorization.js';
import type { BreakerOptions, OutlierOptions } from './health.js';
import type { RateLimitOptions } from './rate-limit.js';
import type { MeshIdentity, Router } from './route.js';
import type { Discovery, LbPolicy } from './types.js';

/**
 * What the engine needs of a per-endpoint connection pool: undici's `Pool` (MeshAgent) or the
 * sidecar's own HTTP/1.1 pool. Both take undici's dispatch options and v2 handlers.
 */
export interface EndpointPool {
  dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean;
  close(): Promise<void>;
  destroy(): Promise<void>;
}

/** What the engine knows of the endpoint a pool is made for (the third argument of a {@link PoolFactory}). */
export interface PoolTarget {
  /** The destination service. */
  readonly service: string;
  /**
   * The SPIFFE ID the endpoint announces in its `weft_mtls` metadata: a proxy with `mtls`
   * reaches it over mTLS and accepts only a server proving that identity. Undefined: plaintext.
   */
  readonly peerIdentity?: string | undefined;
}

/**
 * Makes the pool of one endpoint (`origin` is `http://host:port` or `https://…`). `target` says
 * which service it serves and the identity it announces (a factory that cannot do mTLS may
 * ignore it: such endpoints are then reached in plaintext).
 */
export type PoolFactory = (origin: string, options: Pool.Options, target?: PoolTarget) => EndpointPool;

/** Options shared by {@link MeshAgent} and the sidecar. */
export interface MeshEngineOptions {
  /** Where endpoints come from. */
  discovery: Discovery;
  /** The caller's identity, for source-matched rules and the access log's `src`. */
  identity?: MeshIdentity;
  /** Routing, fault and retry rules (see `rulesRouter`). Default: every request to every instance. */
  router?: Router;
  /**
   * Authorization policies (`@weft/core`'s `AuthorizationDocument`, or a compiled `Authorizer`)
   * for calls that enter through a front end — the sidecar's or gateway's listener, whose caller
   * is someone else: a refused call answers 403 `WEFT_ERR_FORBIDDEN`. Calls the application makes
   * itself (MeshAgent's `fetch`) are not judged: the policies protect the destination, and are
   * enforced where its traffic arrives. Change them with `setAuthorization`. Default: none.
   */
  authorization?: AuthorizationInput;
  /** Load-balancing policy when a rule names none. Default `least_request`. */
  lbPolicy?: LbPolicy;
  /**
   * Retries when a rule sets none, in core's vocabulary (`RetryDecisionOptions`: `maxAttempts`
   * in total, default 3; `retryOn`, default `['connect-failure', 'reset']`; `retriableStatusCodes`;
   * `backoff`, default 25 ms doubling to 250 ms with full jitter; `perTryTimeoutMs`;
   * `maxRetryAfterMs`, default 30 s); `false` disables them. An upstream's `Retry-After` is
   * honoured up to `maxRetryAfterMs`, and not waited for past the call's timeout.
   */
  retry?: RetryDecisionOptions | false;
  /**
   * Overall timeout to response headers when the route sets none, ms; `0` for none. Default
   * 15 000: Amalgam8's default `http_req_timeout`, and Envoy's default route timeout, so an
   * upstream that never answers cannot hold a call for undici's 300 s. A rule's
   * `http_req_timeout` wins; routes compiled by `rulesRouter` without one take its compile
   * option `defaultTimeoutMs` (also 15 s by default).
   */
  timeoutMs?: number;
  /**
   * The `Host` header upstreams get. `'authority'` (default): the request's own authority, as
   * Envoy and Linkerd forward it — MeshAgent sends the origin's host (`reviews` for
   * `fetch('http://reviews/…')`, or the `host` header the caller set), the sidecar the client's
   * Host when it routed by Host and the service name when it routed by path. `'endpoint'`: the
   * address of the instance each attempt goes to (`10.0.0.7:9080`), like Envoy's
   * `auto_host_rewrite`, for upstreams that check Host against their own address.
   */
  hostHeader?: 'authority' | 'endpoint';
  /** Retry budget per destination service (core's options; the engine's clock); `false` disables it. */
  retryBudget?: RetryBudgetOptions | false;
  /** Circuit breaker per endpoint. */
  breaker?: BreakerOptions;
  /** Outlier ejection; `false` disables it. */
  outlier?: OutlierOptions | false;
  /** A streamed request body is recorded up to this many bytes so it can be retried. Default 64 KiB. */
  replayBufferBytes?: number;
  /**
   * Options of the per-endpoint undici Pool. Defaults retire idle sockets before common server
   * idle timeouts: `keepAliveTimeout` 4 s, `keepAliveMaxTimeout` 60 s, `keepAliveTimeoutThreshold` 1 s.
   */
  pool?: Pool.Options;
  /** Access log: a sink, `true` for pino on stdout, `false` (default for MeshAgent) for none. */
  accessLog?: AccessLogSink | boolean;
  /**
   * Metrics: a {@link MeshMetrics}, a prom-client registry to register into, or `false`. Default: a
   * {@link MeshMetrics} of its own (read with `metrics.text()`; prom-client is not loaded).
   */
  metrics?: MeshMetrics | MetricsRegistry | false;
  /**
   * OpenTelemetry: a tracer to use (`trace.getTracer('my-service')`), `false` to never trace;
   * default the global provider's when one is registered. Tracing needs `@opentelemetry/api`, an
   * optional peer dependency: without it there is no tracing, and a `tracer` passed here is
   * refused with `WEFT_ERR_MISSING_PEER_DEPENDENCY`.
   */
  tracer?: MeshTracer | false;
  /** Generate `x-request-id` when the request has none. Default true. */
  requestId?: boolean;
  /**
   * A default rate limit: token buckets per destination service (and per source with
   * `perSource`) for calls whose route sets no `rate_limit`. A refused call fails with
   * `WEFT_ERR_RATE_LIMITED` (the sidecar answers 429 with `Retry-After`). Local to this proxy.
   * Default: no limit.
   */
  rateLimit?: RateLimitOptions;
  /** Clock for breakers, ejections and budgets. Default the system clock. */
  clock?: Clock;
  /**
   * mTLS between proxies: an endpoint whose instance metadata has `weft_mtls:
   * "spiffe://<td>/ns/<ns>/svc/<service>"` is reached over TLS, presenting the credentials'
   * current certificate and accepting only a server that chains to their trust bundle and
   * presents exactly that SPIFFE ID, of the destination service (else the connection fails with
   * `WEFT_ERR_PEER_IDENTITY`, a connect failure). Other endpoints stay plaintext. New
   * connections use the latest certificate after `rotated`; open ones are kept. Default: none
   * (every endpoint plaintext).
   */
  mtls?: MeshTlsOptions;
}

/** Per-call extras the sidecar passes. */
export interface CallInit {
  /** The request id to use (an incoming `x-request-id`). */
  requestId?: string;
  /** Lower-case names of headers to drop before forwarding (hop-by-hop). */
  dropHeaders?: ReadonlySet<string>;
  /** Extra headers to append (flat `[name, value, ...]`). */
  extraHeaders?: readonly string[];
  /** Path to route on (after the sidecar stripped `/<service>`), when different from `opts.path`. */
  routePath?: string;
  /** Request headers as a lower-case record (node:http's `req.headers`), read by the rules without copying. */
  headerRecord?: Readonly<Record<string, string | string[] | undefined>>;
  /** A streamed body larger than this fails the call (sidecar body limit). */
  maxBodyBytes?: number;
  /**
   * Headers of the incoming request this call is made for (MeshAgent's `withIncoming`), flat
   * `[lowerName, value, …]`, that the outgoing request does not set itself: they are sent, and
   * the rules and the trace context see them as the request's own.
   */
  inherited?: readonly string[];
  /** The client's IP address: the peer of the sidecar's connection (rate limits `per_source: client_ip`). */
  clientIp?: string;
  /**
   * The caller as the front end knows it — its address and, over mTLS, its verified workload
   * identity. Only calls that carry a peer are judged by the `authorization` policies.
   */
  peer?: AuthzPeer | undefined;
  /**
   * The calling service, when the proxy learns it per request (say from a verified client
   * certificate): rules' `match.source` and rate limits `per_source: service` see it instead of
   * the proxy's own `identity`.
   */
  source?: MeshIdentity;
}
