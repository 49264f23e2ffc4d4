import { type Clock, systemClock, type TimerHandle } from '../clock/index.js';
import { InvalidArgumentError, type ValidationIssue } from '../errors/index.js';
import { invoke, raceAbort } from './abort.js';
import { CircuitOpenError, TimeoutError } from './errors.js';
import { Emitter, type Event } from './event.js';
import { type CallOutcome, type Classifier, defaultClassifier, isNeutral, isServerError, Outcome } from './outcome.js';
import type { Policy, PolicyFn } from './policy.js';
import { createTripStrategy, type TripOptions, type TripStrategy } from './trip-strategy.js';

/** The states of a {@link CircuitBreaker}. */
export const CircuitState = {
  /** Calls flow; outcomes feed the trip strategy. */
  Closed: 'closed',
  /** Calls are refused until the open duration elapses. */
  Open: 'open',
  /** A few probe calls are let through; enough successes close the circuit, one failure re-opens it. */
  HalfOpen: 'half-open',
  /** Held open by hand ({@link CircuitBreaker.isolate}) until released. */
  Isolated: 'isolated',
} as const;

/** A state of a {@link CircuitBreaker}. */
export type CircuitState = (typeof CircuitState)[keyof typeof CircuitState];

/** Growth of the open duration while probes keep failing. */
export interface OpenBackoffOptions {
  /** Factor applied per consecutive re-open. Default 2. */
  multiplier?: number;
  /** Cap of the open duration. Default 10 × `openDurationMs`. */
  maxMs?: number;
}

/** Options of a {@link CircuitBreaker}. */
export interface CircuitBreakerOptions {
  /** When a closed circuit opens. Default `{kind: 'consecutive', threshold: 5}` (Amalgam8's `consecutive_errors`). */
  trip?: TripOptions | TripStrategy;
  /** How long the circuit stays open before probing. Default 30 000 ms (Amalgam8's `sleep_window`). */
  openDurationMs?: number;
  /**
   * Grow the open duration after each failed probe round (reset when the circuit closes), so a
   * backend that stays down is probed less and less often. Default: constant duration.
   */
  openBackoff?: OpenBackoffOptions | boolean;
  /** Probes allowed in flight at once in half-open. Default 3. */
  halfOpenMaxProbes?: number;
  /** Consecutive probe successes that close the circuit. Default 3. */
  halfOpenSuccesses?: number;
  /**
   * A probe still unsettled after this long counts as failed and frees its slot — the guard
   * against a breaker stuck half-open behind a call that never ends. Default `openDurationMs`.
   */
  probeTimeoutMs?: number;
  /**
   * Whether an outcome is a failure. Default: 5xx and local failures ({@link isServerError}).
   * Cancelled and locally rejected calls never count either way.
   */
  isFailure?: (outcome: CallOutcome) => boolean;
  /** Maps values and errors to outcomes (execute only). */
  classify?: Classifier;
  /** Default {@link systemClock}. */
  clock?: Clock;
}

/** Emitted by {@link CircuitBreaker.onStateChange}. */
export interface CircuitStateChange {
  readonly from: CircuitState;
  readonly to: CircuitState;
}

/** Emitted by {@link CircuitBreaker.onBreak}. */
export interface CircuitBreakEvent {
  /** `consecutive-failures`, `failure-rate` (or a custom strategy's reason), `probe-failed`, `probe-timeout`, `isolated`. */
  readonly reason: string;
  /** How long the circuit will stay open (0 when isolated). */
  readonly openDurationMs: number;
}

/** Token values {@link CircuitBreaker.tryAcquire} returns when it refuses. */
export const CircuitRejection = {
  /** Open or isolated. */
  Open: -1,
  /** Half-open and every probe slot is taken. */
  HalfOpenFull: -2,
} as const;

interface ProbeSlot {
  timer: TimerHandle;
  abort: AbortController;
}

const FAIL = 1;
const SUCCESS = 0;
const NEUTRAL = -1;

/**
 * A circuit breaker: closed → open (on the trip strategy) → half-open after the open duration
 * → closed after `halfOpenSuccesses` consecutive probe successes, or open again on a failed or
 * timed-out probe.
 *
 * Guarantees that the usual breakers lack:
 * - half-open admits at most `halfOpenMaxProbes` calls at once, not all traffic (opossum's bug);
 * - it cannot get stuck: a probe that never settles is failed after `probeTimeoutMs`, and a
 *   probe whose caller aborts frees its slot at once (counted neither way);
 * - outcomes of calls admitted in an earlier period (before the last state change) are ignored,
 *   so a slow success from before the outage cannot close a circuit.
 *
 * Hot-path API for a proxy: `const t = breaker.tryAcquire()` (negative = refused, see
 * {@link CircuitRejection}), then `breaker.release(t, outcome)` exactly once. Tokens are plain
 * numbers; nothing allocates on the closed path.
 *
 * Concurrency caps (Envoy's and Amalgam8's `max_requests` / `max_pending_requests`) are a
 * `Bulkhead`'s job; see `fromBackendResilience` for the mapping.
 */
export class CircuitBreaker implements Policy {
  /** Base open duration. */
  readonly openDurationMs: number;
  /** Probes allowed in flight in half-open. */
  readonly halfOpenMaxProbes: number;
  /** Probe successes needed to close. */
  readonly halfOpenSuccesses: number;
  private readonly probeTimeoutMs: number;
  private readonly backoffMultiplier: number;
  private readonly backoffMaxMs: number;
  private readonly strategy: TripStrategy;
  private readonly isFailure: ((outcome: CallOutcome) => boolean) | undefined;
  private readonly classify: Classifier;
  private readonly clock: Clock;

  private current: CircuitState = CircuitState.Closed;
  // Bumped on every state change; a closed-period token is `epoch * 2`, so stale tokens are detectable.
  private epoch = 0;
  private closedToken = 0;
  private nextProbeId = 1;
  private readonly probes = new Map<number, ProbeSlot>();
  private probeSuccesses = 0;
  private consecutiveOpens = 0;
  private openUntil = 0;
  private openTimer: TimerHandle | undefined;
  private isolations = 0;

  private readonly stateEmitter = new Emitter<CircuitStateChange>();
  private readonly breakEmitter = new Emitter<CircuitBreakEvent>();
  private readonly resetEmitter = new Emitter<void>();
  private readonly halfOpenEmitter = new Emitter<void>();

  /** Fires on every state change. */
  readonly onStateChange: Event<CircuitStateChange> = this.stateEmitter.event;
  /** Fires when the circuit opens (or is isolated). */
  readonly onBreak: Event<CircuitBreakEvent> = this.breakEmitter.event;
  /** Fires when the circuit closes. */
  readonly onReset: Event<void> = this.resetEmitter.event;
  /** Fires when the circuit becomes half-open and starts admitting probes. */
  readonly onHalfOpen: Event<void> = this.halfOpenEmitter.event;

  constructor(options: CircuitBreakerOptions = {}) {
    const issues: ValidationIssue[] = [];
    const openDurationMs = options.openDurationMs ?? 30_000;
    const probes = options.halfOpenMaxProbes ?? 3;
    const successes = options.halfOpenSuccesses ?? 3;
    const probeTimeoutMs = options.probeTimeoutMs ?? openDurationMs;
    if (!(openDurationMs > 0)) issues.push({ path: 'openDurationMs', message: 'must be > 0' });
    if (!Number.isInteger(probes) || probes < 1)
      issues.push({ path: 'halfOpenMaxProbes', message: 'must be an integer >= 1' });
    if (!Number.isInteger(successes) || successes < 1) {
      issues.push({ path: 'halfOpenSuccesses', message: 'must be an integer >= 1' });
    }
    if (!(probeTimeoutMs > 0)) issues.push({ path: 'probeTimeoutMs', message: 'must be > 0' });
    const backoff = options.openBackoff === true ? {} : options.openBackoff || undefined;
    const multiplier = backoff?.multiplier ?? (backoff ? 2 : 1);
    const maxMs = backoff?.maxMs ?? openDurationMs * 10;
    if (!(multiplier >= 1)) issues.push({ path: 'openBackoff.multiplier', message: 'must be >= 1' });
    if (!(maxMs >= openDurationMs)) issues.push({ path: 'openBackoff.maxMs', message: 'must be >= openDurationMs' });
    if (issues.length > 0) throw new InvalidArgumentError('circuit breaker options', issues);

    this.clock = options.clock ?? systemClock;
    this.openDurationMs = openDurationMs;
    this.halfOpenMaxProbes = probes;
    this.halfOpenSuccesses = successes;
    this.probeTimeoutMs = probeTimeoutMs;
    this.backoffMultiplier = multiplier;
    this.backoffMaxMs = maxMs;
    this.strategy = createTripStrategy(this.clock, options.trip);
    this.isFailure = options.isFailure;
    this.classify = options.classify ?? defaultClassifier;
  }

  /** The current state. */
  get state(): CircuitState {
    return this.current;
  }

  /** Probes in flight (half-open only). */
  get probesInFlight(): number {
    return this.probes.size;
  }

  /** Milliseconds until an open circuit starts probing (0 unless open). */
  retryAfterMs(): number {
    return this.current === CircuitState.Open ? Math.max(0, this.openUntil - this.clock.now()) : 0;
  }

  /**
   * Asks to make a call. Returns a token (>= 0) to hand back to {@link CircuitBreaker.release},
   * or a negative {@link CircuitRejection} when the call must not be made.
   */
  tryAcquire(): number {
    if (this.current === CircuitState.Closed) return this.closedToken;
    if (this.current === CircuitState.HalfOpen) return this.admitProbe();
    return CircuitRejection.Open;
  }

  /**
   * Reports how an admitted call ended. Call exactly once per non-negative token; extra or stale
   * releases are ignored, so a late release after a probe timeout is harmless.
   */
  release(token: number, outcome: CallOutcome): void {
    if (token < 0) return;
    const verdict = this.judge(outcome);
    if (token % 2 === 0) {
      // A call admitted while closed; only counts if the circuit has not changed since.
      if (token !== this.closedToken || this.current !== CircuitState.Closed || verdict === NEUTRAL) return;
      if (verdict === SUCCESS) this.strategy.success();
      else if (this.strategy.failure()) this.open(this.strategy.reason);
      return;
    }
    const slot = this.probes.get(token);
    if (slot === undefined) return; // timed out, or the circuit moved on
    slot.timer.clear();
    this.probes.delete(token);
    if (verdict === FAIL) this.open('probe-failed');
    else if (verdict === SUCCESS && ++this.probeSuccesses >= this.halfOpenSuccesses) this.close();
    // NEUTRAL (the caller gave up): the slot is free again and nothing is learnt.
  }

  /**
   * For a probe token, a signal that aborts (with a {@link TimeoutError}) when the probe times
   * out — hand it to the upstream call so a hung probe stops using a connection. `undefined` for
   * closed-period tokens and stale probes.
   */
  probeSignal(token: number): AbortSignal | undefined {
    return token % 2 === 1 ? this.probes.get(token)?.abort.signal : undefined;
  }

  /** The error matching a refusal token. */
  rejection(token: number): CircuitOpenError {
    if (token === CircuitRejection.HalfOpenFull) return new CircuitOpenError('half-open');
    return this.current === CircuitState.Isolated
      ? new CircuitOpenError('isolated')
      : new CircuitOpenError('open', this.retryAfterMs());
  }

  /**
   * Holds the circuit open by hand (maintenance, a kill switch) until every handle returned is
   * disposed; then the circuit closes.
   */
  isolate(): Disposable & { dispose(): void } {
    this.isolations++;
    if (this.current !== CircuitState.Isolated) {
      this.openTimer?.clear();
      this.clearProbes();
      this.transition(CircuitState.Isolated);
      this.breakEmitter.emit({ reason: 'isolated', openDurationMs: 0 });
    }
    let live = true;
    const dispose = (): void => {
      if (!live) return;
      live = false;
      if (--this.isolations === 0 && this.current === CircuitState.Isolated) this.close();
    };
    return { dispose, [Symbol.dispose]: dispose };
  }

  /** Runs `fn` if the circuit allows it; throws {@link CircuitOpenError} otherwise. */
  async execute<T>(fn: PolicyFn<T>, signal?: AbortSignal): Promise<T> {
    signal?.throwIfAborted();
    const token = this.tryAcquire();
    if (token < 0) throw this.rejection(token);
    if (token % 2 === 1) return this.runProbe(token, fn, signal);
    let result: T;
    try {
      // No race with the caller's signal here: a closed-state call holds no scarce slot, and an
      // abort listener per call would cost more than the rest of the breaker.
      result = await invoke(fn, { signal: signal ?? new AbortController().signal });
    } catch (err) {
      this.release(token, signal?.aborted ? Outcome.Cancelled : this.classify.error(err));
      throw err;
    }
    this.release(token, this.classify.result(result));
    return result;
  }

  /** Stops the timers (open duration, probe timeouts). The breaker must not be used afterwards. */
  dispose(): void {
    this.openTimer?.clear();
    this.clearProbes();
  }

  private async runProbe<T>(token: number, fn: PolicyFn<T>, signal: AbortSignal | undefined): Promise<T> {
    // The probe gets its own signal so that a probe timeout also stops the work (if it listens).
    const abort = (this.probes.get(token) as ProbeSlot).abort;
    const onCallerAbort = (): void => abort.abort(signal?.reason);
    signal?.addEventListener('abort', onCallerAbort, { once: true });
    try {
      const result = await raceAbort(invoke(fn, { signal: abort.signal }), abort.signal);
      this.release(token, this.classify.result(result));
      return result;
    } catch (err) {
      // A caller abort frees the slot without a verdict; a probe timeout was already counted.
      this.release(token, signal?.aborted ? Outcome.Cancelled : this.classify.error(err));
      throw err;
    } finally {
      signal?.removeEventListener('abort', onCallerAbort);
    }
  }

  private admitProbe(): number {
    if (this.probes.size >= this.halfOpenMaxProbes) return CircuitRejection.HalfOpenFull;
    const token = this.nextProbeId++ * 2 + 1;
    const started = this.clock.now();
    const timer = this.clock.setTimeout(() => {
      const slot = this.probes.get(token);
      if (slot === undefined) return;
      this.probes.delete(token);
      slot.abort.abort(new TimeoutError(this.probeTimeoutMs, this.clock.now() - started, 'try'));
      this.open('probe-timeout');
    }, this.probeTimeoutMs);
    // Allocated only for probes: the rare path may spend what the closed path must not.
    this.probes.set(token, { timer, abort: new AbortController() });
    return token;
  }

  private judge(outcome: CallOutcome): number {
    if (isNeutral(outcome)) return NEUTRAL;
    const failed = this.isFailure === undefined ? isServerError(outcome) : this.isFailure(outcome);
    return failed ? FAIL : SUCCESS;
  }

  private open(reason: string): void {
    if (this.current === CircuitState.Isolated) return;
    this.clearProbes();
    this.openTimer?.clear();
    const duration = Math.min(
      this.backoffMaxMs,
      this.openDurationMs * this.backoffMultiplier ** Math.min(this.consecutiveOpens, 64),
    );
    this.consecutiveOpens++;
    this.openUntil = this.clock.now() + duration;
    this.openTimer = this.clock.setTimeout(() => this.halfOpen(), duration);
    this.transition(CircuitState.Open);
    if (this.breakEmitter.size > 0) this.breakEmitter.emit({ reason, openDurationMs: duration });
  }

  private halfOpen(): void {
    if (this.current !== CircuitState.Open) return;
    this.probeSuccesses = 0;
    this.transition(CircuitState.HalfOpen);
    this.halfOpenEmitter.emit();
  }

  private close(): void {
    this.clearProbes();
    this.openTimer?.clear();
    this.consecutiveOpens = 0;
    this.strategy.reset();
    this.transition(CircuitState.Closed);
    this.resetEmitter.emit();
  }

  private clearProbes(): void {
    for (const slot of this.probes.values()) slot.timer.clear();
    this.probes.clear();
  }

  private transition(to: CircuitState): void {
    const from = this.current;
    this.current = to;
    this.epoch++;
    this.closedToken = this.epoch * 2;
    if (from !== to && this.stateEmitter.size > 0) this.stateEmitter.emit({ from, to });
  }
}
