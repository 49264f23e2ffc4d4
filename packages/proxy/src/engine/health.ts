import {
  CircuitBreaker,
  type CircuitBreakerOptions,
  type Clock,
  type EjectionTarget,
  type FailurePercentageOptions,
  OutlierDetector,
  type OutlierDetectorOptions,
  RetryBudget,
} from '@weft/core';

/** Per-endpoint circuit breaker settings (core's `CircuitBreaker`, plus a concurrency cap). */
export interface BreakerOptions {
  /** Consecutive failures (5xx or no response) that open the breaker. Default 5 (Amalgam8's `consecutive_errors`). */
  consecutiveFailures?: number;
  /** How long the breaker stays open before probing, ms. Default 30 000 (Amalgam8's `sleep_window`). */
  openMs?: number;
  /** Probes let through at once in half-open; that many successes close it. Default 3. */
  halfOpenProbes?: number;
  /** Concurrent requests allowed to one endpoint (Amalgam8's `max_requests`). Default 1024. */
  maxRequests?: number;
}

/** A breaker's state, as core's `CircuitState`. */
export type BreakerState = 'closed' | 'open' | 'half-open' | 'isolated';

/** Outlier ejection settings (core's `OutlierDetector`, Envoy's semantics). */
export interface OutlierOptions {
  /** Consecutive gateway failures (502/503/504, connect failure, reset, timeout) that eject. Default 5. */
  consecutiveGatewayFailures?: number;
  /** Consecutive 5xx or local failures that eject. Default 5 (Amalgam8's `consecutive_errors`). */
  consecutive5xx?: number;
  /** First ejection time, ms; grows with each ejection. Default 30 000 (Amalgam8's `sleep_window`). */
  baseEjectionMs?: number;
  /** Longest ejection, ms. Default 300 000. */
  maxEjectionMs?: number;
  /** No new ejection while this share of endpoints is out, 0..100 (one can always go). Default 50. */
  maxEjectionPercent?: number;
  /** Success-rate ejection (statistical outliers among peers) each interval. Default on. */
  successRate?: boolean;
  /**
   * Failure-percentage ejection each interval (core's, Envoy's defaults: 85 %, 5 hosts, 50
   * requests): `true` or the settings turn it on. Default off.
   */
  failurePercentage?: boolean | FailurePercentageOptions;
  /** Analysis interval, ms (Amalgam8's `detection_interval`). Default 10 000. */
  intervalMs?: number;
  /** Below this share of healthy endpoints, 0..100, every endpoint is put back (core's panic threshold). Default core's. */
  panicThresholdPercent?: number;
}

/** Retry budget settings (core's `RetryBudget`). */
export interface RetryBudgetOptions {
  /** Retries as a share of requests over the window. Default 0.2. */
  ratio?: number;
  /** Retries per second always allowed. Default 10. */
  minRetriesPerSecond?: number;
  /** Window, ms. Default 10 000. */
  windowMs?: number;
}

/** Core's breaker for one endpoint. */
export function createBreaker(options: BreakerOptions, clock: Clock): CircuitBreaker {
  const probes = options.halfOpenProbes ?? 3;
  const breaker: CircuitBreakerOptions = {
    trip: { kind: 'consecutive', threshold: options.consecutiveFailures ?? 5 },
    openDurationMs: options.openMs ?? 30_000,
    halfOpenMaxProbes: probes,
    halfOpenSuccesses: probes,
    clock,
  };
  return new CircuitBreaker(breaker);
}

/** Core's outlier detector for one service's endpoints. */
export function createOutlierDetector(
  target: EjectionTarget,
  size: number,
  options: OutlierOptions,
  clock: Clock,
): OutlierDetector {
  const detector: OutlierDetectorOptions = {
    consecutiveGatewayErrors: options.consecutiveGatewayFailures ?? 5,
    consecutive5xx: options.consecutive5xx ?? 5,
    baseEjectionTimeMs: options.baseEjectionMs ?? 30_000,
    maxEjectionTimeMs: Math.max(options.maxEjectionMs ?? 300_000, options.baseEjectionMs ?? 30_000),
    maxEjectionPercent: options.maxEjectionPercent ?? 50,
    intervalMs: options.intervalMs ?? 10_000,
    ...(options.successRate === false ? { successRate: false as const } : {}),
    ...(options.failurePercentage === undefined || options.failurePercentage === false
      ? {}
      : { failurePercentage: options.failurePercentage === true ? {} : options.failurePercentage }),
    ...(options.panicThresholdPercent === undefined ? {} : { panicThresholdPercent: options.panicThresholdPercent }),
    clock,
  };
  return new OutlierDetector(target, size, detector);
}

/** Core's retry budget for one service. */
export function createRetryBudget(options: RetryBudgetOptions, clock: Clock): RetryBudget {
  return new RetryBudget({ ...options, clock });
}
