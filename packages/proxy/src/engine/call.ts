import type { Duplex } from 'node:stream';
import { type Bulkhead, type ErrorCode, outcomeOfError, type TimerHandle } from '@weft/core';
import type { Dispatcher } from 'undici';
import { InjectedResetError, type MeshAttempt, MeshRequestError, NO_ROUTE_CODE, outcomeReason } from '../errors.js';
import { reasonPhrase } from '../http1/status-text.js';
import type { AccessLogRecord } from '../telemetry/access-log.js';
import { formatTraceparent, parseTraceparent } from '../telemetry/tracing.js';
import { BodySource, BodyTooLargeError } from './body.js';
import { CallExtras } from './call-extras.js';
import type { DeadlineList, HasDeadline } from './deadlines.js';
import type { CallInit, MeshEngine } from './engine.js';
import { failureText, NotRetried, notRetriedText } from './failure-text.js';
import { getHeader, rebuildHeaders } from './headers.js';
import { sendMirror } from './mirror.js';
import { nextRequestId } from './request-id.js';
import { isRouteFailure, RetryOn, type RetryPlan, type RoutePlan } from './route.js';
import type { EndpointEntry, ServiceTable, Subset } from './service-table.js';
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

const NO_EXTRA: readonly string[] = Object.freeze([]);
/** Dropped from the caller's headers when upstreams get the endpoint's address as Host. */
const DROP_HOST: ReadonlySet<string> = new Set(['host']);

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

/** The value of `lowerName` in a flat `[lowerName, value, …]` list. */
function flatHeader(flat: readonly string[], lowerName: string): string | undefined {
  for (let i = 0; i + 1 < flat.length; i += 2) if (flat[i] === lowerName) return flat[i + 1];
  return undefined;
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

/** One try of a call: the handler undici's Pool calls back. Stale attempts are ignored by the call. */
class Attempt implements Handler {
  controller: Controller | null = null;
  /** Outcome fed to health / history already (discarded, timed out, failed, or finished). */
  settled = false;
  /** Abort as soon as undici starts it (it timed out or was abandoned while queued). */
  dead: Error | null = null;
  /** Response discarded for a retry: its data is dropped. */
  discarded = false;
  status = 0;
  headersAt = 0;
  timer: TimerHandle | undefined;

  constructor(
    readonly call: MeshCall,
    readonly no: number,
    readonly entry: EndpointEntry | undefined,
    readonly index: number,
    readonly picker: Picker<EndpointEntry> | undefined,
    readonly token: number,
    readonly transparent: boolean,
    readonly startedAt: number,
    /** The subset's picker generation the attempt started on. */
    readonly generation: number,
  ) {}

  onRequestStart(controller: Controller, _context: unknown): void {
    if (this.dead !== null) {
      controller.abort(this.dead);
      return;
    }
    this.controller = controller;
    if (this.call.paused) controller.pause();
  }

  onRequestUpgrade(controller: Controller, statusCode: number, headers: Headers, socket: Duplex): void {
    this.call.onAttemptUpgrade(this, controller, statusCode, headers, socket);
  }

  onResponseStart(controller: Controller, statusCode: number, headers: Headers, statusMessage?: string): void {
    this.call.onAttemptHeaders(this, controller, statusCode, headers, statusMessage);
  }

  onResponseData(_controller: Controller, chunk: Buffer): void {
    if (this.call.committed === this) this.call.forwardData(chunk);
  }

  onResponseEnd(_controller: Controller, trailers: Headers): void {
    this.call.onAttemptEnd(this, trailers);
  }

  onResponseError(_controller: Controller | null, error: Error): void {
    this.call.onAttemptError(this, error);
  }

  onBodySent(chunk: Buffer): void {
    if (this.call.attempt === this) this.call.handler.onBodySent?.(chunk);
  }

  onRequestSent(): void {
    this.call.onAttemptRequestSent();
    if (this.call.attempt === this) this.call.handler.onRequestSent?.();
  }
}

/**
 * One request through the mesh: route, faults, pick, attempt, feedback, retry, telemetry. It is
 * also the stable {@link Dispatcher.DispatchController} the caller's handler sees across retries
 * (pause / resume / abort always reach the attempt in flight).
 */
export class MeshCall implements Controller, HasDeadline {
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
    readonly engine: MeshEngine,
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
      this.settle(a, 0, undefined);
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
    const opts = this.opts;
    const router = engine.router;
    let plan = engine.defaultPlan;
    if (router?.has(this.service)) {
      const routed = router.route({
        service: this.service,
        method: opts.method,
        path: this.init?.routePath ?? opts.path,
        headers: this.init?.headerRecord ?? { get: (name: string) => this.routeHeader(name) },
        source: engine.options.identity,
      });
      if (isRouteFailure(routed)) {
        this.fail(NO_ROUTE_CODE, `No route to ${this.service}: ${routed.message}`, 412);
        return;
      }
      plan = routed;
    }
    this.plan = plan;
    // A route without retries of its own keeps the agent's (safe) default; a route's explicit
    // zero is a plan with `attempts: 0` (see rulesRouter), so it stays zero.
    this.retry = plan.retry ?? engine.defaultPlan.retry;
    this.subset = this.table.subset(plan.backendTags, plan.lbPolicy ?? engine.lbPolicy, plan.resilience);
    this.timeHeaders = engine.accessLog !== undefined || this.subset.policy === 'peak_ewma';
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
    if (this.retry !== undefined && this.retry.attempts > 0) this.table.budget?.onRequest();
    if (engine.accessLog !== undefined) this.extras().startWall = Date.now();

    // Headers to send: the caller's, plus the request id and trace context when they change.
    let extra: string[] | undefined;
    if (this.addRid) extra = ['x-request-id', this.requestId];
    // Host: what the caller set, else the authority (the origin's host); with `hostHeader:
    // 'endpoint'` neither (the pool writes the endpoint's address). The sidecar drops its
    // client's Host and passes the one to send in `extraHeaders`.
    let dropHost = false;
    const authority = this.authority;
    if (authority !== undefined) {
      const inherited = this.init?.inherited;
      const inheritedHost = inherited !== undefined && flatHeader(inherited, 'host') !== undefined;
      const own = inheritedHost || getHeader(opts.headers, 'host') !== undefined;
      if (engine.hostIsEndpoint) dropHost = own;
      else if (!own) {
        if (extra === undefined) extra = ['host', authority];
        else extra.push('host', authority);
      }
    }
    // The trace context inherited from the incoming request (withIncoming) is this call's unless
    // the call sets a traceparent of its own or, with tracing on, runs inside a span of the app's
    // (OpenTelemetry's active context), which is a closer parent.
    let inheritedTrace = this.init?.inherited !== undefined && getHeader(opts.headers, 'traceparent') === undefined;
    if (engine.tracing.enabled(this.startedAt)) {
      if (inheritedTrace && engine.tracing.hasActiveSpan()) inheritedTrace = false;
      const incoming = inheritedTrace ? this.header('traceparent') : getHeader(opts.headers, 'traceparent');
      const parent = parseTraceparent(incoming);
      const x = this.extras();
      x.span = engine.tracing.start(this.service, opts.method, opts.path, parent);
      const sc = x.span.spanContext();
      x.traceId = sc.traceId;
      x.spanId = sc.spanId;
      const tp = formatTraceparent(sc.traceId, sc.spanId, sc.traceFlags);
      if (extra === undefined) extra = ['traceparent', tp];
      else extra.push('traceparent', tp);
    } else if (engine.accessLog !== undefined) {
      const parent = parseTraceparent(this.header('traceparent'));
      if (parent !== undefined) {
        const x = this.extras();
        x.traceId = parent.traceId;
        x.spanId = parent.spanId;
      }
    }
    const init = this.init;
    if (init?.extraHeaders !== undefined) {
      if (extra === undefined) extra = [...init.extraHeaders];
      else extra.push(...init.extraHeaders);
    }
    const inherited = init?.inherited;
    const span = this.x?.span;
    if (inherited !== undefined) {
      if (extra === undefined) extra = [];
      for (let i = 0; i + 1 < inherited.length; i += 2) {
        const name = inherited[i] as string;
        // The client span's traceparent (added above) replaces the inherited one; the inherited
        // trace state goes only with the inherited trace.
        if (name === 'traceparent' && (span !== undefined || !inheritedTrace)) continue;
        if (name === 'tracestate' && !inheritedTrace) continue;
        if (dropHost && name === 'host') continue;
        extra.push(name, inherited[i + 1] as string);
      }
    }
    const drop = init?.dropHeaders ?? (dropHost ? DROP_HOST : undefined);
    if (span !== undefined) {
      // The new traceparent replaces the caller's.
      const d = new Set(drop ?? []);
      d.add('traceparent');
      this.sendOpts = this.buildOpts(rebuildHeaders(opts.headers, d, extra ?? NO_EXTRA));
    } else if (extra !== undefined && drop === undefined && opts.headers == null) {
      this.sendOpts = this.buildOpts(extra); // common case: no caller headers, only ours
    } else if (extra !== undefined || drop !== undefined) {
      this.sendOpts = this.buildOpts(rebuildHeaders(opts.headers, drop, extra ?? NO_EXTRA));
    } else if (plan.path !== undefined) {
      this.sendOpts = this.buildOpts(opts.headers);
    } else {
      this.sendOpts = opts; // fast path: forwarded as given (Pool ignores opts.origin)
    }
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
    const subset = this.subset;
    const picker = subset.picker;
    let index = picker.pickIndex(this.plan.hashKey);
    const n = picker.endpoints.length;
    const avoid = this.x?.avoid;
    if (index >= 0 && n > 1 && avoid !== undefined && picker.endpoints[index] === avoid) {
      // A retry goes to another endpoint when there is a healthy one. Picking again is not
      // enough: least-request favours a dead endpoint (connect failures leave it idle).
      const again = picker.pickIndex(this.plan.hashKey);
      if (again >= 0 && picker.endpoints[again] !== avoid) index = again;
      else
        for (let k = 1; k < n; k++) {
          const j = (index + k) % n;
          if (!picker.isEjected(j) && picker.endpoints[j] !== avoid) {
            index = j;
            break;
          }
        }
    }
    if (index < 0) {
      if (n === 0) {
        this.failNoEndpoint();
        return;
      }
      // Panic mode: every endpoint is ejected; spread over all of them rather than fail.
      index = subset.panicCursor++ % n;
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
   * changed meanwhile, it goes to the same endpoint through the current picker (so its start
   * and end are counted by one picker), or, when the endpoint left, to a new pick.
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
    if (i < 0) i = current.pickIndex(this.plan.hashKey);
    if (i < 0) {
      if (current.endpoints.length === 0) {
        this.failNoEndpoint();
        return;
      }
      i = this.subset.panicCursor++ % current.endpoints.length;
    }
    this.launch(no, current, i, transparent, now());
  }

  private launch(no: number, picker: Picker<EndpointEntry>, index: number, transparent: boolean, at: number): void {
    if (this.finished) return;
    const n = picker.endpoints.length;
    const maxRequests = this.engine.maxRequestsPerEndpoint;
    let entry = picker.endpoints[index] as EndpointEntry;
    let token = entry.inflight < maxRequests ? entry.breaker.tryAcquire() : -3;
    if (token < 0) {
      // Try the other endpoints before giving up on this attempt.
      for (let k = 1; k < n && token < 0; k++) {
        const j = (index + k) % n;
        if (picker.isEjected(j)) continue;
        const other = picker.endpoints[j] as EndpointEntry;
        const t = other.inflight < maxRequests ? other.breaker.tryAcquire() : -3;
        if (t >= 0) {
          token = t;
          index = j;
        }
      }
      if (token < 0) {
        const why = token === -3 ? `${maxRequests} requests in flight` : `circuit breaker ${entry.breaker.state}`;
        this.record(no, entry, -5, 0, new Error(why), transparent);
        this.fail('WEFT_ERR_CIRCUIT_OPEN', `Every circuit breaker of ${this.service} refused the call`, 503);
        return;
      }
      entry = picker.endpoints[index] as EndpointEntry;
    }
    picker.onStart(index);
    entry.inflight++;
    const a = new Attempt(this, no, entry, index, picker, token, transparent, at, this.subset.generation);
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
    if (status >= 500 && this.shouldRetry(status)) {
      a.discarded = true;
      this.settle(a, status, undefined);
      const len = Number(headers['content-length'] ?? Number.NaN);
      if (!(len <= DRAIN_LIMIT)) controller.abort(new Error('response discarded for a retry'));
      this.scheduleRetry(a.entry);
      return;
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
    this.handler.onResponseEnd?.(this, trailers);
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
      const outcome = this.aborted_ ? 0 : classifyError(error);
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
      this.settle(a, 0, error);
      this.finishWithError(this.x?.reason as Error, 0);
      return;
    }
    if (this.finished) {
      this.settle(a, 0, error);
      return;
    }
    const tooLarge = error instanceof BodyTooLargeError ? error : (error as { cause?: unknown }).cause;
    if (tooLarge instanceof BodyTooLargeError) {
      this.settle(a, 0, error);
      this.fail('WEFT_ERR_PAYLOAD_TOO_LARGE', tooLarge.message, 413);
      return;
    }
    if (isCallerError(error)) {
      // The pool refused the request itself (a bad header from the caller, or an endpoint it
      // cannot serve): not the upstream's fault, and a retry would fail alike. No retry, no
      // breaker or outlier penalty; the caller gets the error that says why, as undici gives it.
      this.settle(a, 0, error);
      this.finishWithError(error, (error as { status?: number }).status ?? 400);
      return;
    }
    const outcome = classifyError(error);
    // A keep-alive socket the server closed under us: retry once, transparently, when safe.
    // Only a socket that served a response before qualifies (see onReusedSocket).
    const transparent =
      outcome === -2 &&
      this.x?.transparentUsed !== true &&
      this.idempotent &&
      (this.body === undefined || this.body.replayable) &&
      onReusedSocket(error);
    this.settle(a, transparent ? 0 : outcome, error);
    if (transparent) {
      const x = this.extras();
      x.transparentUsed = true;
      x.avoid = a.entry;
      // Not synchronously: undici reports the error before it has detached the dead socket, and
      // a dispatch from inside the callback could be written to that same socket.
      queueMicrotask(() => this.nextAttempt(true));
      return;
    }
    if (this.shouldRetry(outcome)) this.scheduleRetry(a.entry);
    else this.finalFail();
  }

  private onPerTryTimeout(a: Attempt, ms: number): void {
    a.timer = undefined;
    if (a.settled || this.committed !== undefined || this.finished) return;
    const err = new MeshRequestError('WEFT_ERR_TIMEOUT', `per-try timeout of ${ms} ms`, {
      service: this.service,
      requestId: this.requestId,
    });
    this.settle(a, -3, err);
    if (a.controller !== null) a.controller.abort(err);
    else a.dead = err;
    if (this.shouldRetry(-3)) this.scheduleRetry(a.entry);
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
      if (a.entry !== undefined) waiting = ` waiting for ${a.entry.address}`;
      this.settle(a, -3, err);
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
    if (code < 0) {
      // Amalgam8's `-1`: reset the caller's connection. Deliberate, so never retried (a retry
      // would hide the very failure the rule injects), and no endpoint was involved: nothing
      // reaches breakers, outlier detection or the retry budget.
      const cause = Object.assign(new Error('connection reset by an injected fault'), { code: 'ECONNRESET' });
      this.record(no, undefined, -2, 0, cause, false);
      const what = `${this.opts.method} ${this.service}${this.opts.path}`;
      // Logged and counted with status 0: no response was sent.
      this.finishWithError(new InjectedResetError(what, this.errorOptions()), 0);
      return;
    }
    if (code >= 500 && this.shouldRetry(code)) {
      this.record(no, undefined, code, 0, undefined, false);
      this.scheduleRetry(undefined);
      return;
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

  private shouldRetry(outcome: number): boolean {
    if (this.finished || this.aborted_) return false;
    const r = this.retry;
    if (r === undefined || r.attempts === 0) return this.noRetry(outcome, NotRetried.Off);
    if (this.tries > r.attempts) return this.noRetry(outcome, NotRetried.Exhausted);
    const bits = r.retryOn;
    let ok = false;
    // Resets and timeouts may come after the upstream acted on the request: only idempotent ones.
    let unsafe = false;
    if (outcome === -1) ok = (bits & (RetryOn.ConnectFailure | RetryOn.GatewayError | RetryOn.ServerError)) !== 0;
    else if (outcome === -2) {
      ok = (bits & (RetryOn.Reset | RetryOn.GatewayError | RetryOn.ServerError)) !== 0;
      unsafe = true;
    } else if (outcome === -3) {
      ok =
        (bits & (RetryOn.Timeout | RetryOn.GatewayError | RetryOn.ServerError)) !== 0 ||
        r.perTryTimeoutMs !== undefined;
      unsafe = true;
    } else if (outcome >= 500)
      ok =
        (bits & RetryOn.ServerError) !== 0 || ((bits & RetryOn.GatewayError) !== 0 && outcome >= 502 && outcome <= 504);
    if (!ok && outcome > 0 && (bits & RetryOn.StatusCodes) !== 0 && r.statusCodes?.includes(outcome) === true)
      ok = true;
    if (!ok) return this.noRetry(outcome, NotRetried.NotCovered);
    if (unsafe && !this.idempotent) return this.noRetry(outcome, NotRetried.NotIdempotent);
    if (this.body !== undefined && !this.body.replayable) {
      this.extras().noReplay = this.body.notReplayableReason;
      return false;
    }
    const budget = this.table.budget;
    if (budget !== undefined && !budget.tryWithdraw()) {
      this.extras().budgetSpent = true;
      return false;
    }
    return true;
  }

  /** Notes why a failure without a response is not retried (for the error); a 5xx answer needs no note. */
  private noRetry(outcome: number, why: NotRetried): false {
    if (outcome < 0) this.extras().notRetried = why;
    return false;
  }

  private scheduleRetry(failed: EndpointEntry | undefined): void {
    const x = this.extras();
    x.avoid = failed;
    const r = this.retry;
    const cap = r === undefined ? 0 : Math.min(r.backoffMaxMs, r.backoffBaseMs * 2 ** (this.tries - 1));
    const delay = Math.floor(Math.random() * cap);
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
    if (entry !== undefined) {
      const picker = this.subset.picker;
      if (a.picker === picker) picker.onEnd(a.index, duration);
      else if (a.picker !== undefined) {
        // The endpoint set changed while the attempt ran: when the rebuilt pickers carried its
        // in-flight count over, the end is reported there (to the endpoint's new index).
        const index = this.subset.carriedIndex(entry, a.generation);
        if (index >= 0) picker.onEnd(index, duration);
      }
      entry.inflight--;
      entry.breaker.release(a.token, outcome);
      if (outcome !== 0) this.engine.recordOutcome(entry, outcome);
    }
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
        entry === undefined ? (outcome === -2 ? 'fault-reset' : `fault-abort ${outcome}`) : outcomeReason(outcome),
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
    if (x?.budgetSpent === true) {
      this.fail(
        'WEFT_ERR_RETRY_BUDGET_EXHAUSTED',
        `${what} failed and the retry budget is spent: ${failureText(last)}`,
        503,
      );
      return;
    }
    const reason =
      x?.noReplay ??
      (last === undefined ? '' : notRetriedText(x?.notRetried ?? NotRetried.No, last.outcome, this.opts.method));
    const why = reason === '' ? '' : ` (not retried: ${reason})`;
    if (last?.outcome === -3 && this.tries === 1) {
      this.fail('WEFT_ERR_TIMEOUT', `${what} timed out: ${failureText(last)}${why}`, 504, last.error);
      return;
    }
    const n = history?.length ?? 0;
    const head = n > 1 ? `${what} failed after ${n} attempts, the last: ` : `${what} failed: `;
    this.fail('WEFT_ERR_RETRIES_EXHAUSTED', `${head}${failureText(last)}${why}`, 504, last?.error);
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
      const rec: AccessLogRecord = {
        src: engine.src,
        dst: `${this.service}:${this.plan?.backendTags.join(',') ?? ''}`,
        status,
        start_time: new Date(x?.startWall || Date.now()).toISOString(),
        request_time: Math.round(durationMs) / 1000,
        upstream_response_time: x === undefined || x.upstreamMs < 0 ? null : Math.round(x.upstreamMs) / 1000,
        timestamp_in_ms: Date.now(),
        method: this.opts.method,
        path: this.opts.path,
        request_id: this.requestId,
        upstream_host: upstream ?? '-',
        attempts,
      };
      if (x?.traceId !== undefined) {
        rec.trace_id = x.traceId;
        if (x.spanId !== undefined) rec.span_id = x.spanId;
      }
      if (this.plan?.ruleId !== undefined) rec.rule_id = this.plan.ruleId;
      if (error !== undefined) rec.error_code = (error as { code?: string }).code ?? 'error';
      const traces = x?.traces;
      if (traces !== undefined) for (let i = 0; i + 1 < traces.length; i += 2) rec[traces[i] as string] = traces[i + 1];
      try {
        sink.write(rec);
      } catch {
        // A failing log sink must never fail the call.
      }
    }
  }
}
