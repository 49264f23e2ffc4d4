import type { Duplex } from 'node:stream';
import { type Bulkhead, type ErrorCode, Outcome, outcomeOfError, outcomeWord, type TimerHandle } from '@weft/core';
import type { Dispatcher } from 'undici';
import { type MeshAttempt, MeshRequestError, NO_ROUTE_CODE } from '../errors.js';
import { admit, admitAnother, NO_ENDPOINT, pickEndpoint, refusalText } from './admission.js';
import { Attempt, type AttemptOwner } from './attempt.js';
import { isCallerError, onReusedSocket, retryAfterOf } from './attempt-failure.js';
import { BodySource, BodyTooLargeError } from './body.js';
import {
  type AdmittedCall,
  failBulkheadFull,
  refusedByAuthorization,
  refusedByRateLimit,
  waitForSlot,
} from './call-admission.js';
import { CallExtras } from './call-extras.js';
import { applyFault, type FaultedCall } from './call-faults.js';
import { type MirroredCall, mirrorSentBody, skipMirror, startMirror } from './call-mirror.js';
import { type ReportedCall, reportFinished } from './call-telemetry.js';
import { armOverall, armPerTry, disarmOverall, onOverallTimeout } from './call-timeouts.js';
import { inheritsTrace, noteIncomingTrace, startSpan, type TracedCall } from './call-trace.js';
import type { DeadlineList, HasDeadline } from './deadlines.js';
import type { EngineContext } from './engine-context.js';
import { finalFailure } from './failure-text.js';
import { getHeader } from './headers.js';
import type { CallInit } from './options.js';
import { AS_GIVEN, flatHeader, planOutgoingHeaders } from './outgoing-headers.js';
import { nextRequestId } from './request-id.js';
import { decideRetry, NotRetried } from './retry-decision.js';
import type { RetryPlan } from './retry-plan.js';
import { isRouteFailure, type RoutePlan } from './route.js';
import { sendOptions } from './send-options.js';
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
 * One request through the mesh: route, pick, attempt, feedback, retry, telemetry. It is also the
 * stable {@link Dispatcher.DispatchController} the caller's handler sees across retries (pause /
 * resume / abort always reach the attempt in flight).
 *
 * Its mechanisms live in modules of one job each: plain functions taking the call (no
 * allocation; monomorphic, one class reaches them), each stating what it needs of the call as an
 * interface: admission (`call-admission`), fault injection (`call-faults`), timeouts
 * (`call-timeouts`), mirroring (`call-mirror`), trace context (`call-trace`), the finished
 * call's report (`call-telemetry`). Members marked `@internal` are public only for them.
 */
export class MeshCall
  implements Controller, HasDeadline, AttemptOwner, AdmittedCall, FaultedCall, MirroredCall, ReportedCall, TracedCall
{
  readonly requestId: string;
  attempt: Attempt | undefined;
  committed: Attempt | undefined;
  paused = false;
  private aborted_ = false;
  /** @internal */
  finished = false;
  /** Cold state, created on first use (see {@link CallExtras}). */
  private x: CallExtras | undefined = undefined;
  /** @internal */
  plan!: RoutePlan;
  /** @internal */
  retry: RetryPlan | undefined;
  /** @internal */
  subset!: Subset;
  /** @internal */
  sendOpts!: Dispatcher.DispatchOptions;
  /** @internal */
  body: BodySource | undefined;
  /** @internal */
  readonly startedAt = now();
  /** @internal */
  attemptNo = 0;
  /** Counted tries (transparent retries excluded). */
  private tries = 0;
  /** @internal */
  overall: TimerHandle | undefined;
  /** Overall deadline on the engine clock when the sweeper watches it (long timeouts). */
  deadline = 0;
  /** @internal Sweeper links. */
  dlPrev: HasDeadline | null = null;
  /** @internal Sweeper links. */
  dlNext: HasDeadline | null = null;
  /** @internal Sweeper links. */
  dlList: DeadlineList | null = null;
  /** @internal */
  timeoutMs = 0;
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

  /** @internal */
  extras(): CallExtras {
    if (this.x === undefined) this.x = new CallExtras();
    return this.x;
  }

  /**
   * A request header by lower-case name as the rules see it: what goes upstream. The sidecar's
   * own headers (`extraHeaders`: request id, X-Forwarded-*, the client certificate it vouches
   * for) win; a header it drops is not seen (but `Host` is: the upstream gets its own); then the
   * caller's; then one inherited from the incoming request.
   * @internal
   */
  header(lowerName: string): string | undefined {
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

  /** {@link header}, with the authority standing in for a Host the caller did not set. @internal */
  routeHeader(lowerName: string): string | undefined {
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
    if (peer !== undefined && engine.authorizer !== undefined && refusedByAuthorization(this, peer)) return;
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
    if (rateLimit !== undefined && refusedByRateLimit(this, rateLimit)) return;
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
        failBulkheadFull(this, bulkhead);
        return;
      }
    }
    if (this.retry !== undefined && this.retry.policy.maxAttempts > 1) this.table.budget?.onRequest();
    if (engine.accessLog !== undefined) this.extras().startWall = Date.now();

    // The common call (no tracing, no access log, no inherited headers) makes no call here.
    const tracing = engine.tracing.enabled(this.startedAt);
    const inheritedTrace = this.init?.inherited !== undefined && inheritsTrace(this, tracing);
    let traceparent: string | undefined;
    if (tracing) traceparent = startSpan(this, inheritedTrace);
    else if (engine.accessLog !== undefined) noteIncomingTrace(this);
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
    if (timeoutMs !== undefined && timeoutMs > 0) armOverall(this, timeoutMs);
    if (queued) waitForSlot(this, bulkhead as Bulkhead);
    // The first attempt starts now, in the same turn: its start time is the call's (a clock
    // read costs ~45 ns here, and a call needs three more).
    else this.nextAttempt(false, this.startedAt);
    if (plan.mirror !== undefined) startMirror(this, plan.mirror.tags);
  }

  /** The options each attempt sends (see {@link sendOptions}): the route's path, these headers. */
  private buildOpts(headers: Dispatcher.DispatchOptions['headers']): Dispatcher.DispatchOptions {
    const o = this.opts;
    return sendOptions(o, this.plan.path ?? o.path, headers ?? null);
  }

  /** Picks an endpoint and launches the next attempt; `at` is its start time when already read. @internal */
  nextAttempt(transparent: boolean, at?: number): void {
    if (this.finished) return;
    const no = ++this.attemptNo;
    if (!transparent) this.tries++;
    const picker = this.subset.picker;
    const index = pickEndpoint(this.subset, this.plan.hashKey, this.x?.avoid);
    if (index === NO_ENDPOINT) {
      this.failNoEndpoint();
      return;
    }
    // Faults are rolled per attempt, against the endpoint it goes to (see applyFault).
    const roll = this.plan.fault;
    if (roll !== undefined && applyFault(this, roll, no, picker, index, transparent)) return;
    this.launch(no, picker, index, transparent, at ?? now());
  }

  /** @internal */
  launch(no: number, picker: Picker<EndpointEntry>, index: number, transparent: boolean, at: number): void {
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
    if (perTry !== undefined && perTry > 0) armPerTry(this, a, perTry);
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
      if (this.attempt !== a) return;
      try {
        this.handler.onResponseStart?.(this, status, headers, statusText);
      } catch (err) {
        this.onHandlerThrow(a, controller, err);
      }
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
    try {
      this.handler.onResponseStart?.(this, status, headers, statusText);
    } catch (err) {
      this.onHandlerThrow(a, controller, err);
    }
  }

  private commit(a: Attempt): void {
    this.committed = a;
    this.attempt = a;
    if (a.headersAt > 0) this.extras().upstreamMs = a.headersAt - a.startedAt;
    if (a.timer !== undefined) {
      a.timer.clear();
      a.timer = undefined;
    }
    disarmOverall(this);
  }

  forwardData(chunk: Buffer): void {
    if (this.finished) return;
    try {
      this.handler.onResponseData?.(this, chunk);
    } catch (err) {
      const a = this.committed as Attempt;
      this.onHandlerThrow(a, a.controller, err);
    }
  }

  /**
   * The caller's handler threw from a response callback. As undici does for its own requests:
   * the request is aborted and the handler's `onResponseError` gets that very error. The
   * caller's exception is no upstream failure: no retry, and the attempt settles `cancelled`,
   * neutral for the endpoint's breaker and outlier detection (like the caller's own abort).
   */
  private onHandlerThrow(a: Attempt, controller: Controller | null, thrown: unknown): void {
    // The handler aborted before it threw: that abort (reported already, or about to be) wins.
    if (this.aborted_ || this.finished) return;
    const err = thrown as Error;
    this.aborted_ = true;
    this.extras().reason = err;
    if (!a.settled) this.settle(a, Outcome.Cancelled, err);
    // Closes the attempt's connection; its report of the abort finds the attempt settled.
    controller?.abort(err);
    this.finishWithError(err, this.committed === a ? a.status : 0);
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

  onAttemptRequestSent(): void {
    // Only a mirror waiting for a streamed body cares that the request was sent in full.
    if (this.x?.mirrorTags !== undefined) mirrorSentBody(this);
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

  /** The sweeper's callback (long overall timeouts). */
  onDeadline(): void {
    onOverallTimeout(this, this.timeoutMs);
  }

  // ── retry policy ────────────────────────────────────────────────────────────────────────────

  /**
   * Whether the failed attempt is tried again ({@link decideRetry}: core's `RetryPolicy`, then
   * idempotency, a replayable body, the timeout and the budget): the delay in ms, or a negative
   * {@link NotRetried}, noted for the error message.
   * @internal
   */
  retryDelay(outcome: number, retryAfterMs: number): number {
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

  /** @internal */
  scheduleRetry(failed: EndpointEntry | undefined, delayMs: number): void {
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
   * @internal
   */
  holdLoop(): void {
    const x = this.extras();
    if (x.holding) return;
    x.holding = true;
    this.engine.loopHold.acquire();
  }

  /** Feeds an attempt's outcome to the picker, breaker and outlier detection, and the history. @internal */
  settle(a: Attempt, outcome: number, error: Error | undefined): void {
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

  /** @internal */
  record(
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

  /** @internal */
  errorOptions(): { service: string; requestId: string; attempts: readonly MeshAttempt[] } {
    return { service: this.service, requestId: this.requestId, attempts: this.x?.history ?? [] };
  }

  /** @internal */
  failNoEndpoint(): void {
    this.fail('WEFT_ERR_NO_ENDPOINTS', `No healthy instance of ${this.service}`, 503);
  }

  /** The call ends without a response (see {@link finalFailure}). @internal */
  finalFail(): void {
    const x = this.x;
    const o = this.opts;
    const what = `${o.method} ${this.service}${o.path}`;
    const f = finalFailure(what, o.method, x?.history, x?.notRetried ?? 0, this.body, this.tries);
    this.fail(f.code, f.message, f.status, f.cause);
  }

  /** @internal */
  fail(code: ErrorCode, message: string, status: number, cause?: unknown): void {
    if (this.finished) return;
    const err = new MeshRequestError(code, message, {
      ...this.errorOptions(),
      status,
      ...(cause === undefined ? {} : { cause }),
    });
    this.finishWithError(err, status);
  }

  /** @internal */
  finishWithError(err: Error, status: number): void {
    if (this.finished) return;
    this.finish(status === 0 ? ((err as { status?: number }).status ?? 0) : status, err);
    this.handler.onResponseError?.(this, err);
  }

  /** @internal */
  finish(status: number, error: Error | undefined): void {
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
      if (x.mirrorTags !== undefined) skipMirror(this);
      if (x.wait !== undefined) x.wait.clear();
      if (x.holding) {
        x.holding = false;
        engine.loopHold.release();
      }
    }
    disarmOverall(this);
    reportFinished(this, x, status, error);
  }
}
