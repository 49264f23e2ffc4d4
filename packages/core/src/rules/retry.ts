import { durationToMs } from './duration.js';
import type { RetryPolicyInput, RouteRetryCondition } from './route-schema.js';

/** A route's retry settings as plain data, for the retry policy to consume. */
export interface RetrySettings {
  /** Retries after the first try; 0 disables retrying. */
  readonly maxRetries: number;
  /** Timeout of each try, ms; undefined = only the overall timeout applies. */
  readonly perTryTimeoutMs: number | undefined;
  /** What failures are retried. */
  readonly retryOn: readonly RouteRetryCondition[];
  /** Statuses retried under `retriable-status-codes`. */
  readonly retriableStatusCodes: readonly number[];
  /** Exponential backoff between tries (full jitter is the policy's business). */
  readonly backoff: { readonly baseMs: number; readonly maxMs: number };
}

/** Conditions retried when a route does not say. */
export const DEFAULT_RETRY_ON: readonly RouteRetryCondition[] = Object.freeze(['5xx', 'connect-failure', 'reset']);
/** First backoff when a route does not say, ms (Envoy's default as well). */
export const DEFAULT_BACKOFF_BASE_MS = 25;

/** No retries: what a route without `http_req_retries` / `retries` gets unless compile options say otherwise. */
export const NO_RETRIES: RetrySettings = Object.freeze({
  maxRetries: 0,
  perTryTimeoutMs: undefined,
  retryOn: DEFAULT_RETRY_ON,
  retriableStatusCodes: Object.freeze([]),
  backoff: Object.freeze({ baseMs: DEFAULT_BACKOFF_BASE_MS, maxMs: DEFAULT_BACKOFF_BASE_MS * 10 }),
});

/** Resolves Amalgam8's `http_req_retries` or Weft's `retries` block into {@link RetrySettings}. */
export function toRetrySettings(
  httpReqRetries: number | undefined,
  policy: RetryPolicyInput | undefined,
): RetrySettings | undefined {
  if (policy === undefined) {
    if (httpReqRetries === undefined) return undefined;
    return Object.freeze({ ...NO_RETRIES, maxRetries: httpReqRetries });
  }
  const codes = policy.retriable_status_codes ?? [];
  const retryOn = [...(policy.retry_on ?? DEFAULT_RETRY_ON)];
  // A status list without the condition that uses it would be dead configuration; imply it.
  if (codes.length > 0 && !retryOn.includes('retriable-status-codes')) retryOn.push('retriable-status-codes');
  const baseMs = policy.backoff?.base === undefined ? DEFAULT_BACKOFF_BASE_MS : durationToMs(policy.backoff.base);
  const maxMs = policy.backoff?.max === undefined ? baseMs * 10 : durationToMs(policy.backoff.max);
  return Object.freeze({
    maxRetries: policy.attempts,
    perTryTimeoutMs: policy.per_try_timeout === undefined ? undefined : durationToMs(policy.per_try_timeout),
    retryOn: Object.freeze(retryOn),
    retriableStatusCodes: Object.freeze([...codes]),
    backoff: Object.freeze({ baseMs, maxMs: Math.max(maxMs, baseMs) }),
  });
}
