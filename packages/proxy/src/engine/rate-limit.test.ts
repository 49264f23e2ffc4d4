import { compile, type RateLimitSettings, VirtualClock } from '@weft/core';
import { describe, expect, it } from 'vitest';
import {
  RateLimitGroup,
  type RateLimitOptions,
  RateLimits,
  rateLimitedError,
  rateLimitIssues,
  rateLimitSettings,
  retryAfterSeconds,
} from './rate-limit.js';

const settings = (o: Partial<RateLimitSettings> = {}): RateLimitSettings => ({
  ratePerSecond: 10,
  burst: 2,
  perSource: 'none',
  maxSources: 100,
  scope: 'svc/#0/0',
  ...o,
});

/** Takes tokens until the first refusal: how many were admitted, and the wait then (ms). */
function drain(group: RateLimitGroup, source?: string, ip?: string): [admitted: number, waitMs: number] {
  for (let n = 0; n < 10_000; n++) {
    const wait = group.take(source, ip);
    if (wait > 0) return [n, wait];
  }
  throw new Error('never refused');
}

describe('the rateLimit option', () => {
  const cases: Array<[string, RateLimitOptions, Record<string, string>]> = [
    ['no rate', { burst: 1 }, { rateLimit: 'give exactly one of ratePerSecond, ratePerMinute' }],
    [
      'two rates',
      { ratePerSecond: 1, ratePerMinute: 1 },
      { rateLimit: 'give exactly one of ratePerSecond, ratePerMinute' },
    ],
    ['a zero rate', { ratePerSecond: 0 }, { 'rateLimit.ratePerSecond': 'must be a number greater than 0 (got 0)' }],
    [
      'an infinite rate',
      { ratePerMinute: Infinity },
      { 'rateLimit.ratePerMinute': 'must be a number greater than 0 (got null)' },
    ],
    [
      'a fractional burst',
      { ratePerSecond: 1, burst: 0.5 },
      { 'rateLimit.burst': 'must be a whole number >= 1 (got 0.5)' },
    ],
    [
      'no sources kept',
      { ratePerSecond: 1, maxSources: 0 },
      { 'rateLimit.maxSources': 'must be a whole number >= 1 (got 0)' },
    ],
    [
      'an unknown source',
      { ratePerSecond: 1, perSource: 'header' as never },
      { 'rateLimit.perSource': 'must be one of service, client_ip' },
    ],
    ['a valid limit', { ratePerMinute: 30, burst: 3, perSource: 'client_ip', maxSources: 5 }, {}],
  ];
  it.each(cases)('%s', (_name, options, issues) => {
    expect(Object.fromEntries(rateLimitIssues(options).map((i) => [i.path, i.message]))).toEqual(issues);
  });

  it('becomes the settings rules compile to: per minute refills evenly, burst defaults to the count', () => {
    expect(rateLimitSettings({ ratePerMinute: 30 })).toEqual({
      ratePerSecond: 0.5,
      burst: 30,
      perSource: 'none',
      maxSources: 10_000,
      scope: 'proxy',
    });
    expect(rateLimitSettings({ ratePerSecond: 0.2 })).toMatchObject({ burst: 1 });
  });
});

describe('RateLimitGroup', () => {
  it('admits the burst, then refuses until the clock refills a token', () => {
    const clock = new VirtualClock();
    const group = new RateLimitGroup(settings({ ratePerSecond: 4, burst: 3 }), clock);
    expect(drain(group)).toEqual([3, 250]);
    clock.advance(249);
    expect(group.take(undefined, undefined)).toBe(1);
    clock.advance(1);
    expect(group.take(undefined, undefined)).toBe(0);
  });

  it('keeps a bucket per calling service or per client IP, apart from each other', () => {
    const clock = new VirtualClock();
    const bySource = new RateLimitGroup(settings({ perSource: 'service' }), clock);
    expect(drain(bySource, 'a', '127.0.0.2')[0]).toBe(2);
    // Another service from the same address has its own bucket; the address does not matter.
    expect(bySource.take('b', '127.0.0.2')).toBe(0);
    expect(bySource.take('a', '127.0.0.3')).toBeGreaterThan(0);
    const byIp = new RateLimitGroup(settings({ perSource: 'client_ip' }), clock);
    expect(drain(byIp, 'a', '127.0.0.2')[0]).toBe(2);
    expect(byIp.take('a', '127.0.0.3')).toBe(0);
    expect(byIp.size).toBe(2);
  });

  it('bounds per-source buckets: a flood of addresses evicts the least recently used', () => {
    const clock = new VirtualClock();
    const group = new RateLimitGroup(settings({ perSource: 'client_ip', maxSources: 100 }), clock);
    drain(group, undefined, 'steady');
    for (let i = 0; i < 10_000; i++) {
      group.take(undefined, `10.0.${i >> 8}.${i & 255}`);
      // The steady client keeps calling (and stays refused): recently used, so never evicted.
      if (i % 50 === 0) expect(group.take(undefined, 'steady')).toBeGreaterThan(0);
    }
    expect(group.size).toBe(100);
    // The flood's first addresses were dropped: seen again, they start with a full bucket.
    expect(group.take(undefined, '10.0.0.0')).toBe(0);
  });
});

describe('RateLimits', () => {
  it('finds a limit’s buckets by identity, and by scope and values across rule updates', () => {
    const clock = new VirtualClock();
    const limits = new RateLimits(clock);
    const rules = (rate: number) =>
      compile([{ id: 'r', destination: 'svc', route: { backends: [{ rate_limit: { requests_per_second: rate } }] } }]);
    const first = rules(1).evaluate({ destination: 'svc' }).backend?.rateLimit as RateLimitSettings;
    const group = limits.group(first, 'svc');
    expect(limits.group(first, 'svc')).toBe(group);
    // A new revision with the same limit: a new settings object, the same buckets.
    const same = rules(1).evaluate({ destination: 'svc' }).backend?.rateLimit as RateLimitSettings;
    expect(same).not.toBe(first);
    expect(limits.group(same, 'svc')).toBe(group);
    // A changed limit starts new buckets.
    const changed = rules(2).evaluate({ destination: 'svc' }).backend?.rateLimit as RateLimitSettings;
    expect(limits.group(changed, 'svc')).not.toBe(group);
    expect(limits.size).toBe(2);
  });

  it('keeps the proxy-wide limit per destination service', () => {
    const limits = new RateLimits(new VirtualClock());
    const proxyWide = rateLimitSettings({ ratePerSecond: 1 });
    expect(limits.group(proxyWide, 'a')).not.toBe(limits.group(proxyWide, 'b'));
    expect(limits.group(proxyWide, 'a')).toBe(limits.group(proxyWide, 'a'));
  });
});

describe('a refusal', () => {
  it.each([
    [1, 1],
    [999, 1],
    [1000, 1],
    [1001, 2],
    [60_000, 60],
  ])('waits %i ms: Retry-After %i s', (ms, seconds) => {
    expect(retryAfterSeconds(ms)).toBe(seconds);
  });

  it('is a coded 429 that says which limit refused and when to retry', () => {
    const call = { service: 'svc', requestId: 'r1', method: 'GET', path: '/x' };
    const err = rateLimitedError(call, rateLimitSettings({ ratePerMinute: 30, perSource: 'client_ip' }), 1500);
    expect([err.code, err.status, err.retryAfterMs, err.attempts]).toEqual(['WEFT_ERR_RATE_LIMITED', 429, 1500, []]);
    expect(err.message).toBe(
      "GET svc/x refused by the proxy's rate limit: 30 requests per minute (burst 30) per client_ip; retry in 2 s",
    );
    expect(err.toJSON()).toMatchObject({ code: 'WEFT_ERR_RATE_LIMITED', retry_after_ms: 1500, request_id: 'r1' });
  });
});
