import type { BulkheadOptions } from './bulkhead.js';
import type { CircuitBreakerOptions } from './circuit-breaker.js';
import type { OutlierDetectorOptions } from './outlier-detector.js';
import type { RetryCondition, RetryOptions } from './retry.js';

/**
 * A backend's resilience settings as the rules compiler produces them (`BackendResilience` in
 * `rules/resilience.ts`, already defaulted from Amalgam8's `resilience` block). Declared here
 * structurally so policies do not depend on the rules module.
 */
export interface BackendResilienceSettings {
  readonly circuitBreaker: {
    readonly maxConnections: number;
    readonly maxPendingRequests: number;
    readonly maxRequests: number;
    readonly maxRequestsPerConnection: number | undefined;
  };
  readonly outlier: {
    readonly consecutiveErrors: number;
    readonly intervalMs: number;
    readonly baseEjectionMs: number;
  };
}

/** Policy options equivalent to a backend's {@link BackendResilienceSettings} (add a clock). */
export interface BackendPolicyOptions {
  /** Options for each endpoint's undici `Pool`. */
  pool: { connections: number; maxRequestsPerClient?: number };
  /** Concurrency cap and queue of the backend: Envoy's "circuit breaker" thresholds. */
  bulkhead: Pick<BulkheadOptions, 'maxConcurrent' | 'maxQueue'>;
  /** Passive ejection per endpoint. */
  outlier: Pick<
    OutlierDetectorOptions,
    'consecutive5xx' | 'intervalMs' | 'baseEjectionTimeMs' | 'maxEjectionPercent' | 'panicThresholdPercent'
  >;
  /** A backend-wide breaker with the same thresholds, for callers without per-endpoint ejection. */
  breaker: Pick<CircuitBreakerOptions, 'trip' | 'openDurationMs'>;
}

/**
 * Maps a backend's resilience settings onto policy options. Amalgam8 1.x handed its fields to
 * Envoy; Weft keeps Envoy's meaning, adapted to an in-process undici client:
 *
 * | Amalgam8 (default) | Envoy | Weft |
 * |---|---|---|
 * | `max_connections` (1024) | cluster `max_connections` | undici `Pool` `connections`; on HTTP/1.1 (one request per connection at a time) it also caps concurrency |
 * | `max_requests` (1024) | `max_requests`: requests in flight | `Bulkhead` `maxConcurrent` = min(max_requests, max_connections) on HTTP/1.1, max_requests on HTTP/2 |
 * | `max_pending_requests` (1024) | `max_pending_requests`: waiting for a connection | `Bulkhead` `maxQueue` |
 * | `max_requests_per_connection` | same | undici `Pool` `maxRequestsPerClient` |
 * | `consecutive_errors` (5) | outlier `consecutive_5xx` | `OutlierDetector` `consecutive5xx` (and the breaker's threshold) |
 * | `detection_interval` (10 s) | outlier `interval` | `OutlierDetector` `intervalMs` |
 * | `sleep_window` (30 s) | outlier `base_ejection_time` | `OutlierDetector` `baseEjectionTimeMs` (and the breaker's `openDurationMs`) |
 *
 * Amalgam8 set Envoy's `max_ejection_percent` to 100, so Weft does too; the 50 % panic
 * threshold keeps a mostly ejected backend serving.
 */
export function fromBackendResilience(
  settings: BackendResilienceSettings,
  options: { http2?: boolean } = {},
): BackendPolicyOptions {
  const cb = settings.circuitBreaker;
  const o = settings.outlier;
  return {
    pool:
      cb.maxRequestsPerConnection === undefined
        ? { connections: cb.maxConnections }
        : { connections: cb.maxConnections, maxRequestsPerClient: cb.maxRequestsPerConnection },
    bulkhead: {
      maxConcurrent: options.http2 ? cb.maxRequests : Math.min(cb.maxRequests, cb.maxConnections),
      maxQueue: cb.maxPendingRequests,
    },
    outlier: {
      consecutive5xx: o.consecutiveErrors,
      intervalMs: o.intervalMs,
      baseEjectionTimeMs: o.baseEjectionMs,
      maxEjectionPercent: 100,
      panicThresholdPercent: 50,
    },
    breaker: { trip: { kind: 'consecutive', threshold: o.consecutiveErrors }, openDurationMs: o.baseEjectionMs },
  };
}

/**
 * A route's retry settings as the rules compiler produces them (`RetrySettings` in
 * `rules/retry.ts`), declared structurally.
 */
export interface RouteRetrySettings {
  /** Retries after the first try. */
  readonly maxRetries: number;
  readonly perTryTimeoutMs: number | undefined;
  readonly retryOn: readonly string[];
  readonly retriableStatusCodes: readonly number[];
  readonly backoff: { readonly baseMs: number; readonly maxMs: number };
}

const CONDITIONS: ReadonlySet<string> = new Set<RetryCondition>([
  '5xx',
  'gateway-error',
  'connect-failure',
  'reset',
  'timeout',
  'retriable-status-codes',
]);

/**
 * Maps a route's retry settings (and its overall timeout, Amalgam8's `http_req_timeout`) onto
 * {@link RetryOptions}. Conditions this version does not know are dropped rather than failing
 * the whole route.
 */
export function fromRouteRetrySettings(settings: RouteRetrySettings, overallTimeoutMs?: number): RetryOptions {
  return {
    maxAttempts: Math.max(0, Math.floor(settings.maxRetries)) + 1,
    retryOn: settings.retryOn.filter((c): c is RetryCondition => CONDITIONS.has(c)),
    retriableStatusCodes: settings.retriableStatusCodes,
    backoff: { baseMs: settings.backoff.baseMs, maxMs: settings.backoff.maxMs, jitter: 'full' },
    ...(settings.perTryTimeoutMs === undefined ? {} : { perTryTimeoutMs: settings.perTryTimeoutMs }),
    ...(overallTimeoutMs === undefined ? {} : { overallTimeoutMs }),
  };
}
