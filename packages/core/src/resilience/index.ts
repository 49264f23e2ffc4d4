/**
 * Resilience policies: timeouts, retries with budgets, circuit breakers, outlier ejection, rate
 * limits, bulkheads, hedging — each usable alone (`policy.execute(fn, signal)`), composable with
 * {@link wrap}, and with allocation-free low-level hooks for a proxy's hot path.
 *
 * @module
 */
export { LinkedAbort, raceAbort } from './abort.js';
export { type Backoff, type BackoffOptions, backoffDelay, type Jitter, resolveBackoff } from './backoff.js';
export { Bulkhead, type BulkheadOptions, type BulkheadRejectEvent } from './bulkhead.js';
export {
  type CircuitBreakEvent,
  CircuitBreaker,
  type CircuitBreakerOptions,
  CircuitRejection,
  CircuitState,
  type CircuitStateChange,
  type OpenBackoffOptions,
} from './circuit-breaker.js';
export {
  type AttemptRecord,
  type AttemptsErrorOptions,
  BulkheadFullError,
  CircuitOpenError,
  isBulkheadFullError,
  isCircuitOpenError,
  isRateLimitedError,
  isRetriesExhaustedError,
  isRetryBudgetExhaustedError,
  isTimeoutError,
  RateLimitedError,
  RetriesExhaustedError,
  RetryBudgetExhaustedError,
  TimeoutError,
  type TimeoutScope,
} from './errors.js';
export { Emitter, type Event, type EventSubscription, nextEvent } from './event.js';
export {
  type BackendPolicyOptions,
  type BackendResilienceSettings,
  fromBackendResilience,
  fromRouteRetrySettings,
  type RouteRetrySettings,
} from './from-settings.js';
export { type HedgeEvent, type HedgeOptions, HedgePolicy } from './hedge.js';
export {
  type CallOutcome,
  type Classifier,
  defaultClassifier,
  isGatewayError,
  isNeutral,
  isServerError,
  Outcome,
  outcomeOfError,
  outcomeOfResult,
  outcomeWord,
} from './outcome.js';
export {
  type EjectionEvent,
  type EjectionReason,
  type EjectionTarget,
  type FailurePercentageOptions,
  OutlierDetector,
  type OutlierDetectorOptions,
  type PanicEvent,
  type SuccessRateOptions,
} from './outlier-detector.js';
export { noopPolicy, type Policy, type PolicyContext, type PolicyFn } from './policy.js';
export { RateLimiter, type RateLimiterOptions } from './rate-limiter.js';
export {
  type GiveUpEvent,
  type RetryCondition,
  type RetryDecisionOptions,
  type RetryEvent,
  type RetryInfo,
  type RetryOptions,
  RetryPolicy,
  RetryVerdict,
} from './retry.js';
export { parseRetryAfter, retryAfterOf } from './retry-after.js';
export { RetryBudget, type RetryBudgetOptions } from './retry-budget.js';
export { SlidingWindow } from './sliding-window.js';
export { Deadline, type TimeoutEvent, type TimeoutMode, type TimeoutOptions, TimeoutPolicy } from './timeout.js';
export {
  ConsecutiveFailures,
  type ConsecutiveFailuresOptions,
  createTripStrategy,
  FailureRate,
  type FailureRateOptions,
  type TripOptions,
  type TripStrategy,
} from './trip-strategy.js';
export { type WrappedPolicy, wrap } from './wrap.js';
