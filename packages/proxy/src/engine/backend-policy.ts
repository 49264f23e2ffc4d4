import { type BackendResilienceSettings, Bulkhead, type Clock, fromBackendResilience } from '@weft/core';
import type { Pool } from 'undici';
import type { BreakerOptions, OutlierOptions } from './health.js';

const keys = new WeakMap<BackendResilienceSettings, string>();

/**
 * A stable key for a backend's resilience settings: equal settings share one key, so a rule
 * update that keeps a backend's settings keeps its pools, breakers and ejection state.
 */
export function resilienceKey(r: BackendResilienceSettings): string {
  let k = keys.get(r);
  if (k === undefined) {
    const cb = r.circuitBreaker;
    const o = r.outlier;
    k = `${cb.maxConnections}/${cb.maxPendingRequests}/${cb.maxRequests}/${cb.maxRequestsPerConnection ?? '-'}/${o.consecutiveErrors}/${o.intervalMs}/${o.baseEjectionMs}`;
    keys.set(r, k);
  }
  return k;
}

/**
 * The policies of one rule backend that has a `resilience` block, built once per (service,
 * backend) with core's `fromBackendResilience` and shared by every call to that backend: the
 * bulkhead (Amalgam8's `max_requests` / `max_pending_requests`), and the options of the
 * backend's own endpoint pools (`max_connections`, `max_requests_per_connection`), breakers and
 * outlier detector (`consecutive_errors`, `detection_interval`, `sleep_window`).
 */
export class BackendPolicy {
  readonly key: string;
  /** Caps the backend's concurrent calls; `maxQueue` more wait. */
  readonly bulkhead: Bulkhead;
  /** Options of each endpoint's undici Pool (the agent's, with this backend's connection limits). */
  readonly pool: Pool.Options;
  /** Each endpoint's breaker (the agent's, with this backend's threshold and sleep window). */
  readonly breaker: BreakerOptions;
  /** The backend's outlier detection. */
  readonly outlier: OutlierOptions;

  constructor(
    settings: BackendResilienceSettings,
    agent: { pool: Pool.Options; breaker: BreakerOptions | undefined; outlier: OutlierOptions | false | undefined },
    clock: Clock,
  ) {
    this.key = resilienceKey(settings);
    const p = fromBackendResilience(settings);
    // fromBackendResilience fills every field.
    const o = p.outlier as Required<typeof p.outlier>;
    this.bulkhead = new Bulkhead({
      maxConcurrent: Math.max(1, p.bulkhead.maxConcurrent),
      maxQueue: Math.max(0, p.bulkhead.maxQueue ?? 0),
      clock,
    });
    this.pool = { ...agent.pool, ...p.pool };
    this.breaker = {
      ...agent.breaker,
      // The breaker equivalent of the outlier settings (p.breaker): same threshold, sleep window.
      trip: { kind: 'consecutive', threshold: o.consecutive5xx },
      openDurationMs: o.baseEjectionTimeMs,
    };
    const agentOutlier = agent.outlier === false ? undefined : agent.outlier;
    this.outlier = {
      ...agentOutlier,
      // Amalgam8's consecutive_errors counts every failure: 5xx and gateway errors alike.
      consecutive5xx: o.consecutive5xx,
      consecutiveGatewayErrors: o.consecutive5xx,
      baseEjectionTimeMs: o.baseEjectionTimeMs,
      intervalMs: o.intervalMs,
      maxEjectionPercent: o.maxEjectionPercent,
      panicThresholdPercent: o.panicThresholdPercent,
    };
  }
}
