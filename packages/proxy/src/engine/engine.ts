import {
  type Clock,
  DEFAULT_TIMEOUT_MS,
  InvalidArgumentError,
  type RetryBudget,
  systemClock,
  type TimerHandle,
  type ValidationIssue,
} from '@weft/core';
import type { Dispatcher, Pool } from 'undici';
import { type AccessLogSink, pinoAccessLog } from '../telemetry/access-log.js';
import { MeshMetrics, type MetricsRegistry } from '../telemetry/metrics.js';
import type { MeshTracer } from '../telemetry/otel.js';
import { MeshTracing } from '../telemetry/tracing.js';
import { MeshCall } from './call.js';
import { DeadlineSweeper } from './deadlines.js';
import type { BreakerOptions, BreakerState, OutlierOptions, RetryBudgetOptions } from './health.js';
import { LoopHold } from './loop-hold.js';
import { defaultPlan, type MeshIdentity, RetryOn, type RetryPlan, type RoutePlan, type Router } from './route.js';
import { type EndpointEntry, ServiceTable } from './service-table.js';
import type { Discovery, LbPolicy } from './types.js';

/** Retry settings of the agent (used when no rule sets its own). */
export interface RetryOptions {
  /** Retries after the first try. Default 2. */
  attempts?: number;
  /**
   * What to retry: `connect-failure` (always safe), `reset` and `timeout` (idempotent requests
   * only), `gateway-error` (502/503/504), `5xx`. Default `['connect-failure', 'reset']`: an application's own 5xx answers pass through.
   */
  retryOn?: ReadonlyArray<'connect-failure' | 'reset' | 'timeout' | 'gateway-error' | '5xx'>;
  /** Retry these statuses too. */
  statusCodes?: readonly number[];
  /** Per-try timeout to response headers, ms. Default none. */
  perTryTimeoutMs?: number;
  /** First backoff, ms; doubles per retry with full jitter. Default 25. */
  backoffBaseMs?: number;
  /** Longest backoff, ms. Default 250. */
  backoffMaxMs?: number;
}

/**
 * What the engine needs of a per-endpoint connection pool: undici's `Pool` (MeshAgent) or the
 * sidecar's own HTTP/1.1 pool. Both take undici's dispatch options and v2 handlers.
 */
export interface EndpointPool {
  dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean;
  close(): Promise<void>;
  destroy(): Promise<void>;
}

/** Makes the pool of one endpoint (`origin` is `http://host:port` or `https://…`). */
export type PoolFactory = (origin: string, options: Pool.Options) => EndpointPool;

/** Options shared by {@link MeshAgent} and the sidecar. */
export interface MeshEngineOptions {
  /** Where endpoints come from. */
  discovery: Discovery;
  /** The caller's identity, for source-matched rules and the access log's `src`. */
  identity?: MeshIdentity;
  /** Routing, fault and retry rules (see `rulesRouter`). Default: every request to every instance. */
  router?: Router;
  /** Load-balancing policy when a rule names none. Default `least_request`. */
  lbPolicy?: LbPolicy;
  /** Retries when a rule sets none; `false` disables them. */
  retry?: RetryOptions | false;
  /**
   * Overall timeout to response headers when the route sets none, ms; `0` for none. Default
   * 15 000: Amalgam8's default `http_req_timeout`, and Envoy's default route timeout, so an
   * upstream that never answers cannot hold a call for undici's 300 s. A rule's
   * `http_req_timeout` wins; routes compiled by `rulesRouter` without one take its compile
   * option `defaultTimeoutMs` (also 15 s by default).
   */
  timeoutMs?: number;
  /**
   * The `Host` header upstreams get. `'authority'` (default): the request's own authority, as
   * Envoy and Linkerd forward it — MeshAgent sends the origin's host (`reviews` for
   * `fetch('http://reviews/…')`, or the `host` header the caller set), the sidecar the client's
   * Host when it routed by Host and the service name when it routed by path. `'endpoint'`: the
   * address of the instance each attempt goes to (`10.0.0.7:9080`), like Envoy's
   * `auto_host_rewrite`, for upstreams that check Host against their own address.
   */
  hostHeader?: 'authority' | 'endpoint';
  /** Retry budget per destination service; `false` disables it. */
  retryBudget?: RetryBudgetOptions | false;
  /** Circuit breaker per endpoint. */
  breaker?: BreakerOptions;
  /** Outlier ejection; `false` disables it. */
  outlier?: OutlierOptions | false;
  /** A streamed request body is recorded up to this many bytes so it can be retried. Default 64 KiB. */
  replayBufferBytes?: number;
  /**
   * Options of the per-endpoint undici Pool. Defaults retire idle sockets before common server
   * idle timeouts: `keepAliveTimeout` 4 s, `keepAliveMaxTimeout` 60 s, `keepAliveTimeoutThreshold` 1 s.
   */
  pool?: Pool.Options;
  /** Access log: a sink, `true` for pino on stdout, `false` (default for MeshAgent) for none. */
  accessLog?: AccessLogSink | boolean;
  /**
   * Metrics: a {@link MeshMetrics}, a prom-client registry to register into, or `false`. Default: a
   * {@link MeshMetrics} of its own (read with `metrics.text()`; prom-client is not loaded).
   */
  metrics?: MeshMetrics | MetricsRegistry | false;
  /**
   * OpenTelemetry: a tracer to use (`trace.getTracer('my-service')`), `false` to never trace;
   * default the global provider's when one is registered. Tracing needs `@opentelemetry/api`, an
   * optional peer dependency: without it there is no tracing, and a `tracer` passed here is
   * refused with `WEFT_ERR_MISSING_PEER_DEPENDENCY`.
   */
  tracer?: MeshTracer | false;
  /** Generate `x-request-id` when the request has none. Default true. */
  requestId?: boolean;
  /** Clock for breakers, ejections and budgets. Default the system clock. */
  clock?: Clock;
}

/** How often subsets of rule backends are checked for disuse (freed after two idle periods). */
const SUBSET_SWEEP_MS = 60_000;

const RETRY_ON_BITS: Record<string, number> = {
  'connect-failure': RetryOn.ConnectFailure,
  reset: RetryOn.Reset,
  timeout: RetryOn.Timeout,
  'gateway-error': RetryOn.GatewayError,
  '5xx': RetryOn.ServerError,
  'retriable-status-codes': RetryOn.StatusCodes,
};

/** Turns retry options (agent options or a rule's `retry_on` names) into a {@link RetryPlan}. */
export function toRetryPlan(options: RetryOptions): RetryPlan {
  let bits = 0;
  for (const name of options.retryOn ?? ['connect-failure', 'reset']) bits |= RETRY_ON_BITS[name] ?? 0;
  if (options.statusCodes !== undefined && options.statusCodes.length > 0) bits |= RetryOn.StatusCodes;
  return Object.freeze({
    attempts: options.attempts ?? 2,
    retryOn: bits,
    ...(options.statusCodes === undefined ? {} : { statusCodes: options.statusCodes }),
    ...(options.perTryTimeoutMs === undefined ? {} : { perTryTimeoutMs: options.perTryTimeoutMs }),
    backoffBaseMs: options.backoffBaseMs ?? 25,
    backoffMaxMs: options.backoffMaxMs ?? 250,
  });
}

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
  if (options.retry) {
    nonNegative('retry.attempts', options.retry.attempts);
    nonNegative('retry.perTryTimeoutMs', options.retry.perTryTimeoutMs);
    for (const name of options.retry.retryOn ?? [])
      if (RETRY_ON_BITS[name] === undefined)
        issues.push({ path: 'retry.retryOn', message: `unknown condition ${JSON.stringify(name)}` });
  }
  if (options.identity !== undefined && (typeof options.identity.name !== 'string' || options.identity.name === ''))
    issues.push({ path: 'identity.name', message: 'must be a non-empty string' });
  if (issues.length > 0) throw new InvalidArgumentError('mesh options', issues);
}

/**
 * The request engine behind {@link MeshAgent} and the sidecar: per-service endpoint tables, the
 * per-endpoint pools, routing, retries, health feedback and telemetry. One per agent.
 */
export class MeshEngine {
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
    this.router = options.router;
    this.lbPolicy = options.lbPolicy ?? 'least_request';
    this.defaultPlan = defaultPlan(
      options.retry === false ? undefined : toRetryPlan(options.retry ?? {}),
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
    if (entry.retired) return;
    entry.group.record(entry, outcome);
  }

  /** A breaker changed state. */
  onBreakerChange(entry: EndpointEntry, state: BreakerState): void {
    this.metrics?.breaker(entry.service, entry.address, state, entry.group.label);
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

/** Per-call extras the sidecar passes. */
export interface CallInit {
  /** The request id to use (an incoming `x-request-id`). */
  requestId?: string;
  /** Lower-case names of headers to drop before forwarding (hop-by-hop). */
  dropHeaders?: ReadonlySet<string>;
  /** Extra headers to append (flat `[name, value, ...]`). */
  extraHeaders?: readonly string[];
  /** Path to route on (after the sidecar stripped `/<service>`), when different from `opts.path`. */
  routePath?: string;
  /** Request headers as a lower-case record (node:http's `req.headers`), read by the rules without copying. */
  headerRecord?: Readonly<Record<string, string | string[] | undefined>>;
  /** A streamed body larger than this fails the call (sidecar body limit). */
  maxBodyBytes?: number;
  /**
   * Headers of the incoming request this call is made for (MeshAgent's `withIncoming`), flat
   * `[lowerName, value, …]`, that the outgoing request does not set itself: they are sent, and
   * the rules and the trace context see them as the request's own.
   */
  inherited?: readonly string[];
}
