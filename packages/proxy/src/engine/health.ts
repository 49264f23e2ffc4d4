import {
  CircuitBreaker,
  type CircuitBreakerOptions,
  type Clock,
  type EjectionTarget,
  OutlierDetector,
  type OutlierDetectorOptions,
  RetryBudget,
  type RetryBudgetOptions,
  type TripOptions,
} from '@weft/core';

/**
 * Per-endpoint circuit breaker settings: core's {@link CircuitBreakerOptions} names (one breaker
 * per endpoint is made from them, so `trip` takes options, not a shared strategy), plus the
 * per-endpoint concurrency cap. Defaults are core's: 5 consecutive failures (Amalgam8's
 * `consecutive_errors`), open 30 s (`sleep_window`), 3 probes.
 */
export interface BreakerOptions
  extends Pick<
    CircuitBreakerOptions,
    'openDurationMs' | 'openBackoff' | 'halfOpenMaxProbes' | 'halfOpenSuccesses' | 'probeTimeoutMs'
  > {
  /** When a closed breaker opens. Default `{kind: 'consecutive', threshold: 5}`. */
  trip?: TripOptions;
  /** Concurrent requests allowed to one endpoint (Amalgam8's `max_requests`). Default 1024. */
  maxRequests?: number;
}

/** A breaker's state, as core's `CircuitState`. */
export type BreakerState = 'closed' | 'open' | 'half-open' | 'isolated';

/**
 * Outlier ejection settings: core's {@link OutlierDetectorOptions} (Envoy's semantics), with the
 * agent's defaults where they differ from core's: `consecutiveGatewayErrors` 5 (core: off) and
 * `maxEjectionPercent` 50 (core: 10).
 */
export type OutlierOptions = Omit<OutlierDetectorOptions, 'clock'>;

/** Core's breaker for one endpoint. */
export function createBreaker(options: BreakerOptions, clock: Clock): CircuitBreaker {
  const { maxRequests: _perEndpointCap, ...breaker } = options;
  return new CircuitBreaker({ ...breaker, clock });
}

/** Core's outlier detector for one service's endpoints. */
export function createOutlierDetector(
  target: EjectionTarget,
  size: number,
  options: OutlierOptions,
  clock: Clock,
): OutlierDetector {
  const detector: OutlierDetectorOptions = {
    consecutiveGatewayErrors: 5,
    maxEjectionPercent: 50,
    ...options,
    // A base ejection longer than the default cap raises the cap rather than failing.
    maxEjectionTimeMs: Math.max(options.maxEjectionTimeMs ?? 300_000, options.baseEjectionTimeMs ?? 30_000),
    clock,
  };
  return new OutlierDetector(target, size, detector);
}

/** Core's retry budget for one service (on the engine's clock, whatever `options.clock` says). */
export function createRetryBudget(options: RetryBudgetOptions, clock: Clock): RetryBudget {
  return new RetryBudget({ ...options, clock });
}
