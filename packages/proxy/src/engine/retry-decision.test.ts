import { Outcome, RetryBudget, VirtualClock } from '@weft/core';
import { describe, expect, it } from 'vitest';
import { decideRetry, NotRetried, type RetryQuery } from './retry-decision.js';
import { toRetryPlan } from './retry-plan.js';

// No jitter, so delays are exact: 10 ms doubling, capped at 40.
const plan = toRetryPlan({
  maxAttempts: 3,
  retryOn: ['5xx', 'connect-failure', 'reset'],
  retriableStatusCodes: [409],
  backoff: { baseMs: 10, maxMs: 40, jitter: 'none' },
  maxRetryAfterMs: 1_000,
});
const base: RetryQuery = {
  plan,
  budget: undefined,
  tries: 1,
  outcome: 503,
  idempotent: true,
  replayable: true,
  previousDelayMs: 0,
  retryAfterMs: -1,
  remainingMs: Number.POSITIVE_INFINITY,
};

describe('decideRetry', () => {
  const cases: Array<[string, Partial<RetryQuery>, number]> = [
    ['a 503 is retried after the backoff', {}, 10],
    ['the second retry backs off twice as long', { tries: 2 }, 20],
    ['the last attempt is not retried', { tries: 3 }, NotRetried.Exhausted],
    ['no plan: retries are off', { plan: undefined }, NotRetried.Off],
    ['one attempt in total: retries are off', { plan: toRetryPlan({ maxAttempts: 1 }) }, NotRetried.Off],
    ['a 404 is not covered', { outcome: 404 }, NotRetried.NotCovered],
    ['a listed 409 is retried', { outcome: 409 }, 10],
    ['5xx covers a timeout (Envoy’s meaning: no response at all)', { outcome: Outcome.Timeout }, 10],
    [
      'a timeout is not covered by connect-failure alone',
      { plan: toRetryPlan({ maxAttempts: 3, retryOn: ['connect-failure'] }), outcome: Outcome.Timeout },
      NotRetried.NotCovered,
    ],
    [
      'a connect failure of a POST is retried (nothing was sent)',
      { outcome: Outcome.ConnectFailure, idempotent: false },
      10,
    ],
    ['a reset of a POST is not retried', { outcome: Outcome.Reset, idempotent: false }, NotRetried.NotIdempotent],
    ['an unreplayable body is not retried', { replayable: false }, NotRetried.NotReplayable],
    ['Retry-After longer than the backoff is waited for', { retryAfterMs: 300 }, 300],
    ['Retry-After is capped by maxRetryAfterMs', { retryAfterMs: 60_000 }, 1_000],
    ['Retry-After shorter than the backoff keeps the backoff', { retryAfterMs: 2 }, 10],
    [
      'Retry-After past the call’s timeout is not waited for',
      { retryAfterMs: 300, remainingMs: 200 },
      NotRetried.TooLate,
    ],
  ];
  it.each(cases)('%s', (_name, change, expected) => {
    expect(decideRetry({ ...base, ...change })).toBe(expected);
  });

  it('a per-try timeout makes timeouts retryable', () => {
    const perTry = toRetryPlan({ maxAttempts: 2, retryOn: ['connect-failure'], perTryTimeoutMs: 50 });
    expect(decideRetry({ ...base, plan: perTry, outcome: Outcome.Timeout })).toBeGreaterThanOrEqual(0);
  });

  it('spends the service’s budget last, only on a retry that is made', () => {
    const budget = new RetryBudget({ ratio: 0, minRetriesPerSecond: 0.1, windowMs: 10_000, clock: new VirtualClock() });
    // Refused for idempotency: the budget's one retry is kept.
    expect(decideRetry({ ...base, budget, outcome: Outcome.Reset, idempotent: false })).toBe(NotRetried.NotIdempotent);
    expect(decideRetry({ ...base, budget })).toBe(10);
    expect(decideRetry({ ...base, budget })).toBe(NotRetried.BudgetSpent);
  });
});
