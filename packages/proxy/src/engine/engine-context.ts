import type { Authorizer, Clock, RateLimitSettings } from '@weft/core';
import type { Pool } from 'undici';
import type { AccessLogSink } from '../telemetry/access-log.js';
import type { MeshMetrics } from '../telemetry/metrics.js';
import type { MeshTracing } from '../telemetry/tracing.js';
import type { DeadlineSweeper } from './deadlines.js';
import type { LoopHold } from './loop-hold.js';
import type { MeshEngineOptions, PoolFactory } from './options.js';
import type { RateLimits } from './rate-limit.js';
import type { RoutePlan, Router } from './route.js';
import type { Discovery, LbPolicy } from './types.js';

/**
 * What a call, a service table and a mirror need of their engine. `MeshEngine` implements it;
 * they depend on this, not on the engine that creates them, so the engine's files import one
 * another in one direction only (engine → call → service-table, mirror).
 */
export interface EngineContext {
  readonly options: MeshEngineOptions;
  /** Makes per-endpoint pools. */
  readonly createPool: PoolFactory;
  readonly poolOptions: Pool.Options;
  readonly discovery: Discovery;
  readonly clock: Clock;
  /** With the system clock, `timeOrigin + performance.now()` is its time (else undefined). */
  readonly timeOrigin: number | undefined;
  readonly router: Router | undefined;
  readonly lbPolicy: LbPolicy;
  /** The plan when no rule applies: the agent's retries and timeout. */
  readonly defaultPlan: RoutePlan;
  readonly replayLimit: number;
  readonly metrics: MeshMetrics | undefined;
  readonly accessLog: AccessLogSink | undefined;
  readonly tracing: MeshTracing;
  /** Generate `x-request-id` when the request has none. */
  readonly requestIds: boolean;
  /** `"name:tag1,tag2"` of the caller, for the access log. */
  readonly src: string;
  /** Overall timeouts of in-flight calls. */
  readonly deadlines: DeadlineSweeper;
  /** Holds the event loop while calls wait on the engine's own (unref'd) timers. */
  readonly loopHold: LoopHold;
  /** Upstreams get the endpoint's address as Host (`hostHeader: 'endpoint'`). */
  readonly hostIsEndpoint: boolean;
  /** Concurrent requests allowed to one endpoint. */
  readonly maxRequestsPerEndpoint: number;
  /** The proxy-wide rate limit (`rateLimit` option) for routes without one; undefined: none. */
  readonly rateLimit: RateLimitSettings | undefined;
  /** The token buckets of every rate limit in use. */
  readonly rateLimits: RateLimits;
  /**
   * The authorization policies calls entering through a front end are judged by (those whose
   * `CallInit` carries a `peer`); undefined: none. Swapped whole on every policy revision.
   */
  readonly authorizer: Authorizer | undefined;
  /** Calls in flight (the sidecar waits for them on drain). */
  inflight: number;
  /** Mirrored requests in flight (fire-and-forget; capped, not waited for on drain). */
  mirrorsInFlight: number;
}
