import { describe, expect, it } from 'vitest';
import { toBackendResilience } from '../rules/resilience.js';
import { toRetrySettings } from '../rules/retry.js';
import { fromBackendResilience, fromRouteRetrySettings } from './from-settings.js';
import { RetryPolicy } from './retry.js';

describe('settings from the rules compiler', () => {
  it("maps a backend's Amalgam8 resilience block as Amalgam8 1.x did for Envoy", () => {
    const defaults = fromBackendResilience(toBackendResilience({}));
    expect(defaults).toEqual({
      pool: { connections: 1024 },
      bulkhead: { maxConcurrent: 1024, maxQueue: 1024 },
      outlier: {
        consecutive5xx: 5,
        intervalMs: 10_000,
        baseEjectionTimeMs: 30_000,
        maxEjectionPercent: 100,
        panicThresholdPercent: 50,
      },
      breaker: { trip: { kind: 'consecutive', threshold: 5 }, openDurationMs: 30_000 },
    });
    const custom = toBackendResilience({
      max_connections: 10,
      max_requests: 50,
      max_pending_requests: 0,
      max_requests_per_connection: 100,
      sleep_window: '1.5s',
      consecutive_errors: 3,
      detection_interval: 2,
    });
    const h1 = fromBackendResilience(custom);
    expect(h1.pool).toEqual({ connections: 10, maxRequestsPerClient: 100 });
    expect(h1.bulkhead).toEqual({ maxConcurrent: 10, maxQueue: 0 }); // HTTP/1.1: one request per connection
    expect(fromBackendResilience(custom, { http2: true }).bulkhead.maxConcurrent).toBe(50);
    expect(h1.outlier).toMatchObject({ consecutive5xx: 3, intervalMs: 2_000, baseEjectionTimeMs: 1_500 });
  });

  it("maps a route's retry settings into a working RetryPolicy", () => {
    const settings = toRetrySettings(undefined, {
      attempts: 2,
      retry_on: ['gateway-error', 'retriable-status-codes'],
      retriable_status_codes: [409],
      per_try_timeout: '250ms',
      backoff: { base: '10ms', max: '1s' },
    });
    if (settings === undefined) throw new Error('expected settings');
    const options = fromRouteRetrySettings(settings, 15_000);
    expect(options).toEqual({
      maxAttempts: 3,
      retryOn: ['gateway-error', 'retriable-status-codes'],
      retriableStatusCodes: [409],
      backoff: { baseMs: 10, maxMs: 1_000, jitter: 'full' },
      perTryTimeoutMs: 250,
      overallTimeoutMs: 15_000,
    });
    const retry = new RetryPolicy({ ...options, budget: false });
    expect([retry.isRetryable(409), retry.isRetryable(503), retry.isRetryable(500)]).toEqual([true, true, false]);
    expect(fromRouteRetrySettings({ ...settings, retryOn: ['5xx', 'refused-stream'] }).retryOn).toEqual(['5xx']);
  });
});
