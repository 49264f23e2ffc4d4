import type { Duplex } from 'node:stream';
import {
  type Bulkhead,
  type ErrorCode,
  Outcome,
  outcomeOfError,
  outcomeWord,
  parseRetryAfter,
  type RateLimitSettings,
  type TimerHandle,
} from '@weft/core';
import type { Dispatcher } from 'undici';
import { InjectedResetError, type MeshAttempt, MeshRequestError, NO_ROUTE_CODE } from '../errors.js';
import { reasonPhrase } from '../http1/status-text.js';
import { formatTraceparent, parseTraceparent } from '../telemetry/tracing.js';
import { admit, admitAnother, admitRate, NO_ENDPOINT, pickEndpoint, refusalText } from './admission.js';
import { Attempt, type AttemptOwner } from './attempt.js';
import { authorize } from './authorization.js';
import { BodySource, BodyTooLargeError } from './body.js';
import { CallExtras } from './call-extras.js';
import { writeAccessLog } from './call-telemetry.js';
import type { DeadlineList, HasDeadline } from './deadlines.js';
import type { EngineContext } from './engine-context.js';
import { failureText, notRetriedText } from './failure-text.js';
import { getHeader } from './headers.js';
import { sendMirror } from './mirror.js';
import type { CallInit } from './options.js';
import { AS_GIVEN, flatHeader, planOutgoingHeaders } from './outgoing-headers.js';
import { rateLimitedError } from './rate-limit.js';
import { nextRequestId } from './request-id.js';
import { decideRetry, NotRetried } from './retry-decision.js';
import type { RetryPlan } from './retry-plan.js';
import { isRouteFailure, RESET_FAULT, type RoutePlan } from './route.js';
import { type EndpointEntry, recordOutcome, type ServiceTable, type Subset } from './service-table.js';
import type { Picker } from './types.js';

type Controller = Dispatcher.DispatchController;
type Handler = Dispatcher.DispatchHandler;
type Headers = Record<string, string | string[] | undefined>;
type RawHeaders = Exclude<Controller['rawHeaders'], undefined>;

const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE', 'QUERY']);
/** Bodies of responses discarded for a retry are drained (keeping the socket) up to this size. */
const DRAIN_LIMIT = 64 * 1024;

const now = (): number => performance.now();

/** Maps an undici / Node error to a core outcome code (core's classifier; follows `cause` chains). */
export const classifyError = outcomeOfError;

/**
 * An error a pool raised about the request or its configuration before anything was sent:
 * undici's `InvalidArgumentError` (`UND_ERR_INVALID_ARG`: an invalid header, method or path) or
 * the sidecar pool's `WEFT_ERR_INVALID_ARGUMENT` (an endpoint it cannot serve).
 */
function isCallerError(error: Error): boolean {
  const code = (error as { code?: unknown }).code;
  return code === 'UND_ERR_INVALID_ARG' || (error instanceof MeshRequestError && code === 'WEFT_ERR_INVALID_ARGUMENT');
}

/**
 * True when a reset hit a socket that had served a response before, and no byte of this
 * attempt's response had arrived: the server may have closed the idle keep-alive socket just as
 * the request was written (the race every keep-alive client has), so one transparent retry on a
 * new connection is in order. A fresh connection that fails is a real failure (normal policy).
 *
 * - The sidecar's {@link Http1Pool} marks such errors `reusedSocket: true`.
 * - undici's Pool gives no such flag, but its `SocketError` (`UND_ERR_SOCKET`: "other side
 *   closed", what a keep-alive client sees when the server closed first) carries the socket's
 *   counters (`socket.bytesRead`, a documented field): bytes read before this attempt's response
 *   started can only be earlier responses on the same socket (undici sends one request at a time
 *   per connection by default). A bare `ECONNRESET` from undici carries no counters and is
 *   taken as a real failure: when in doubt, the normal retry policy applies.
 */
function onReusedSocket(error: Error): boolean {
  const e = error as { reusedSocket?: unknown; code?: unknown; socket?: { bytesRead?: unknown } | null };
  if (e.reusedSocket === true) return true;
  const read = e.code === 'UND_ERR_SOCKET' ? e.socket?.bytesRead : undefined;
  return typeof read === 'number' && read > 0;
}

/** An upstream answer's `Retry-After`, ms (-1 for none): read only for answers that may be retried. */
function retryAfterOf(headers: Headers): number {
  const raw = headers['retry-after'];
  if (raw === undefined) return -1;
  return parseRetryAfter(Array.isArray(raw) ? raw[0] : raw, Date.now()) ?? -1;
}

/** The fields of `Dispatcher.DispatchOptions` undici's Request reads, copied into one fixed shape. */
class SendOptions {
  readonly method: string;
  readonly path: string;
  readonly headers: Dispatcher.DispatchOptions['headers'];
  body: Dispatcher.DispatchOptions['body'];
  readonly query: unknown;
  readonly idempotent: boolean | undefined;
  readonly blocking: boolean | undefined;
  readonly upgrade: unknown;
  readonly headersTimeout: number | null | undefined;
  readonly bodyTimeout: number | null | undefined;
  readonly reset: boolean | undefined;
  readonly expectContinue: boolean | undefined;
  readonly typeOfService: number | null | undefined;
  readonly servername: unknown;

  constructor(o: Dispatcher.DispatchOptions, path: string, headers: Dispatcher.DispatchOptions['headers']) {
    this.method = o.method;
    this.path = path;
    this.headers = headers;
    this.body = o.body ?? null;
    this.query = o.query;
    this.idempotent = o.idempotent;
    this.blocking = o.blocking;
    this.upgrade = o.upgrade;
    this.headersTimeout = o.headersTimeout;
    this.bodyTimeout = o.bodyTimeout;
    this.reset = o.reset;
    this.expectContinue = o.expectContinue;
    this.typeOfService = o.typeOfService;
    this.servername = (o as { servername?: unknown }).servername;
  }
}

/**
 * One request through the mesh: route, faults, pick, attempt, feedback, retry, telemetry. It is
 * also the stable {@link Dispatcher.DispatchController} the caller's handler sees across retries
 * (pause / resume / abort always reach the attempt in flight).
 */
export class MeshCall implements Controller, HasDeadline, AttemptOwner {
  readonly requestId: string;
  attempt: Attempt | undefined;
  committed: Attempt | undefined;
  paused = false;
  private aborted_ = false;
  private finished = false;
  /** Cold state, created on first use (see {@link CallExtras}). */
  private x: CallExtras | undefined = undefined;
  private plan!: RoutePlan;
  private retry: RetryPlan | undefined;
  private subset!: Subset;
  private sendOpts!: Dispatcher.DispatchOptions;
  private body: BodySource | undefined;
  private readonly startedAt = now();
  private attemptNo = 0;
  /** Counted tries (transparent retries excluded). */
  private tries = 0;
  private overall: TimerHandle | undefined;
  /** Overall deadline on the engine clock when the sweeper watches it (long timeouts). */
  deadline = 0;
  /** @internal Sweeper links. */
  dlPrev: HasDeadline | null = null;
  /** @internal Sweeper links. */
  dlNext: HasDeadline | null = null;
  /** @internal Sweeper links. */
  dlList: DeadlineList | null = null;
  private timeoutMs = 0;
  private idempotent: boolean;
  /** Read the clock when response headers arrive (access log, latency-aware picker). */
  private timeHeaders = false;

  constructor(
    readonly engine: EngineContext,
    readonly table: ServiceTable,
    readonly opts: Dispatcher.DispatchOptions,
    readonly handler: Handler,
    readonly init: CallInit | undefined,
    /** The Host to send when the caller set none (MeshAgent: the origin's host). */
    readonly authority: string | undefined,
  ) {
    let rid = init?.requestId;
    let addRid = false;
    if (rid === undefined) {
      rid = getHeader(opts.headers, 'x-request-id');
      // An inherited id is sent with the other inherited headers.
      if (rid === undefined && init?.inherited !== undefined) rid = flatHeader(init.inherited, 'x-request-id');
      if (rid === undefined && engine.requestIds) {
        rid = nextRequestId();
        addRid = true;
      }
    }
    this.requestId = rid ?? '';
    this.addRid = addRid;
    const method = opts.method;
    this.idempotent = opts.idempotent ?? IDEMPOTENT_METHODS.has(method);
  }

  private readonly addRid: boolean;

  get service(): string {
    return this.table.name;
  }

  private extras(): CallExtras {
    if (this.x === undefined) this.x = new CallExtras();
    return this.x;
  }

  /**
   * A request header by lower-case name as the rules see it: what goes upstream. The sidecar's
   * own headers (`extraHeaders`: request id, X-Forwarded-*, the client certificate it vouches
   * for) win; a header it drops is not seen (but `Host` is: the upstream gets its own); then the
   * caller's; then one inherited from the incoming request.
   */
  private header(lowerName: string): string | undefined {
    const init = this.init;
    if (init === undefined) return getHeader(this.opts.headers, lowerName);
    if (init.extraHeaders !== undefined) {
      const set = flatHeader(init.extraHeaders, lowerName);
      if (set !== undefined) return set;
    }
    if (init.dropHeaders?.has(lowerName) === true && lowerName !== 'host') return undefined;
    const own = getHeader(this.opts.headers, lowerName);
    return own !== undefined || init.inherited === undefined ? own : flatHeader(init.inherited, lowerName);
  }

  /** {@link header}, with the authority standing in for a Host the caller did not set. */
  private routeHeader(lowerName: string): string | undefined {
    const value = this.header(lowerName);
    return value === undefined && lowerName === 'host' ? this.authority : value;
  }

  // ── DispatchController (what the caller's handler sees) ─────────────────────────────────────

  get aborted(): boolean {
    return this.aborted_;
  }

  get reason(): Error | null {
    return this.x?.reason ?? null;
  }

  get rawHeaders(): RawHeaders {
    return this.committed?.controller?.rawHeaders ?? null;
  }

  get rawTrailers(): RawHeaders {
    return this.committed?.controller?.rawTrailers ?? null;
  }

  pause(): void {
    this.paused = true;
    (this.committed ?? this.attempt)?.controller?.pause();
  }

  resume(): void {
    this.paused = false;
    (this.committed ?? this.attempt)?.controller?.resume();
  }

  abort(reason?: Error): void {
    if (this.aborted_ || this.finished) return;
    this.aborted_ = true;
    const err = reason ?? new MeshRequestError('WEFT_ERR_ABORTED', 'Request aborted', this.errorOptions());
    this.extras().reason = err;
    const a = this.committed ?? this.attempt;
    if (a !== undefined && !a.settled) {
      if (a.controller !== null) {
        // undici reports the abort through onResponseError, which finishes the call.
        a.controller.abort(err);
        return;
      }
      a.dead = err;
      this.settle(a, Outcome.Cancelled, undefined);
    }
    this.finishWithError(err, 0);
  }

  // ── call lifecycle ──────────────────────────────────────────────────────────────────────────

  /** Routes the request and launches the first attempt. */
  start(): void {
    const engine = this.engine;
    engine.inflight++;
    this.handler.onRequestStart?.(this, { service: this.service, requestId: this.requestId });
    if (this.aborted_) return;
    // Authorization first: a refused caller learns nothing of the routes, faults or endpoints.
    const peer = this.init?.peer;
    if (peer !== undefined && engine.authorizer !== undefined && this.refusedByAuthorization(peer)) return;
    const opts = this.opts;
    const router = engine.router;
    let plan = engine.defaultPlan;
    if (router?.has(this.service)) {
      const routed = router.route({
        service: this.service,
        method: opts.method,
        path: this.init?.routePath ?? opts.path,
        headers: this.init?.headerRecord ?? { get: (name: string) => this.routeHeader(name) },
        source: this.init?.source ?? engine.options.identity,
      });
      if (isRouteFailure(routed)) {
        this.fail(NO_ROUTE_CODE, `No route to ${this.service}: ${routed.message}`, 412);
        return;
      }
      plan = routed;
    }
    this.plan = plan;
    // A route without retries of its own keeps the agent's (safe) default; a route's explicit
    // zero is a plan with `maxAttempts: 1` (see rulesRouter), so it stays zero.
    this.retry = plan.retry ?? engine.defaultPlan.retry;
    this.subset = this.table.subset(plan.backendTags, plan.lbPolicy ?? engine.lbPolicy, plan.resilience);
    this.timeHeaders = engine.accessLog !== undefined || this.subset.balancer.wantsLatency;
    // Admission starts with the rate limit: a refused call takes no bulkhead slot, no endpoint.
    const rateLimit = plan.rateLimit ?? engine.rateLimit;
    if (rateLimit !== undefined && this.refusedByRateLimit(rateLimit)) return;
    if (this.subset.entries.length === 0) {
      const tags = plan.backendTags.length > 0 ? ` with tags ${plan.backendTags.join(',')}` : '';
      this.fail('WEFT_ERR_NO_ENDPOINTS', `No healthy instance of ${this.service}${tags}`, 503);
      return;
    }
    // A backend with resilience settings caps its concurrent calls (max_requests), queueing
    // max_pending_requests more; the slot is held until the call finishes, retries included.
    const bulkhead = this.subset.backend?.bulkhead;
    let queued = false;
    if (bulkhead !== undefined) {
      if (bulkhead.tryAcquire()) this.extras().bulkhead = bulkhead;
      else if (bulkhead.queued < bulkhead.maxQueue) queued = true;
      else {
        this.failBulkheadFull(bulkhead);
        return;
      }
    }
    if (this.retry !== undefined && this.retry.policy.maxAttempts > 1) this.table.budget?.onRequest();
    if (engine.accessLog !== undefined) this.extras().startWall = Date.now();

    // The common call (no tracing, no access log, no inherited headers) makes no call here.
    const tracing = engine.tracing.enabled(this.startedAt);
    const inheritedTrace = this.init?.inherited !== undefined && this.inheritsTrace(tracing);
    let traceparent: string | undefined;
    if (tracing) traceparent = this.startSpan(inheritedTrace);
    else if (engine.accessLog !== undefined) this.noteIncomingTrace();
    const headers = planOutgoingHeaders(
      opts.headers,
      this.addRid ? this.requestId : undefined,
      this.authority,
      engine.hostIsEndpoint,
      traceparent,
      inheritedTrace,
      this.init,
    );
    if (headers !== AS_GIVEN) this.sendOpts = this.buildOpts(headers);
    else if (plan.path !== undefined) this.sendOpts = this.buildOpts(opts.headers);
    else this.sendOpts = opts; // fast path: forwarded as given (Pool ignores opts.origin)
    const init = this.init;
    if (opts.body != null) this.body = new BodySource(opts.body, engine.replayLimit, init?.maxBodyBytes);

    // The route's timeout, else the agent's (15 s unless configured; 0 turns it off).
    const timeoutMs = plan.timeoutMs ?? engine.defaultPlan.timeoutMs;
    if (timeoutMs !== undefined && timeoutMs > 0) this.armOverall(timeoutMs);
    if (queued) this.waitForSlot(bulkhead as Bulkhead);
    // The first attempt starts now, in the same turn: its start time is the call's (a clock
    // read costs ~45 ns here, and a call needs three more).
    else this.nextAttempt(false, this.startedAt);
    if (plan.mirror !== undefined) this.startMirror(plan.mirror.tags);
  }

  /**
   * Whether the trace context inherited from the incoming request (withIncoming; asked only when
   * there are inherited headers) is this call's: not when the call sets a traceparent of its own or, with tracing on, runs inside a span of
   * the app's (OpenTelemetry's active context), which is a closer parent.
   */
  private inheritsTrace(tracing: boolean): boolean {
    if (getHeader(this.opts.headers, 'traceparent') !== undefined) return false;
    return !(tracing && this.engine.tracing.hasActiveSpan());
  }

  /** Starts the call's client span; returns the traceparent that goes upstream. */
  private startSpan(inheritedTrace: boolean): string {
    const opts = this.opts;
    const incoming = inheritedTrace ? this.header('traceparent') : getHeader(opts.headers, 'traceparent');
    const x = this.extras();
    x.span = this.engine.tracing.start(this.service, opts.method, opts.path, parseTraceparent(incoming));
    const sc = x.span.spanContext();
    x.traceId = sc.traceId;
    x.spanId = sc.spanId;
    return formatTraceparent(sc.traceId, sc.spanId, sc.traceFlags);
  }

  /** Without tracing, the access log still records the incoming trace ids. */
  private noteIncomingTrace(): void {
    const parent = parseTraceparent(this.header('traceparent'));
    if (parent !== undefined) {
      const x = this.extras();
      x.traceId = parent.traceId;
      x.spanId = parent.spanId;
    }
  }

  /**
   * Mirrors the request (after the primary attempt was launched). A body that is at hand
   * (string, buffer, blob) goes at once; a streamed body only once the primary attempt has sent
   * it in full within the replay buffer, from the recording; otherwise the mirror is skipped.
   */
  private startMirror(tags: readonly string[]): void {
    if (this.opts.upgrade != null || this.opts.method === 'CONNECT') {
      this.extras().mirrorTags = tags;
      this.skipMirror(); // a tunnel cannot be copied
      return;
    }
    const body = this.body;
    if (body?.streamed) {
      this.extras().mirrorTags = tags;
      // The call already failed without sending the body: nothing was recorded to mirror.
      if (this.finished) this.skipMirror();
      return;
    }
    this.sendMirror(tags, body?.buffered());
  }

  private sendMirror(tags: readonly string[], body: Dispatcher.DispatchOptions['body'] | undefined): void {
    try {
      sendMirror(this.engine, {
        table: this.table,
        tags,
        opts: this.sendOpts,
        body,
        requestId: this.requestId,
        timeoutMs: this.plan.timeoutMs,
      });
    } catch {
      // Mirroring must never affect the primary call.
    }
  }

  /** An attempt sent the whole request: a mirror waiting for a streamed body can go now. */
  onAttemptRequestSent(): void {
    const x = this.x;
    const tags = x?.mirrorTags;
    if (x === undefined || tags === undefined) return;
    x.mirrorTags = undefined;
    const body = this.body?.buffered();
    if (body === undefined) this.skipMirror();
    else this.sendMirror(tags, body);
  }

  private skipMirror(): void {
    if (this.x !== undefined) this.x.mirrorTags = undefined;
    const c = this.table.counters;
    if (c !== undefined) c.mirrorsSkipped++;
  }

  /** Waits in the backend's bulkhead queue (the overall timeout and an abort still apply). */
  private waitForSlot(bulkhead: Bulkhead): void {
    const waiting = new AbortController();
    const x = this.extras();
    x.queueWait = waiting;
    this.holdLoop();
    bulkhead.acquire(waiting.signal).then(
      () => {
        x.queueWait = undefined;
        if (this.finished) {
          bulkhead.release();
          return;
        }
        x.bulkhead = bulkhead;
        this.nextAttempt(false);
      },
      () => {
        x.queueWait = undefined;
        if (!this.finished) this.failBulkheadFull(bulkhead);
      },
    );
  }

  /** Judges a call that entered through a front end; a refused one fails at once (403, counted). */
  private refusedByAuthorization(peer: NonNullable<CallInit['peer']>): boolean {
    const refusal = authorize(this.engine.authorizer as NonNullable<EngineContext['authorizer']>, {
      service: this.service,
      requestId: this.requestId,
      method: this.opts.method,
      path: this.init?.routePath ?? this.opts.path,
      header: (name) => this.routeHeader(name),
      peer,
    });
    if (refusal === undefined) return false;
    const counters = this.table.counters;
    if (counters !== undefined) counters.denied++;
    this.finishWithError(refusal, 403);
    return true;
  }

  /** Takes a token of the call's rate limit; without one the call fails at once (429, counted). */
  private refusedByRateLimit(limit: RateLimitSettings): boolean {
    const engine = this.engine;
    const source = (this.init?.source ?? engine.options.identity)?.name;
    const waitMs = admitRate(engine.rateLimits, limit, this.service, source, this.init?.clientIp);
    if (waitMs === 0) return false;
    this.table.counters?.rateLimit(limit === engine.rateLimit ? 'proxy' : 'rule');
    const call = { service: this.service, requestId: this.requestId, method: this.opts.method, path: this.opts.path };
    this.finishWithError(rateLimitedError(call, limit, waitMs), 429);
    return true;
  }

  private failBulkheadFull(bulkhead: Bulkhead): void {
    const tags = this.plan.backendTags.length > 0 ? ` (${this.plan.backendTags.join(',')})` : '';
    this.fail(
      'WEFT_ERR_BULKHEAD_FULL',
      `The backend of ${this.service}${tags} is at its limit of ${bulkhead.maxConcurrent} concurrent requests and ${bulkhead.maxQueue} pending`,
      503,
    );
  }

  /**
   * The options each attempt sends: only what undici's Request reads, in a fixed shape (cheaper
   * than spreading the caller's options, which carry signal, opaque, callbacks…).
   */
  private buildOpts(headers: Dispatcher.DispatchOptions['headers']): Dispatcher.DispatchOptions {
    const o = this.opts;
    return new SendOptions(o, this.plan.path ?? o.path, headers ?? null) as unknown as Dispatcher.DispatchOptions;
  }

  /** Picks an endpoint and launches the next attempt; `at` is its start time when already read. */
  private nextAttempt(transparent: boolean, at?: number): void {
    if (this.finished) return;
    const no = ++this.attemptNo;
    if (!transparent) this.tries++;
    const picker = this.subset.picker;
    const index = pickEndpoint(this.subset, this.plan.hashKey, this.x?.avoid);
    if (index === NO_ENDPOINT) {
      this.failNoEndpoint();
      return;
    }
    const rollFault = this.plan.fault;
    if (rollFault !== undefined) {
      const entry = picker.endpoints[index] as EndpointEntry;
      const fault = rollFault(no, entry.instance.tags);
      if (fault !== undefined) {
        if (fault.traces !== undefined) {
          const x = this.extras();
          if (x.traces === undefined) x.traces = [];
          for (const t of fault.traces) x.traces.push(t.key, t.value);
        }
        if (fault.delayMs !== undefined && fault.delayMs > 0) {
          const x = this.extras();
          this.holdLoop();
          x.wait = this.engine.clock.setTimeout(() => {
            x.wait = undefined;
            if (fault.abort !== undefined) this.injectAbort(no, fault.abort);
            else this.launchAfterDelay(no, entry, picker, index, transparent);
          }, fault.delayMs);
          return;
        }
        if (fault.abort !== undefined) {
          const code = fault.abort;
          queueMicrotask(() => this.injectAbort(no, code));
          return;
        }
      }
    }
    this.launch(no, picker, index, transparent, at ?? now());
  }

  /**
   * Launches an attempt whose endpoint was picked before a fault delay. If the endpoint set
   * changed meanwhile, it goes to the same endpoint through the current picker (whose indices
   * and ejection flags are current), or, when the endpoint left, to a new pick.
   */
  private launchAfterDelay(
    no: number,
    entry: EndpointEntry,
    picker: Picker<EndpointEntry>,
    index: number,
    transparent: boolean,
  ): void {
    const current = this.subset.picker;
    if (current === picker) {
      this.launch(no, picker, index, transparent, now());
      return;
    }
    let i = this.subset.indexOf(entry);
    if (i < 0) i = pickEndpoint(this.subset, this.plan.hashKey, undefined);
    if (i === NO_ENDPOINT) {
      this.failNoEndpoint();
      return;
    }
    this.launch(no, current, i, transparent, now());
  }

  private launch(no: number, picker: Picker<EndpointEntry>, index: number, transparent: boolean, at: number): void {
    if (this.finished) return;
    const maxRequests = this.engine.maxRequestsPerEndpoint;
    let entry = picker.endpoints[index] as EndpointEntry;
    let token = admit(entry, maxRequests);
    if (token < 0) {
      // Try the other endpoints before giving up on this attempt.
      const other = admitAnother(picker, index, maxRequests);
      if (other === undefined) {
        this.record(no, entry, Outcome.Rejected, 0, new Error(refusalText(token, entry, maxRequests)), transparent);
        this.fail('WEFT_ERR_CIRCUIT_OPEN', `Every circuit breaker of ${this.service} refused the call`, 503);
        return;
      }
      index = other.index;
      token = other.token;
      entry = picker.endpoints[index] as EndpointEntry;
    }
    picker.onStart(index);
    entry.inflight++;
    const a = new Attempt(this, {
      no,
      entry,
      index,
      picker,
      token,
      transparent,
      startedAt: at,
    });
    this.attempt = a;
    const perTry = this.retry?.perTryTimeoutMs;
    if (perTry !== undefined && perTry > 0)
      a.timer = this.engine.clock.setTimeout(() => this.onPerTryTimeout(a, perTry), perTry);
    let opts = this.sendOpts;
    if (this.body !== undefined) opts = { ...opts, body: this.body.next() ?? null };
    try {
      entry.pool.dispatch(opts, a);
    } catch (err) {
      this.onAttemptError(a, err as Error);
    }
  }

  // ── attempt callbacks ───────────────────────────────────────────────────────────────────────

  onAttemptHeaders(a: Attempt, controller: Controller, status: number, headers: Headers, statusText?: string): void {
    if (a.settled || this.finished) return;
    if (status < 200) {
      if (this.attempt === a) this.handler.onResponseStart?.(this, status, headers, statusText);
      return;
    }
    a.status = status;
    // Time to headers feeds the access log and latency-aware pickers; a clock read is ~45 ns.
    if (this.timeHeaders) a.headersAt = now();
    if (status >= 500 || this.retry?.retriesBelow500 === true) {
      const delay = this.retryDelay(status, retryAfterOf(headers));
      if (delay >= 0) {
        a.discarded = true;
        this.settle(a, status, undefined);
        const len = Number(headers['content-length'] ?? Number.NaN);
        if (!(len <= DRAIN_LIMIT)) controller.abort(new Error('response discarded for a retry'));
        this.scheduleRetry(a.entry, delay);
        return;
      }
    }
    this.commit(a);
    this.handler.onResponseStart?.(this, status, headers, statusText);
  }

  private commit(a: Attempt): void {
    this.committed = a;
    this.attempt = a;
    if (a.headersAt > 0) this.extras().upstreamMs = a.headersAt - a.startedAt;
    if (a.timer !== undefined) {
      a.timer.clear();
      a.timer = undefined;
    }
    this.disarmOverall();
  }

  forwardData(chunk: Buffer): void {
    if (!this.finished) this.handler.onResponseData?.(this, chunk);
  }

  onAttemptEnd(a: Attempt, trailers: Headers): void {
    if (this.committed !== a || a.settled) return;
    this.settle(a, a.status, undefined);
    this.finish(a.status, undefined);
    try {
      this.handler.onResponseEnd?.(this, trailers);
    } catch (err) {
      // As undici's own requests do: a handler that throws at the end gets its error back.
      // undici's retry interceptor throws there to retry a status; dropped, the call would hang.
      this.handler.onResponseError?.(this, err as Error);
    }
  }

  onAttemptUpgrade(a: Attempt, _controller: Controller, status: number, headers: Headers, socket: Duplex): void {
    if (a.settled || this.finished) {
      socket.destroy();
      return;
    }
    a.status = status;
    a.headersAt = now();
    this.commit(a);
    this.settle(a, status, undefined);
    this.finish(status, undefined);
    this.handler.onRequestUpgrade?.(this, status, headers, socket);
  }

  onAttemptError(a: Attempt, error: Error): void {
    if (a.settled) return;
    if (this.committed === a) {
      // The response had started: nothing can be retried. Report with the history.
      const outcome = this.aborted_ ? Outcome.Cancelled : classifyError(error);
      this.settle(a, outcome, error);
      const err = this.aborted_
        ? (this.x?.reason as Error)
        : new MeshRequestError(
            'WEFT_ERR_RETRIES_EXHAUSTED',
            `${this.opts.method} ${this.service}${this.opts.path}: the response failed after it started`,
            { ...this.errorOptions(), cause: error, status: 502 },
          );
      this.finishWithError(err, a.status);
      return;
    }
    if (this.aborted_) {
      this.settle(a, Outcome.Cancelled, error);
      this.finishWithError(this.x?.reason as Error, 0);
      return;
    }
    if (this.finished) {
      this.settle(a, Outcome.Cancelled, error);
      return;
    }
    const tooLarge = error instanceof BodyTooLargeError ? error : (error as { cause?: unknown }).cause;
    if (tooLarge instanceof BodyTooLargeError) {
      // The caller's body is at fault, not the endpoint: neutral for its health.
      this.settle(a, Outcome.Cancelled, error);
      this.fail('WEFT_ERR_PAYLOAD_TOO_LARGE', tooLarge.message, 413);
      return;
    }
    if (isCallerError(error)) {
      // The pool refused the request itself (a bad header from the caller, or an endpoint it
      // cannot serve): not the upstream's fault, and a retry would fail alike. No retry, no
      // breaker or outlier penalty; the caller gets the error that says why, as undici gives it.
      this.settle(a, Outcome.Cancelled, error);
      this.finishWithError(error, (error as { status?: number }).status ?? 400);
      return;
    }
    const outcome = classifyError(error);
    // A keep-alive socket the server closed under us: retry once, transparently, when safe.
    // Only a socket that served a response before qualifies (see onReusedSocket).
    const transparent =
      outcome === Outcome.Reset &&
      this.x?.transparentUsed !== true &&
      this.idempotent &&
      (this.body === undefined || this.body.replayable) &&
      onReusedSocket(error);
    // Not the endpoint's fault (the keep-alive race): neutral for its health.
    this.settle(a, transparent ? Outcome.Cancelled : outcome, error);
    if (transparent) {
      const x = this.extras();
      x.transparentUsed = true;
      x.avoid = a.entry;
      // Not synchronously: undici reports the error before it has detached the dead socket, and
      // a dispatch from inside the callback could be written to that same socket.
      queueMicrotask(() => this.nextAttempt(true));
      return;
    }
    const delay = this.retryDelay(outcome, -1);
    if (delay >= 0) this.scheduleRetry(a.entry, delay);
    else this.finalFail();
  }

  private onPerTryTimeout(a: Attempt, ms: number): void {
    a.timer = undefined;
    if (a.settled || this.committed !== undefined || this.finished) return;
    const err = new MeshRequestError('WEFT_ERR_TIMEOUT', `per-try timeout of ${ms} ms`, {
      service: this.service,
      requestId: this.requestId,
    });
    this.settle(a, Outcome.Timeout, err);
    if (a.controller !== null) a.controller.abort(err);
    else a.dead = err;
    const delay = this.retryDelay(Outcome.Timeout, -1);
    if (delay >= 0) this.scheduleRetry(a.entry, delay);
    else this.finalFail();
  }

  private armOverall(ms: number): void {
    const engine = this.engine;
    this.timeoutMs = ms;
    // Armed when the call starts (a route timeout applies to nearly every call): the system
    // clock's time then is the start time just read, so the sweeper need not read it again.
    const origin = engine.timeOrigin;
    if (ms >= 500) engine.deadlines.add(this, ms, origin === undefined ? engine.clock.now() : origin + this.startedAt);
    else this.overall = engine.clock.setTimeout(() => this.onOverallTimeout(ms), ms);
  }

  private disarmOverall(): void {
    if (this.overall !== undefined) {
      this.overall.clear();
      this.overall = undefined;
    }
    if (this.dlList !== null) this.engine.deadlines.delete(this);
  }

  /** The sweeper's callback (long overall timeouts). */
  onDeadline(): void {
    this.onOverallTimeout(this.timeoutMs);
  }

  private onOverallTimeout(ms: number): void {
    this.overall = undefined;
    if (this.committed !== undefined || this.finished) return;
    const a = this.attempt;
    const err = new MeshRequestError('WEFT_ERR_TIMEOUT', `Timeout of ${ms} ms expired`, {
      service: this.service,
      requestId: this.requestId,
    });
    let waiting = '';
    if (a !== undefined && !a.settled) {
      waiting = ` waiting for ${a.entry.address}`;
      this.settle(a, Outcome.Timeout, err);
      if (a.controller !== null) a.controller.abort(err);
      else a.dead = err;
    }
    // The agent's default timeout is new to many callers: say where it comes from.
    const plan = this.plan;
    const byDefault = plan === this.engine.defaultPlan || plan.timeoutMs === undefined;
    const source = byDefault ? ' (the default timeout: see the `timeoutMs` option)' : '';
    this.fail(
      'WEFT_ERR_TIMEOUT',
      `${this.opts.method} ${this.service}${this.opts.path} timed out after ${ms} ms${waiting}${source}`,
      504,
    );
  }

  private injectAbort(no: number, code: number): void {
    if (this.finished) return;
    if (code === RESET_FAULT) {
      // Amalgam8's `-1`: reset the caller's connection. Deliberate, so never retried (a retry
      // would hide the very failure the rule injects), and no endpoint was involved: nothing
      // reaches breakers, outlier detection or the retry budget.
      const cause = Object.assign(new Error('connection reset by an injected fault'), { code: 'ECONNRESET' });
      this.record(no, undefined, Outcome.Reset, 0, cause, false);
      const what = `${this.opts.method} ${this.service}${this.opts.path}`;
      // Logged and counted with status 0: no response was sent.
      this.finishWithError(new InjectedResetError(what, this.errorOptions()), 0);
      return;
    }
    if (code >= 500 || this.retry?.retriesBelow500 === true) {
      const delay = this.retryDelay(code, -1);
      if (delay >= 0) {
        this.record(no, undefined, code, 0, undefined, false);
        this.scheduleRetry(undefined, delay);
        return;
      }
    }
    this.record(no, undefined, code, 0, undefined, false);
    this.extras().upstreamMs = 0;
    const body = Buffer.from(
      JSON.stringify({ error: 'fault injected', status: code, service: this.service, request_id: this.requestId }),
    );
    this.disarmOverall();
    this.finish(code, undefined);
    this.handler.onResponseStart?.(
      this,
      code,
      {
        'content-type': 'application/json',
        'content-length': String(body.length),
        'x-weft-fault': 'abort',
        'x-request-id': this.requestId,
      },
      reasonPhrase(code),
    );
    if (!this.aborted_) this.handler.onResponseData?.(this, body);
    if (!this.aborted_) this.handler.onResponseEnd?.(this, {});
  }

  // ── retry policy ────────────────────────────────────────────────────────────────────────────

  /**
   * Whether the failed attempt is tried again ({@link decideRetry}: core's `RetryPolicy`, then
   * idempotency, a replayable body, the timeout and the budget): the delay in ms, or a negative
   * {@link NotRetried}, noted for the error message.
   */
  private retryDelay(outcome: number, retryAfterMs: number): number {
    if (this.finished || this.aborted_) return NotRetried.CallOver;
    const x = this.x;
    const delay = decideRetry({
      plan: this.retry,
      budget: this.table.budget,
      tries: this.tries,
      outcome,
      idempotent: this.idempotent,
      replayable: this.body === undefined || this.body.replayable,
      previousDelayMs: x?.lastDelay ?? 0,
      retryAfterMs,
      remainingMs: retryAfterMs >= 0 && this.timeoutMs > 0 ? this.timeoutMs - (now() - this.startedAt) : Infinity,
    });
    // Only a failure without a response needs the reason (an answer goes to the caller as is).
    if (delay < 0 && outcome < 100) this.extras().notRetried = delay as NotRetried;
    return delay;
  }

  private scheduleRetry(failed: EndpointEntry | undefined, delayMs: number): void {
    const x = this.extras();
    x.avoid = failed;
    x.lastDelay = delayMs;
    const delay = Math.floor(delayMs);
    if (delay < 1) {
      queueMicrotask(() => this.nextAttempt(false));
      return;
    }
    this.holdLoop();
    x.wait = this.engine.clock.setTimeout(() => {
      x.wait = undefined;
      this.nextAttempt(false);
    }, delay);
  }

  // ── bookkeeping ─────────────────────────────────────────────────────────────────────────────

  /**
   * Keeps the process alive until the call finishes: it is about to wait on an (unref'd) engine
   * timer or a bulkhead queue, with no socket of its own holding the event loop (see LoopHold).
   */
  private holdLoop(): void {
    const x = this.extras();
    if (x.holding) return;
    x.holding = true;
    this.engine.loopHold.acquire();
  }

  /** Feeds an attempt's outcome to the picker, breaker and outlier detection, and the history. */
  private settle(a: Attempt, outcome: number, error: Error | undefined): void {
    a.settled = true;
    if (a.timer !== undefined) {
      a.timer.clear();
      a.timer = undefined;
    }
    const recorded = this.x?.history !== undefined || outcome < 200 || outcome >= 500 || a.discarded;
    // A successful attempt's duration matters only to latency-aware pickers (-1: not measured).
    const duration = recorded || this.timeHeaders ? (a.headersAt > 0 ? a.headersAt : now()) - a.startedAt : -1;
    const entry = a.entry;
    // To the picker that counted the start, even if a rebuild replaced it: the load it updates
    // is the entry's own, which the current picker reads too.
    a.picker.onEnd(a.index, duration);
    entry.inflight--;
    entry.breaker.release(a.token, outcome);
    // A cancelled (or otherwise neutral) attempt says nothing about the endpoint's health.
    if (outcome !== Outcome.Cancelled) recordOutcome(entry, outcome);
    if (recorded) this.record(a.no, entry, outcome, duration, error, a.transparent);
  }

  private record(
    no: number,
    entry: EndpointEntry | undefined,
    outcome: number,
    durationMs: number,
    error: Error | undefined,
    transparent: boolean,
  ): void {
    const h: MeshAttempt = {
      attempt: no,
      endpoint: entry?.address ?? 'fault',
      ...(entry === undefined ? {} : { instanceId: entry.id }),
      outcome,
      reason:
        entry === undefined
          ? outcome === Outcome.Reset
            ? 'fault-reset'
            : `fault-abort ${outcome}`
          : outcomeWord(outcome),
      durationMs,
      ...(error === undefined ? {} : { error }),
      ...(transparent ? { transparent: true } : {}),
    };
    const x = this.extras();
    if (x.history === undefined) x.history = [h];
    else x.history.push(h);
  }

  private errorOptions(): { service: string; requestId: string; attempts: readonly MeshAttempt[] } {
    return { service: this.service, requestId: this.requestId, attempts: this.x?.history ?? [] };
  }

  private failNoEndpoint(): void {
    this.fail('WEFT_ERR_NO_ENDPOINTS', `No healthy instance of ${this.service}`, 503);
  }

  /**
   * The call ends without a response: every allowed attempt failed, or the last failure could
   * not be retried. The message says what happened and, when there was no retry, why not.
   */
  private finalFail(): void {
    const x = this.x;
    const history = x?.history;
    const last = history?.at(-1);
    const what = `${this.opts.method} ${this.service}${this.opts.path}`;
    const why = x?.notRetried ?? 0;
    if (why === NotRetried.BudgetSpent) {
      this.fail(
        'WEFT_ERR_RETRY_BUDGET_EXHAUSTED',
        `${what} failed and the retry budget is spent: ${failureText(last)}`,
        503,
      );
      return;
    }
    const reason =
      why === NotRetried.NotReplayable
        ? (this.body?.notReplayableReason ?? '')
        : last === undefined
          ? ''
          : notRetriedText(why, last.outcome, this.opts.method);
    const note = reason === '' ? '' : ` (not retried: ${reason})`;
    if (last?.outcome === Outcome.Timeout && this.tries === 1) {
      this.fail('WEFT_ERR_TIMEOUT', `${what} timed out: ${failureText(last)}${note}`, 504, last.error);
      return;
    }
    const n = history?.length ?? 0;
    const head = n > 1 ? `${what} failed after ${n} attempts, the last: ` : `${what} failed: `;
    this.fail('WEFT_ERR_RETRIES_EXHAUSTED', `${head}${failureText(last)}${note}`, 504, last?.error);
  }

  private fail(code: ErrorCode, message: string, status: number, cause?: unknown): void {
    if (this.finished) return;
    const err = new MeshRequestError(code, message, {
      ...this.errorOptions(),
      status,
      ...(cause === undefined ? {} : { cause }),
    });
    this.finishWithError(err, status);
  }

  private finishWithError(err: Error, status: number): void {
    if (this.finished) return;
    this.finish(status === 0 ? ((err as { status?: number }).status ?? 0) : status, err);
    this.handler.onResponseError?.(this, err);
  }

  private finish(status: number, error: Error | undefined): void {
    this.finished = true;
    const engine = this.engine;
    engine.inflight--;
    const x = this.x;
    if (x !== undefined) {
      if (x.bulkhead !== undefined) {
        x.bulkhead.release();
        x.bulkhead = undefined;
      }
      if (x.queueWait !== undefined) {
        x.queueWait.abort();
        x.queueWait = undefined;
      }
      if (x.mirrorTags !== undefined) this.skipMirror();
      if (x.wait !== undefined) x.wait.clear();
      if (x.holding) {
        x.holding = false;
        engine.loopHold.release();
      }
    }
    this.disarmOverall();
    const durationMs = now() - this.startedAt;
    const attempts = this.attemptNo;
    this.table.counters?.call(status, durationMs / 1000, attempts > 1 ? attempts - 1 : 0);
    this.subset?.counters?.record(status, durationMs / 1000);
    const a = this.committed ?? this.attempt;
    const upstream = a?.entry?.address;
    if (x?.span !== undefined) engine.tracing.end(x.span, status, upstream, attempts, error);
    const sink = engine.accessLog;
    if (sink !== undefined) {
      writeAccessLog(sink, {
        src: engine.src,
        service: this.service,
        plan: this.plan,
        method: this.opts.method,
        path: this.opts.path,
        requestId: this.requestId,
        status,
        durationMs,
        upstream,
        attempts,
        error,
        extras: x,
      });
    }
  }
}
