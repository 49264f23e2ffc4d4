import { describe, expect, it } from 'vitest';
import { CircuitOpenError, RateLimitedError, RetriesExhaustedError, TimeoutError } from './errors.js';
import {
  isGatewayError,
  isNeutral,
  isServerError,
  Outcome,
  outcomeOfError,
  outcomeOfResult,
  outcomeWord,
} from './outcome.js';

describe('outcome classification', () => {
  it('reads statuses from fetch and undici responses, 200 otherwise', () => {
    expect(outcomeOfResult({ status: 503 })).toBe(503);
    expect(outcomeOfResult({ statusCode: 429 })).toBe(429);
    expect(outcomeOfResult({ status: 'ok' })).toBe(Outcome.Success);
    expect(outcomeOfResult({ status: 42 })).toBe(Outcome.Success);
    expect(outcomeOfResult('plain')).toBe(Outcome.Success);
    expect(outcomeOfResult(null)).toBe(Outcome.Success);
  });

  it('maps Node and undici error codes, following the cause chain of "fetch failed"', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    expect(outcomeOfError(new TypeError('fetch failed', { cause: refused }))).toBe(Outcome.ConnectFailure);
    expect(outcomeOfError(Object.assign(new Error('x'), { code: 'UND_ERR_SOCKET' }))).toBe(Outcome.Reset);
    expect(outcomeOfError(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe(Outcome.Reset);
    expect(outcomeOfError(Object.assign(new Error('x'), { code: 'UND_ERR_HEADERS_TIMEOUT' }))).toBe(Outcome.Timeout);
    expect(outcomeOfError(new DOMException('t', 'TimeoutError'))).toBe(Outcome.Timeout);
    expect(outcomeOfError(new DOMException('a', 'AbortError'))).toBe(Outcome.Cancelled);
    expect(outcomeOfError(Object.assign(new Error('bad gateway'), { status: 502 }))).toBe(502);
    expect(outcomeOfError(new Error('bug'))).toBe(Outcome.Error);
    expect(outcomeOfError('a string')).toBe(Outcome.Error);
  });

  it("maps Weft's own errors by code", () => {
    expect(outcomeOfError(new TimeoutError(10, 10))).toBe(Outcome.Timeout);
    expect(outcomeOfError(new CircuitOpenError('open', 5))).toBe(Outcome.Rejected);
    expect(outcomeOfError(new RateLimitedError(250))).toBe(Outcome.RateLimited);
    const exhausted = new RetriesExhaustedError({
      attempts: [{ attempt: 1, outcome: 503, status: 503, durationMs: 1 }],
    });
    expect(outcomeOfError(exhausted)).toBe(503);
  });

  it('puts outcomes in the right classes', () => {
    expect([500, 503, Outcome.Timeout, Outcome.Error, Outcome.Reset].every(isServerError)).toBe(true);
    expect([200, 404, Outcome.Cancelled, Outcome.Rejected, Outcome.RateLimited].some(isServerError)).toBe(false);
    expect([502, 503, 504, Outcome.ConnectFailure, Outcome.Reset, Outcome.Timeout].every(isGatewayError)).toBe(true);
    expect([500, 501, Outcome.Error, 200].some(isGatewayError)).toBe(false);
    expect([Outcome.Cancelled, Outcome.Rejected, Outcome.RateLimited].every(isNeutral) && !isNeutral(500)).toBe(true);
    expect([Outcome.Rejected, Outcome.RateLimited, Outcome.Cancelled, 429].map(outcomeWord)).toEqual([
      'rejected',
      'rate-limited',
      'cancelled',
      '429',
    ]);
  });
});
