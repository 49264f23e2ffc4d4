import {
  type Authorizer,
  type Clock,
  DEFAULT_TIMEOUT_MS,
  InvalidArgumentError,
  type RateLimitSettings,
  type RetryBudget,
  systemClock,
  type TimerHandle,
  type ValidationIssue,
} from '@weft/core';
import type { Dispatcher, Pool } from 'undici';
import { type AccessLogSink, pinoAccessLog } from '../telemetry/access-log.js';
import { MeshMetrics, type MetricsRegistry } from '../telemetry/metrics.js';
import { MeshTracing } from '../telemetry/tracing.js';
import { type AuthorizationInput, toAuthorizer } from './authorization.js';
import { MeshCall } from './call.js';
import { DeadlineSweeper } from './deadlines.js';
import type { EngineContext } from './engine-context.js';
import { LoopHold } from './loop-hold.js';
import type { CallInit, MeshEngineOptions, PoolFactory } from './options.js';
import { RateLimits, rateLimitIssues, rateLimitSettings } from './rate-limit.js';
import { toRetryPlanAt } from './retry-plan.js';
import { defaultPlan, type RoutePlan, type Router } from './route.js';
import { type EndpointEntry, recordOutcome, ServiceTable } from './service-table.js';
import type { Discovery, LbPolicy } from './types.js';

export type { CallInit, EndpointPool, MeshEngineOptions, PoolFactory } from './options.js';

/** How often subsets of rule backends are checked for disuse (freed after two idle periods). */
const SUBSET_SWEEP_MS = 60_000;

/**
 * A {@link MeshMetrics}, recognised by shape rather than `instanceof`: one made by the other
 * build of @weft/proxy (ESM next to CommonJS) is as good, and must not be mistaken for nothing.
 */
function isMeshMetrics(value: unknown): value is MeshMetrics {
  const m = value as Partial<Record<'counters' | 'text', unknown>> | undefined;
  return typeof m?.counters === 'function' && typeof m.text === 'function';
}

/** A prom-client registry, recognised by shape so prom-client itself is never imported here. */
function isRegistry(value: unknown): value is MetricsRegistry {
  return typeof (value as { registerMetric?: unknown } | undefined)?.registerMetric === 'function';
}

function validate(options: MeshEngineOptions): void {
  const issues: ValidationIssue[] = [];
  if (options === null || typeof options !== 'object') {
    throw new InvalidArgumentError('mesh options', [{ path: '', message: 'must be an object' }]);
  }
  const d = options.discovery as { endpoints?: unknown } | undefined;
  if (d === undefined || typeof d.endpoints !== 'function')
    issues.push({ path: 'discovery', message: 'must be a Discovery' });
  const nonNegative = (path: string, v: unknown) => {
    if (v !== undefined && (typeof v !== 'number' || !(v >= 0) || !Number.isFinite(v)))
      issues.push({ path, message: `must be a non-negative number (got ${JSON.stringify(v)})` });
  };
  nonNegative('timeoutMs', options.timeoutMs);
  if (options.hostHeader !== undefined && options.hostHeader !== 'authority' && options.hostHeader !== 'endpoint')
    issues.push({
      path: 'hostHeader',
      message: `must be "authority" or "endpoint" (got ${JSON.stringify(options.hostHeader)})`,
    });
  nonNegative('replayBufferBytes', options.replayBufferBytes);
  if (options.identity !== undefined && (typeof options.identity.name !== 'string' || options.identity.name === ''))
    issues.push({ path: 'identity.name', message: 'must be a non-empty string' });
  issues.push(...rateLimitIssues(options.rateLimit));
  if (issues.length > 0) throw new InvalidArgumentError('mesh options', issues);
}

/**
 * The request engine behind {@link MeshAgent} and the sidecar: per-service endpoint tables, the
 * per-endpoint pools, routing, retries, health feedback and telemetry. One per agent.
 */
export class MeshEngine implements EngineContext {
  readonly options: MeshEngineOptions;
  /** Makes per-endpoint pools. */
  readonly createPool: PoolFactory;
  readonly discovery: Discovery;
  readonly clock: Clock;
  readonly router: Router | undefined;
  readonly lbPolicy: LbPolicy;
  readonly defaultPlan: RoutePlan;
  readonly poolOptions: Pool.Options;
  readonly replayLimit: number;
  readonly metrics: MeshMetrics | undefined;
  readonly accessLog: AccessLogSink | undefined;
  readonly tracing: MeshTracing;
  readonly requestIds: boolean;
  /** `"name:tag1,tag2"` of the caller, for the access log. */
  readonly src: string;
  /** Overall timeouts of in-flight calls. */
  readonly deadlines: DeadlineSweeper;
  /**
   * With the system clock, its time is `timeOrigin + performance.now()`: a call that read
   * `performance.now()` already knows the clock's time without reading it again.
   */
  readonly timeOrigin: number | undefined;
  /** Holds the event loop while calls wait on the engine's own (unref'd) timers. */
  readonly loopHold = new LoopHold();
  /** Upstreams get the endpoint's address as Host (`hostHeader: 'endpoint'`). */
  readonly hostIsEndpoint: boolean;
  private readonly tables = new Map<string, ServiceTable>();
  private readonly onChange: (service: string) => void;
  /** Frees rule-backend subsets left unused. */
  private readonly subsetSweeper: TimerHandle;
  private closed = false;
  /** Concurrent requests allowed to one endpoint. */
  readonly maxRequestsPerEndpoint: number;
  /** The proxy-wide rate limit for routes without one (`rateLimit` option). */
  readonly rateLimit: RateLimitSettings | undefined;
  /** The token buckets of every rate limit in use. */
  readonly rateLimits: RateLimits;
  /** The authorization policies in force (see {@link MeshEngine.setAuthorization}). */
  authorizer: Authorizer | undefined;
  /** Calls in flight (the sidecar waits for them on drain). */
  inflight = 0;
  /** Mirrored requests in flight (fire-and-forget; capped, not waited for on drain). */
  mirrorsInFlight = 0;

  constructor(options: MeshEngineOptions, createPool: PoolFactory) {
    validate(options);
    // First, so a refused tracer (no @opentelemetry/api) leaves nothing behind.
    this.tracing = new MeshTracing(options.tracer);
    this.options = options;
    this.createPool = createPool;
    this.discovery = options.discovery;
    this.clock = options.clock ?? systemClock;
    this.timeOrigin = this.clock === systemClock ? performance.timeOrigin : undefined;
    this.deadlines = new DeadlineSweeper(this.clock);
    this.maxRequestsPerEndpoint = options.breaker?.maxRequests ?? 1024;
    this.rateLimit = options.rateLimit === undefined ? undefined : rateLimitSettings(options.rateLimit);
    this.rateLimits = new RateLimits(this.clock);
    this.authorizer = toAuthorizer(options.authorization);
    this.router = options.router;
    this.lbPolicy = options.lbPolicy ?? 'least_request';
    this.defaultPlan = defaultPlan(
      options.retry === false ? undefined : toRetryPlanAt('retry', options.retry ?? {}),
      options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    );
    this.hostIsEndpoint = options.hostHeader === 'endpoint';
    this.poolOptions = {
      keepAliveTimeout: 4_000,
      keepAliveMaxTimeout: 60_000,
      keepAliveTimeoutThreshold: 1_000,
      ...options.pool,
    };
    this.replayLimit = options.replayBufferBytes ?? 64 * 1024;
    this.metrics =
      options.metrics === false
        ? undefined
        : isMeshMetrics(options.metrics)
          ? options.metrics
          : new MeshMetrics(isRegistry(options.metrics) ? options.metrics : undefined);
    this.accessLog =
      options.accessLog === true ? pinoAccessLog() : options.accessLog === false ? undefined : options.accessLog;
    this.requestIds = options.requestId !== false;
    const id = options.identity;
    this.src = id === undefined ? '-' : `${id.name}:${(id.tags ?? []).join(',')}`;
    this.onChange = (service) => {
      const t = this.tables.get(service);
      if (t !== undefined) t.dirty = true;
    };
    this.discovery.on('change', this.onChange);
    this.subsetSweeper = this.clock.setInterval(() => {
      for (const t of this.tables.values()) t.sweepUnused();
    }, SUBSET_SWEEP_MS);
  }

  /** True when `host` names a mesh service: Discovery knows it, or a rule names it. */
  isMeshService(host: string): boolean {
    if (this.tables.has(host)) return true;
    if (this.discovery.endpoints(host, { status: ['UP', 'STARTING', 'OUT_OF_SERVICE'] }).revision > 0) return true;
    const named = this.router?.services?.();
    return named?.includes(host) === true;
  }

  /** The table of `service` (created on first use). */
  table(service: string): ServiceTable {
    let t = this.tables.get(service);
    if (t === undefined) {
      t = new ServiceTable(service, this);
      this.tables.set(service, t);
    }
    return t;
  }

  /** Known tables (admin `/debug/endpoints`). */
  allTables(): IterableIterator<ServiceTable> {
    return this.tables.values();
  }

  /** The retry budget of `service`, or undefined when budgets are off. */
  budget(service: string): RetryBudget | undefined {
    return this.table(service).budget;
  }

  /**
   * Starts a call to `service`; the handler gets undici's v2 callbacks. `authority` is the Host
   * to send when the caller set none (MeshAgent: the origin's host); ignored with
   * `hostHeader: 'endpoint'`.
   */
  call(
    service: string,
    opts: Dispatcher.DispatchOptions,
    handler: Dispatcher.DispatchHandler,
    init?: CallInit,
    authority?: string,
  ): MeshCall {
    const call = new MeshCall(this, this.table(service), opts, handler, init, authority);
    call.start();
    return call;
  }

  /** Feeds an attempt outcome to the outlier detection of the endpoint's group. */
  recordOutcome(entry: EndpointEntry, outcome: number): void {
    recordOutcome(entry, outcome);
  }

  /** Stops taking Discovery changes and every timer of the engine's own. */
  private detach(): void {
    this.closed = true;
    this.discovery.off('change', this.onChange);
    this.subsetSweeper.clear();
    this.deadlines.clear();
    this.loopHold.close();
  }

  /** Closes every pool (in-flight requests finish first) and detaches from Discovery. */
  /**
   * Puts new authorization policies in force, whole: a call is judged by the old set or the new
   * one, never a mix. Undefined removes them (every call allowed).
   *
   * @throws InvalidArgumentError naming every bad field of a document (the old policies stay).
   */
  setAuthorization(authorization: AuthorizationInput | undefined): void {
    this.authorizer = toAuthorizer(authorization);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.detach();
    await Promise.all([...this.tables.values()].map((t) => t.close()));
    this.tables.clear();
    await this.accessLog?.flush?.();
  }

  /** Destroys every pool at once. */
  async destroy(): Promise<void> {
    this.detach();
    await Promise.all(
      [...this.tables.values()].flatMap((t) => [...t.allEntries()].map((e) => e.pool.destroy().catch(() => undefined))),
    );
    this.tables.clear();
  }
}
