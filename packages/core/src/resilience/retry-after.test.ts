import { describe, expect, it } from 'vitest';
import { RateLimitedError } from './errors.js';
import { parseRetryAfter, retryAfterOf } from './retry-after.js';

const NOW = Date.parse('2026-01-01T00:00:00Z');

describe('Retry-After', () => {
  it('parses delay-seconds and HTTP dates', () => {
    expect(parseRetryAfter('120', NOW)).toBe(120_000);
    expect(parseRetryAfter(' 1.5 ', NOW)).toBe(1_500);
    expect(parseRetryAfter(3, NOW)).toBe(3_000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', NOW)).toBe(30_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', NOW)).toBe(0);
    expect(parseRetryAfter('soon', NOW)).toBeUndefined();
    expect(parseRetryAfter(-1, NOW)).toBeUndefined();
    expect(parseRetryAfter(undefined, NOW)).toBeUndefined();
  });

  it('finds the hint on fetch responses, undici responses and Weft errors', () => {
    expect(retryAfterOf(new Response(null, { status: 503, headers: { 'Retry-After': '2' } }), NOW)).toBe(2_000);
    expect(retryAfterOf({ statusCode: 429, headers: { 'retry-after': '4' } }, NOW)).toBe(4_000);
    expect(retryAfterOf({ statusCode: 429, headers: { 'retry-after': ['5', '6'] } }, NOW)).toBe(5_000);
    expect(retryAfterOf(new RateLimitedError(250), NOW)).toBe(250);
    expect(retryAfterOf(new Response(null, { status: 503 }), NOW)).toBeUndefined();
    expect(retryAfterOf(new Error('x'), NOW)).toBeUndefined();
  });
});
