import { durationToMs } from './duration.js';
import type { ResilienceInput } from './route-schema.js';

/** Circuit-breaker limits of a backend (Amalgam8's `max_*` settings). */
export interface CircuitBreakerSettings {
  /** Concurrent connections to the backend's instances. */
  readonly maxConnections: number;
  /** Requests waiting for a connection. */
  readonly maxPendingRequests: number;
  /** Concurrent requests. */
  readonly maxRequests: number;
  /** Requests per connection before it is recycled; undefined = unlimited. */
  readonly maxRequestsPerConnection: number | undefined;
}

/** Outlier-ejection settings of a backend (Amalgam8's `consecutive_errors`, `detection_interval`, `sleep_window`). */
export interface OutlierSettings {
  /** Consecutive failures (5xx, connect errors, resets) that eject an instance. */
  readonly consecutiveErrors: number;
  /** How often instances are analysed, ms. */
  readonly intervalMs: number;
  /** How long an ejected instance stays out (the breaker's sleep window), ms. */
  readonly baseEjectionMs: number;
}

/** A backend's resilience settings as plain data, for the resilience policies to consume. */
export interface BackendResilience {
  readonly circuitBreaker: CircuitBreakerSettings;
  readonly outlier: OutlierSettings;
}

/** Amalgam8's defaults, applied to the fields a `resilience` block leaves out. */
export const AMALGAM8_RESILIENCE_DEFAULTS = Object.freeze({
  maxConnections: 1024,
  maxPendingRequests: 1024,
  maxRequests: 1024,
  sleepWindowMs: 30_000,
  consecutiveErrors: 5,
  detectionIntervalMs: 10_000,
});

/**
 * Maps Amalgam8's `resilience` names onto Weft's settings (the same mapping Amalgam8 1.x made
 * onto Envoy): `max_connections`, `max_pending_requests`, `max_requests`,
 * `max_requests_per_connection` → circuit breaker; `consecutive_errors` → consecutive failures
 * that eject; `detection_interval` → analysis interval; `sleep_window` → ejection time.
 */
export function toBackendResilience(r: ResilienceInput): BackendResilience {
  const d = AMALGAM8_RESILIENCE_DEFAULTS;
  return Object.freeze({
    circuitBreaker: Object.freeze({
      maxConnections: r.max_connections ?? d.maxConnections,
      maxPendingRequests: r.max_pending_requests ?? d.maxPendingRequests,
      maxRequests: r.max_requests ?? d.maxRequests,
      maxRequestsPerConnection: r.max_requests_per_connection,
    }),
    outlier: Object.freeze({
      consecutiveErrors: r.consecutive_errors ?? d.consecutiveErrors,
      intervalMs: r.detection_interval === undefined ? d.detectionIntervalMs : durationToMs(r.detection_interval),
      baseEjectionMs: r.sleep_window === undefined ? d.sleepWindowMs : durationToMs(r.sleep_window),
    }),
  });
}
