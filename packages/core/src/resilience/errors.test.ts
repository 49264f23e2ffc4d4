import { describe, expect, it } from 'vitest';
import { ErrorCodes, isWeftError } from '../errors/index.js';
import {
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
} from './errors.js';

describe('resilience errors', () => {
  const all = [
    new TimeoutError(100, 101.4, 'try'),
    new RetriesExhaustedError({ attempts: [{ attempt: 1, outcome: -2, durationMs: 3 }] }),
    new RetryBudgetExhaustedError(),
    new CircuitOpenError('open', 1_234),
    new BulkheadFullError('queue-timeout', 4, 8),
    new RateLimitedError(250),
  ];
  const guards = [
    isTimeoutError,
    isRetriesExhaustedError,
    isRetryBudgetExhaustedError,
    isCircuitOpenError,
    isBulkheadFullError,
    isRateLimitedError,
  ];

  it('are coded Weft errors whose status comes from the catalogue', () => {
    for (const e of all) {
      expect(isWeftError(e)).toBe(true);
      expect(e.status).toBe(ErrorCodes[e.code].status);
    }
    expect(all.map((e) => e.status)).toEqual([504, 504, 503, 503, 503, 429]);
  });

  it('each type guard recognises exactly its own error', () => {
    guards.forEach((guard, i) => {
      expect(all.map((e) => guard(e))).toEqual(all.map((_, j) => j === i));
      expect(guard(new Error('plain'))).toBe(false);
    });
  });

  it('say what happened in words and in JSON', () => {
    expect(all[0]?.message).toBe('Per-try timeout of 100 ms expired after 101 ms');
    expect(all[1]?.message).toBe('Gave up after 1 attempts: #1 reset in 3 ms');
    expect(all[3]?.message).toBe('Circuit breaker is open for another 1234 ms');
    expect(all[4]?.message).toMatch(/queue/);
    expect(JSON.parse(JSON.stringify(all[0]))).toEqual({
      code: 'WEFT_ERR_TIMEOUT',
      status: 504,
      message: 'Per-try timeout of 100 ms expired after 101 ms',
      timeoutMs: 100,
      elapsedMs: 101.4,
      scope: 'try',
    });
    expect(JSON.parse(JSON.stringify(all[5]))).toMatchObject({ code: 'WEFT_ERR_RATE_LIMITED', retryAfterMs: 250 });
  });
});
