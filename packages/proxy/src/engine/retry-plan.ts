import {
  fromRouteRetrySettings,
  InvalidArgumentError,
  type RetryCondition,
  type RetryDecisionOptions,
  RetryPolicy,
  type RouteRetrySettings,
} from '@weft/core';

/**
 * What the agent retries when neither its `retry` option nor a rule says: failures where the
 * upstream never answered. An application's own 5xx answers pass through (core's `RetryPolicy`
 * default adds `5xx`; a proxy in front of every call is more careful).
 */
export const AGENT_RETRY_ON: readonly RetryCondition[] = Object.freeze(['connect-failure', 'reset']);

/**
 * A route's retry policy as the engine runs it: core's {@link RetryPolicy} decides each retry
 * (`decide()`: the conditions, the attempts, the backoff and a capped `Retry-After`), the engine
 * adds what only a proxy knows (idempotency, a replayable body, the service's retry budget, the
 * call's deadline). Plans are shared by every call of a route: keep them frozen.
 */
export interface RetryPlan {
  /** Core's policy, without a budget of its own: the engine spends the destination service's. */
  readonly policy: RetryPolicy;
  /** Per-try timeout to response headers, ms. */
  readonly perTryTimeoutMs?: number;
  /** Some status below 500 is retried (`retriableStatusCodes`): such answers are checked too. */
  readonly retriesBelow500: boolean;
}

/**
 * Turns retry options in core's vocabulary into a {@link RetryPlan}. `retryOn` defaults to
 * {@link AGENT_RETRY_ON}; a per-try timeout also retries timeouts (what else would it be for).
 *
 * @throws InvalidArgumentError naming the field (`maxAttempts`, `retryOn`, `backoff`…).
 */
export function toRetryPlan(options: RetryDecisionOptions): RetryPlan {
  const perTry = options.perTryTimeoutMs;
  let retryOn = options.retryOn ?? AGENT_RETRY_ON;
  if (perTry !== undefined && !retryOn.includes('timeout')) retryOn = [...retryOn, 'timeout'];
  const codes = options.retriableStatusCodes ?? [];
  const policy = new RetryPolicy({
    ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
    retryOn,
    retriableStatusCodes: codes,
    ...(options.backoff === undefined ? {} : { backoff: options.backoff }),
    ...(options.maxRetryAfterMs === undefined ? {} : { maxRetryAfterMs: options.maxRetryAfterMs }),
    ...(perTry === undefined ? {} : { perTryTimeoutMs: perTry }),
    budget: false,
  });
  return Object.freeze({
    policy,
    ...(perTry === undefined ? {} : { perTryTimeoutMs: perTry }),
    retriesBelow500: codes.some((c) => c < 500),
  });
}

/**
 * The plan of a rule's retry settings (`http_req_retries`, `retries: {…}`), through core's
 * `fromRouteRetrySettings`: the same mapping every consumer of the rules uses.
 */
export function routeRetryPlan(settings: RouteRetrySettings, maxRetryAfterMs?: number): RetryPlan {
  const o = fromRouteRetrySettings(settings);
  return toRetryPlan({
    ...(o.maxAttempts === undefined ? {} : { maxAttempts: o.maxAttempts }),
    retryOn: o.retryOn ?? [],
    ...(o.retriableStatusCodes === undefined ? {} : { retriableStatusCodes: o.retriableStatusCodes }),
    ...(o.backoff === undefined ? {} : { backoff: o.backoff }),
    ...(o.perTryTimeoutMs === undefined ? {} : { perTryTimeoutMs: o.perTryTimeoutMs }),
    ...(maxRetryAfterMs === undefined ? {} : { maxRetryAfterMs }),
  });
}

/** {@link toRetryPlan} with the issues' paths under `prefix` (`retry.maxAttempts`). */
export function toRetryPlanAt(prefix: string, options: RetryDecisionOptions): RetryPlan {
  try {
    return toRetryPlan(options);
  } catch (err) {
    if (!(err instanceof InvalidArgumentError)) throw err;
    throw new InvalidArgumentError(
      'mesh options',
      err.issues.map((i) => ({ ...i, path: `${prefix}.${i.path}` })),
    );
  }
}
