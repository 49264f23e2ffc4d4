import { Outcome, type RetryBudget, RetryVerdict } from '@weft/core';
import type { RetryPlan } from './retry-plan.js';

/**
 * Why a failed attempt is not tried again. Negative, so one number carries either a delay
 * (>= 0, ms) or a reason: the engine's retry decision allocates nothing.
 */
export const NotRetried = {
  /** The call has no retries (`retry: false`, a rule's `http_req_retries: 0`). */
  Off: -1,
  /** Every allowed attempt was used. */
  Exhausted: -2,
  /** The retry policy's `retryOn` does not cover this kind of failure. */
  NotCovered: -3,
  /** A reset or a timeout of a request that is not idempotent: the upstream may have acted on it. */
  NotIdempotent: -4,
  /** The request body was streamed past the replay buffer: it cannot be sent again. */
  NotReplayable: -5,
  /** The destination service's retry budget is spent. */
  BudgetSpent: -6,
  /** The upstream's `Retry-After` (capped) outlasts the call's own timeout. */
  TooLate: -7,
  /** The call already ended (aborted by the caller, or finished). */
  CallOver: -8,
} as const;
export type NotRetried = (typeof NotRetried)[keyof typeof NotRetried];

/** What {@link decideRetry} weighs. */
export interface RetryQuery {
  /** The route's plan; undefined when the call has no retries. */
  readonly plan: RetryPlan | undefined;
  /** The service's retry budget, if budgets are on. */
  readonly budget: RetryBudget | undefined;
  /** Counted attempts so far (transparent retries excluded), the failed one included. */
  readonly tries: number;
  /** The failed attempt's outcome: a status, or a negative {@link Outcome}. */
  readonly outcome: number;
  /** The request may be sent twice (idempotent method, or `idempotent: true`). */
  readonly idempotent: boolean;
  /** The body, if any, can be sent again. */
  readonly replayable: boolean;
  /** The previous delay of this call, ms (0 before the first retry). */
  readonly previousDelayMs: number;
  /** The upstream's `Retry-After` in ms, or -1 for none. */
  readonly retryAfterMs: number;
  /** Time left before the call's overall timeout, ms (`Infinity` for none). */
  readonly remainingMs: number;
}

/**
 * The retry decision of the engine: core's `RetryPolicy.decide()` (conditions, attempts,
 * backoff, `Retry-After` capped by `maxRetryAfterMs`), then what only a proxy knows, in order:
 * a reset or timeout is retried only for an idempotent request, a body must be replayable, a
 * `Retry-After` must not outlast the call's timeout, and the service's budget must allow it
 * (spent last, so no retry is withdrawn and then not made).
 *
 * @returns the delay before the next attempt (ms, >= 0), or a negative {@link NotRetried}.
 */
export function decideRetry(q: RetryQuery): number {
  const plan = q.plan;
  if (plan === undefined || plan.policy.maxAttempts <= 1) return NotRetried.Off;
  const delay = plan.policy.decide(q.tries, q.outcome, q.previousDelayMs, q.retryAfterMs);
  if (delay === RetryVerdict.NotRetryable) return NotRetried.NotCovered;
  if (delay < 0) return NotRetried.Exhausted;
  // Resets and timeouts may come after the upstream acted on the request.
  const unsafe = q.outcome === Outcome.Reset || q.outcome === Outcome.Timeout;
  if (unsafe && !q.idempotent) return NotRetried.NotIdempotent;
  if (!q.replayable) return NotRetried.NotReplayable;
  if (q.retryAfterMs >= 0 && delay >= q.remainingMs) return NotRetried.TooLate;
  if (q.budget !== undefined && !q.budget.tryWithdraw()) return NotRetried.BudgetSpent;
  return delay;
}
