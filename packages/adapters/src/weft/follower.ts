import { BackoffState } from '../internal/backoff.js';
import { type AdapterLogger, asError, describeError } from '../internal/log.js';
import { WatchHealth } from '../internal/watch-health.js';
import { hasStatus, TransportUnavailableError } from './errors.js';
import { type ResolvedFollowOptions, TRANSPORTS, type WatchTransport } from './follow-options.js';
import type { ControlPlaneHttp } from './http.js';
import { isReplicaFault, LaggingReplicaError, Replicas } from './replicas.js';
import { type FollowedState, type StreamEnd, streamOnce } from './sse-session.js';

export type { FollowedState } from './sse-session.js';

/** What a {@link Follower} reports to. */
export interface FollowHandlers {
  /**
   * A state read from the server. Returns true when the follower should resume from its revision
   * (it was applied, or seen and not worth reading again), false to keep resuming from the
   * revision held before (an older state that was ignored). May throw: a malformed state counts
   * as a failed read.
   */
  state(state: FollowedState): boolean;
  /** A read failed; the follower keeps trying. */
  error(error: Error): void;
}

/** Where the follower logs, and under which name. */
export interface FollowLog {
  readonly source: string;
  readonly logger: AdapterLogger;
}

/** Extra time a long-poll may take past its `wait` before it counts as hung, ms. */
const LONG_POLL_SLACK_MS = 5_000;
/** Long-polls answered at once with nothing new, in a row, that show the server ignores `index`. */
const QUICK_ANSWERS_LIMIT = 3;

/** `path` with more query parameters. */
function withQuery(path: string, params: Record<string, string>): string {
  const q = new URLSearchParams(params).toString();
  return `${path}${path.includes('?') ? '&' : '?'}${q}`;
}

/**
 * Follows one read of a Weft server — the registry's instances, the controller's rules — for as
 * long as it runs, over the best transport that works:
 *
 * 1. **SSE** (`Accept: text/event-stream`): each state arrives as a `snapshot` event, pushed.
 *    Every reconnect first reads the state once, plainly, then resumes the stream from that
 *    revision with `Last-Event-ID` (so nothing between the two is lost or sent twice). The plain
 *    read is there because a stream ends when its server goes away, and the server that answers
 *    the reconnect may have a history of its own: a registry restarted from its file keeps its
 *    instances, not its revisions, and may land on the very revision the client holds — `Last-
 *    Event-ID` alone would then wait, silently, for a change (and a consumer that saw the outage
 *    would stay marked stale until one came). Reconnects are rare; one read each is cheap.
 * 2. **Long-poll** (`?index=N&wait=…`), when SSE is refused: a 4xx answer to the stream request
 *    (a 5xx or 429 only when it repeats: once may be a gateway while the server restarts), a plain
 *    answer instead of a stream, or a stream that sends nothing, or no answer at all, within the
 *    idle timeout (a buffering proxy). The first request after a start or a failure is a plain read.
 * 3. **Polling** at `pollIntervalMs`, when long-poll does not work either: no `x-weft-index`
 *    revision in the answers (an Amalgam8 server), `index` rejected (400), or answered at once
 *    every time.
 *
 * A fallback is taken only once the simpler transport has worked: when it fails too, the server
 * is down rather than picky, and the follower returns to the better transport and backs off.
 * After `retryPreferredAfterMs` in a fallback, the preferred transport is tried again. Failures
 * back off (100 ms doubling to 5 s, jittered) and are reported, each one, so consumers can mark
 * their state stale; the follower never gives up until stopped.
 *
 * **Replicas.** Given several base URLs (the replicas of one control plane, sharing one store),
 * the follower stays on one while it answers and moves to the next when it fails — no answer, a
 * 5xx or 429, a stream that breaks or stalls — at once, resuming from the revision it holds (the
 * reconnect's plain read, then `Last-Event-ID` / `?index=`), so no change is missed and none is
 * delivered twice. Only a whole round of failed replicas is reported to the consumer and backed
 * off from. Revisions never go back: a replica that answers with an older revision than the one
 * held lags behind (or serves another store); its state is not delivered, a debug event says so,
 * and the follower tries the next replica (backing off after a round). Only when *every* replica
 * answers behind — a lone server that restarted without its revisions, a store restored from a
 * backup — is the older state handed to the consumer, which decides (the registry source
 * relists, the rules source keeps the rules in force).
 */
export class Follower {
  private readonly abort = new AbortController();
  private readonly backoff: BackoffState;
  /** Paces long-polls that come back at once with nothing to apply. */
  private readonly spin: BackoffState;
  private mode: WatchTransport;
  /** The transport a fallback came from, until the simpler one has worked once. */
  private trialFrom: WatchTransport | undefined;
  private trialReason = '';
  private degradedAt = 0;
  /** The revision to resume from (`Last-Event-ID`, long-poll `index`). */
  private held: number | undefined;
  /** The next stream is a reconnect: it starts with a plain read (see the class comment). */
  private reconnecting = false;
  /** The next long-poll / poll step starts with a plain read (after a start, a failure, a switch). */
  private fresh = true;
  private quickAnswers = 0;
  /** Transient refusals of the current transport in a row (see {@link TransportUnavailableError.transient}). */
  private transientRefusals = 0;
  private readonly warnedFallbacks = new Set<string>();
  private running: Promise<void> | undefined;
  private readonly replicas: Replicas;
  /** The replicas (by position) found behind the revision held, since one last answered at or past it. */
  private readonly behind = new Set<number>();
  /** Failure streaks: one warning each, every failure to the handlers, a debug event at the end. */
  private readonly health: WatchHealth;

  constructor(
    private readonly http: ControlPlaneHttp,
    private readonly path: string,
    private readonly options: ResolvedFollowOptions,
    private readonly handlers: FollowHandlers,
    private readonly log: FollowLog,
  ) {
    this.backoff = new BackoffState(options.backoff);
    this.spin = new BackoffState(options.backoff);
    this.mode = options.transport;
    this.replicas = new Replicas(http.connection.bases);
    this.health = new WatchHealth({
      source: log.source,
      object: path,
      logger: log.logger,
      clock: options.clock,
      onError: (error) => handlers.error(error),
    });
  }

  /** The transport in use. */
  get transport(): WatchTransport {
    return this.mode;
  }

  start(): void {
    this.running ??= this.run();
  }

  /** Stops following; a request in flight is aborted. Resolves when the loop has ended. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
  }

  private get signal(): AbortSignal {
    return this.abort.signal;
  }

  private async run(): Promise<void> {
    while (!this.signal.aborted) {
      this.maybeRetryPreferred();
      let pause: number;
      try {
        pause = await this.step();
        this.transientRefusals = 0;
        this.replicas.succeeded();
        this.confirmTrial();
      } catch (err) {
        if (this.signal.aborted) return;
        if (err instanceof LaggingReplicaError) pause = this.skipLagging(err);
        else if (err instanceof TransportUnavailableError && (!err.transient || ++this.transientRefusals >= 2)) {
          this.fallBack(err);
          continue;
        } else if (this.replicas.count > 1 && isReplicaFault(err) && !this.failover(asError(err)))
          pause = 0; // another replica, at once: only a whole round of failures is an outage
        else {
          // An outage — or a gateway error that may be one (a restarting server behind a proxy):
          // report it and back off; only a repeated refusal makes the follower fall back.
          this.fail(asError(err));
          pause = this.backoff.next();
        }
      }
      if (pause > 0) {
        try {
          await this.options.clock.sleep(pause, this.signal);
        } catch {
          return; // stopped
        }
      }
    }
  }

  /** One step of the current transport; resolves to the pause before the next one. */
  private async step(): Promise<number> {
    switch (this.mode) {
      case 'sse':
        return this.streamStep();
      case 'long-poll':
        if (this.fresh) {
          const revision = await this.readPlain();
          this.fresh = false;
          this.backoff.reset();
          if (revision === undefined)
            throw new TransportUnavailableError('long-poll', 'the server sends no x-weft-index revision to wait on');
          return 0;
        }
        {
          const pause = await this.longPoll();
          this.backoff.reset();
          return pause;
        }
      case 'poll':
        await this.readPlain();
        this.fresh = false;
        this.backoff.reset();
        return this.options.pollIntervalMs;
    }
  }

  private async streamStep(): Promise<number> {
    if (this.reconnecting) await this.readPlain(); // see the class comment
    this.reconnecting = true;
    const end: StreamEnd = await streamOnce(
      this.http,
      {
        path: this.path,
        base: this.replicas.current,
        lastEventId: this.held,
        idleTimeoutMs: this.options.sseIdleTimeoutMs,
        clock: this.options.clock,
        signal: this.signal,
      },
      (state) => this.deliver(state),
    );
    if (this.signal.aborted) return 0;
    if (end.how !== 'clean')
      // It starts a failure streak (one warning), but the consumer is told only if the reconnect
      // fails too: a stream reopened at once leaves nothing stale.
      this.health.failed(
        end.how === 'idle' ? new Error(`it was silent for ${this.options.sseIdleTimeoutMs} ms`) : end.cause,
        { what: `the event stream of ${this.path}`, report: false },
      );
    else this.log.logger.debug?.(`${this.log.source}: the event stream ended; reconnecting`, { path: this.path });
    if (end.events > 0) this.backoff.reset();
    if (end.how !== 'clean' && this.replicas.count > 1) {
      // A broken or stalled stream: its replica may be going away. Resume on the next one at once
      // (its `retry:` was about reconnecting to itself); a stream that delivered nothing backs off.
      this.failover(asError(end.cause ?? new Error(`silent for ${this.options.sseIdleTimeoutMs} ms`)));
      return end.events > 0 ? 0 : this.backoff.next();
    }
    // The server's `retry:` paces reconnects; a stream that delivered nothing also backs off, so
    // a proxy that cuts every stream at once cannot turn this into a busy loop.
    return Math.max(end.retryMs ?? 0, end.events > 0 ? 0 : this.backoff.next());
  }

  /** A plain read, delivered; resolves to its revision. */
  private async readPlain(): Promise<number | undefined> {
    const res = await this.http.json({
      method: 'GET',
      path: this.path,
      base: this.replicas.current,
      signal: this.signal,
    });
    this.deliver(res);
    return res.revision;
  }

  /** One long-poll; resolves to the pause before the next. */
  private async longPoll(): Promise<number> {
    const wait = this.options.longPollWaitMs;
    const index = this.held ?? 0;
    const started = this.options.clock.now();
    let res: Awaited<ReturnType<ControlPlaneHttp['json']>>;
    try {
      res = await this.http.json({
        method: 'GET',
        path: withQuery(this.path, { index: String(index), wait: `${Math.round(wait)}ms` }),
        base: this.replicas.current,
        signal: this.signal,
        headersTimeoutMs: wait + LONG_POLL_SLACK_MS,
      });
    } catch (err) {
      if (hasStatus(err, 400))
        throw new TransportUnavailableError('long-poll', `the server refused index/wait: ${err.message}`);
      throw err;
    }
    if (res.revision === undefined)
      throw new TransportUnavailableError(
        'long-poll',
        'the server answered a long-poll without an x-weft-index revision',
      );
    const quick = this.options.clock.now() - started < Math.min(1_000, wait / 2);
    const before = this.held;
    if (quick && res.revision === before && ++this.quickAnswers >= QUICK_ANSWERS_LIMIT)
      throw new TransportUnavailableError(
        'long-poll',
        'the server answers long-polls at once with nothing new (it ignores index)',
      );
    this.deliver(res);
    if (!quick || this.held !== before) {
      this.quickAnswers = 0;
      this.spin.reset();
      return 0;
    }
    // Answered at once, and nothing to resume from: the same state again, or one the consumer
    // refused (a controller behind the revision in force answers every index above its own at
    // once). Pace the next request, or this would be a busy loop against the server.
    return this.spin.next();
  }

  private deliver(state: FollowedState): void {
    const held = this.held;
    if (state.revision !== undefined && held !== undefined && state.revision < held) {
      this.behind.add(this.replicas.currentIndex);
      // Every replica behind is no lagging replica but a history that started over: the handlers decide.
      if (this.behind.size < this.replicas.count)
        throw new LaggingReplicaError(this.replicas.label, state.revision, held);
    } else this.behind.clear();
    this.replicas.succeeded();
    if (this.handlers.state(state)) this.held = state.revision;
    if (this.health.failing) this.health.recovered();
  }

  /**
   * Moves to the next replica after the one in use failed; true when that completes a round of
   * failed replicas (then the failure is reported and backed off from, as with a single server).
   */
  private failover(err: Error): boolean {
    const from = this.replicas.label;
    const round = this.replicas.failover();
    // A replica that fails says nothing of the transport: the next one gets the better one again.
    this.restartAfterFailure();
    this.log.logger.debug?.(
      `${this.log.source}: the replica ${from} failed (${describeError(err)}); trying ${this.replicas.label}`,
      { path: this.path, replica: from, next: this.replicas.label },
    );
    return round;
  }

  /** A lagging replica's state was not delivered: tries the next replica; resolves to the pause before it. */
  private skipLagging(err: LaggingReplicaError): number {
    const round = this.replicas.failover();
    this.fresh = true;
    this.quickAnswers = 0;
    this.log.logger.debug?.(
      `${this.log.source}: ${err.message}; not delivered (revisions never go back), trying ${this.replicas.label}`,
      { path: this.path, replica: err.replica, revision: err.revision, held: err.held, next: this.replicas.label },
    );
    // A round of lagging (or failed) replicas: wait before asking again, they may catch up.
    return round ? this.backoff.next() : 0;
  }

  /** Switches to the next simpler transport, on trial until it works once. */
  private fallBack(err: TransportUnavailableError): void {
    const next = TRANSPORTS[TRANSPORTS.indexOf(this.mode) + 1];
    if (next === undefined) {
      this.fail(err); // polling refused: nothing simpler exists; treat it as a failure
      return;
    }
    this.trialFrom ??= this.mode;
    this.trialReason = this.trialReason === '' ? err.message : `${this.trialReason}; ${err.message}`;
    this.log.logger.debug?.(`${this.log.source}: ${this.mode} unavailable (${err.message}); trying ${next}`);
    this.mode = next;
    this.fresh = true;
    this.quickAnswers = 0;
    this.transientRefusals = 0;
  }

  /** A step worked: a pending fallback is now known to be needed. */
  private confirmTrial(): void {
    const from = this.trialFrom;
    if (from === undefined) return;
    this.trialFrom = undefined;
    const reason = this.trialReason;
    this.trialReason = '';
    this.degradedAt = this.options.clock.now();
    const key = `${from}>${this.mode}`;
    const message = `${this.log.source}: following ${this.path} by ${this.mode === 'poll' ? `polling every ${this.options.pollIntervalMs} ms` : this.mode}: ${from} is unavailable (${reason})`;
    if (this.warnedFallbacks.has(key)) {
      this.log.logger.debug?.(message);
      return;
    }
    this.warnedFallbacks.add(key);
    this.log.logger.warn({ code: 'WEFT_WARN_WATCH_FALLBACK', message, source: this.log.source, object: this.path });
  }

  private fail(err: Error): void {
    // The simpler transport fails too: the server is away, not picky. Back to the better one.
    this.restartAfterFailure();
    this.health.failed(err, { what: `reading ${this.path}` });
  }

  /**
   * After a failed read: ends a trial of the simpler transport (back to the better one), and makes
   * the next read a fresh one, with no quick answers counted.
   */
  private restartAfterFailure(): void {
    if (this.trialFrom !== undefined) {
      this.mode = this.trialFrom;
      this.trialFrom = undefined;
      this.trialReason = '';
    }
    this.fresh = true;
    this.quickAnswers = 0;
  }

  private maybeRetryPreferred(): void {
    if (this.mode === this.options.transport || this.trialFrom !== undefined) return;
    if (this.options.clock.now() - this.degradedAt < this.options.retryPreferredAfterMs) return;
    this.log.logger.debug?.(`${this.log.source}: trying ${this.options.transport} again`);
    this.mode = this.options.transport;
    this.fresh = true;
  }
}
