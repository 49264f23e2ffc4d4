import { type Clock, systemClock } from '../clock/index.js';
import { InvalidArgumentError, type ValidationIssue } from '../errors/index.js';
import { invoke, raceAbort } from './abort.js';
import { type Backoff, type BackoffOptions, backoffDelay, resolveBackoff } from './backoff.js';
import { type AttemptRecord, RetriesExhaustedError, RetryBudgetExhaustedError, TimeoutError } from './errors.js';
import { Emitter, type Event } from './event.js';
import {
  type CallOutcome,
  type Classifier,
  defaultClassifier,
  isGatewayError,
  isNeutral,
  isServerError,
  Outcome,
} from './outcome.js';
import type { Policy, PolicyFn } from './policy.js';
import { retryAfterOf } from './retry-after.js';
import { RetryBudget, type RetryBudgetOptions } from './retry-budget.js';
import { Deadline, type TimeoutMode } from './timeout.js';

/**
 * When to retry, in Envoy's vocabulary:
 * - `5xx`: any 5xx status, or no response at all (connect failure, reset, timeout, error);
 * - `gateway-error`: 502, 503, 504, connect failure, reset, timeout;
 * - `connect-failure`, `reset`, `timeout`: only that local failure;
 * - `retriable-status-codes`: the statuses in `retriableStatusCodes` (listed statuses are
 *   retried with or without this condition — a list that does nothing would be a trap).
 */
export type RetryCondition =
  | '5xx'
  | 'gateway-error'
  | 'connect-failure'
  | 'reset'
  | 'timeout'
  | 'retriable-status-codes';

/** What {@link RetryOptions.retryIf} is told about a finished attempt. */
export interface RetryInfo {
  /** The attempt's outcome. */
  readonly outcome: CallOutcome;
  /** 1-based number of the attempt that just finished. */
  readonly attempt: number;
  /** What it returned (execute only). */
  readonly result?: unknown;
  /** What it threw (execute only). */
  readonly error?: unknown;
}

/**
 * The options that shape each retry decision ({@link RetryPolicy.decide}): how many attempts,
 * which outcomes, how long to wait. The one retry vocabulary of Weft: `execute` takes them (as
 * part of {@link RetryOptions}), the rules compile to them (`fromRouteRetrySettings`), and
 * `@weft/proxy` takes them for its own loop (MeshAgent's and the sidecar's `retry` option).
 */
export interface RetryDecisionOptions {
  /** Attempts in total, the first included; >= 1. Default 3. (Amalgam8's `http_req_retries` + 1.) */
  maxAttempts?: number;
  /**
   * Conditions that make an attempt retryable. Default `['5xx', 'connect-failure', 'reset']`,
   * the policy Amalgam8 gave Envoy.
   */
  retryOn?: readonly RetryCondition[];
  /** Statuses retried in addition to `retryOn` (say 409 or 429). */
  retriableStatusCodes?: readonly number[];
  /** Backoff between attempts; see {@link BackoffOptions}. */
  backoff?: BackoffOptions;
  /**
   * Upper bound for a `Retry-After` hint. A hint longer than the backoff is waited for, up to
   * this cap, so one server cannot park a client for an hour. Default 30 000 ms.
   */
  maxRetryAfterMs?: number;
  /** Deadline of each attempt. A timed-out attempt has outcome `Timeout`. */
  perTryTimeoutMs?: number;
}

/** Options of a {@link RetryPolicy}: the decision options, plus what `execute` needs to run the loop. */
export interface RetryOptions extends RetryDecisionOptions {
  /** A custom predicate, OR-ed with the conditions above. */
  retryIf?: (info: RetryInfo) => boolean;
  /**
   * The retry budget: a shared {@link RetryBudget} (share one per upstream across routes),
   * options for a private one, or `false` for none. Default: a private budget with the Finagle
   * defaults (20 % of requests + 10 retries/s over 10 s).
   */
  budget?: RetryBudget | RetryBudgetOptions | false;
  /**
   * Deadline of the whole call, retries and waits included (execute only). When it expires the
   * call rejects with a {@link TimeoutError} that carries the attempt history; a retry whose wait
   * would outlast it is not attempted.
   */
  overallTimeoutMs?: number;
  /** How per-try deadlines are enforced; default `aggressive`. See {@link TimeoutMode}. */
  timeoutMode?: TimeoutMode;
  /** Maps values and errors to outcomes; default {@link defaultClassifier}. */
  classify?: Classifier;
  /**
   * Called with the value of an attempt that is thrown away because it is retried (a 503
   * `Response` whose body should be cancelled, say), so nothing leaks.
   */
  onDiscard?: (result: unknown) => void;
  /** Default {@link systemClock}. */
  clock?: Clock;
  /** Uniform [0, 1) source for jitter; default `Math.random`. */
  random?: () => number;
}

/** Negative results of {@link RetryPolicy.decide}: why not to retry. */
export const RetryVerdict = {
  /** The outcome is not one the policy retries: hand it to the caller as is. */
  NotRetryable: -1,
  /** That was the last allowed attempt. */
  AttemptsExhausted: -2,
  /** The retry budget is spent. */
  BudgetExhausted: -3,
} as const;

/** Emitted by {@link RetryPolicy.onRetry} before each wait. */
export interface RetryEvent {
  /** The attempt that failed (1-based). */
  readonly attempt: number;
  /** Its outcome. */
  readonly outcome: CallOutcome;
  /** The wait before the next attempt. */
  readonly delayMs: number;
  /** What it threw, if it threw. */
  readonly error?: unknown;
}

/** Emitted by {@link RetryPolicy.onGiveUp}. */
export interface GiveUpEvent {
  /** `attempts`: max attempts used; `budget`: budget spent; `deadline`: the overall timeout. */
  readonly reason: 'attempts' | 'budget' | 'deadline';
  /** The history. */
  readonly attempts: readonly AttemptRecord[];
}

const COND_5XX = 1;
const COND_GATEWAY = 2;
const COND_CONNECT = 4;
const COND_RESET = 8;
const COND_TIMEOUT = 16;
const CONDITION_BITS: Record<RetryCondition, number> = {
  '5xx': COND_5XX,
  'gateway-error': COND_GATEWAY,
  'connect-failure': COND_CONNECT,
  reset: COND_RESET,
  timeout: COND_TIMEOUT,
  'retriable-status-codes': 0,
};

/**
 * Retries failed calls with exponential backoff and jitter, honouring `Retry-After`, within a
 * retry budget. When it gives up, the error carries every attempt
 * (`{attempt, outcome, status, error, durationMs, delayMs}`) instead of a bare "fetch failed".
 *
 * Two ways to use it:
 * - `retry.execute(fn, signal)` runs the whole loop;
 * - a proxy that runs its own loop calls {@link RetryPolicy.onRequest} per request and
 *   {@link RetryPolicy.decide} after each failed attempt — no closures, no allocation.
 */
export class RetryPolicy implements Policy {
  /** Attempts in total, the first included. */
  readonly maxAttempts: number;
  /** The budget retries draw on, if any. */
  readonly budget: RetryBudget | undefined;
  /** Resolved backoff settings. */
  readonly backoff: Backoff;
  private readonly conditions: number;
  private readonly statusCodes: readonly number[];
  private readonly retryIf: ((info: RetryInfo) => boolean) | undefined;
  private readonly maxRetryAfterMs: number;
  private readonly perTryTimeoutMs: number | undefined;
  private readonly overallTimeoutMs: number | undefined;
  private readonly timeoutMode: TimeoutMode;
  private readonly classify: Classifier;
  private readonly onDiscard: ((result: unknown) => void) | undefined;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly retryEmitter = new Emitter<RetryEvent>();
  private readonly giveUpEmitter = new Emitter<GiveUpEvent>();

  /** Fires before each wait for a retry. */
  readonly onRetry: Event<RetryEvent> = this.retryEmitter.event;
  /** Fires when the policy stops retrying a call that still fails. */
  readonly onGiveUp: Event<GiveUpEvent> = this.giveUpEmitter.event;

  constructor(options: RetryOptions = {}) {
    const issues: ValidationIssue[] = [];
    const maxAttempts = options.maxAttempts ?? 3;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
      issues.push({ path: 'maxAttempts', message: 'must be an integer >= 1' });
    }
    for (const [key, value] of [
      ['perTryTimeoutMs', options.perTryTimeoutMs],
      ['overallTimeoutMs', options.overallTimeoutMs],
    ] as const) {
      if (value !== undefined && !(value > 0)) issues.push({ path: key, message: 'must be > 0' });
    }
    const backoff = resolveBackoff(options.backoff);
    if (!(backoff.baseMs >= 0) || !(backoff.maxMs >= backoff.baseMs)) {
      issues.push({ path: 'backoff', message: 'needs 0 <= baseMs <= maxMs' });
    }
    let conditions = 0;
    for (const c of options.retryOn ?? ['5xx', 'connect-failure', 'reset']) {
      const bit = CONDITION_BITS[c];
      if (bit === undefined) issues.push({ path: 'retryOn', message: `unknown condition "${String(c)}"` });
      else conditions |= bit;
    }
    if (issues.length > 0) throw new InvalidArgumentError('retry options', issues);

    this.maxAttempts = maxAttempts;
    this.backoff = backoff;
    this.conditions = conditions;
    this.statusCodes = [...(options.retriableStatusCodes ?? [])];
    this.retryIf = options.retryIf;
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? 30_000;
    this.perTryTimeoutMs = options.perTryTimeoutMs;
    this.overallTimeoutMs = options.overallTimeoutMs;
    this.timeoutMode = options.timeoutMode ?? 'aggressive';
    this.classify = options.classify ?? defaultClassifier;
    this.onDiscard = options.onDiscard;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    const budget = options.budget;
    this.budget =
      budget === false
        ? undefined
        : budget instanceof RetryBudget
          ? budget
          : new RetryBudget({ ...budget, clock: budget?.clock ?? this.clock });
  }

  /** Records an original request with the budget. Call once per request, not per attempt. */
  onRequest(): void {
    this.budget?.onRequest();
  }

  /** Whether `outcome` is one this policy retries (ignoring attempts and budget). */
  isRetryable(outcome: CallOutcome, info?: RetryInfo): boolean {
    if (outcome === Outcome.Cancelled) return false;
    const c = this.conditions;
    if (
      !isNeutral(outcome) &&
      (((c & COND_5XX) !== 0 && isServerError(outcome)) ||
        ((c & COND_GATEWAY) !== 0 && isGatewayError(outcome)) ||
        ((c & COND_CONNECT) !== 0 && outcome === Outcome.ConnectFailure) ||
        ((c & COND_RESET) !== 0 && outcome === Outcome.Reset) ||
        ((c & COND_TIMEOUT) !== 0 && outcome === Outcome.Timeout) ||
        this.statusCodes.includes(outcome))
    ) {
      return true;
    }
    return this.retryIf?.(info ?? { outcome, attempt: 0 }) === true;
  }

  /**
   * The low-level retry decision, for a proxy's own loop: after attempt `attempt` (1-based)
   * ended with `outcome`, returns the delay in ms before the next attempt (and spends one retry
   * from the budget), or a negative {@link RetryVerdict}.
   *
   * @param previousDelayMs - the previous delay returned for this request (0 before the first
   *   retry); decorrelated jitter grows from it.
   * @param retryAfterMs - a parsed `Retry-After` hint, or -1 for none.
   */
  decide(attempt: number, outcome: CallOutcome, previousDelayMs = 0, retryAfterMs = -1): number {
    if (!this.isRetryable(outcome, this.retryIf === undefined ? undefined : { outcome, attempt })) {
      return RetryVerdict.NotRetryable;
    }
    if (attempt >= this.maxAttempts) return RetryVerdict.AttemptsExhausted;
    if (this.budget !== undefined && !this.budget.tryWithdraw()) return RetryVerdict.BudgetExhausted;
    return this.delayFor(attempt, previousDelayMs, retryAfterMs);
  }

  /** Runs `fn`, retrying as configured. */
  async execute<T>(fn: PolicyFn<T>, signal?: AbortSignal): Promise<T> {
    signal?.throwIfAborted();
    this.budget?.onRequest();
    const clock = this.clock;
    const overall =
      this.overallTimeoutMs === undefined ? undefined : new Deadline(clock, this.overallTimeoutMs, signal, 'overall');
    // The signal that ends the whole call: caller's abort or the overall deadline.
    const outer = overall?.signal ?? signal ?? new AbortController().signal;
    // Racing costs an abort listener per attempt (EventTarget is slow): skip it when nothing can abort.
    const abortable = overall !== undefined || signal !== undefined;
    const history: AttemptRecord[] = [];
    let previousDelay = 0;
    let lastError: unknown;
    try {
      for (let attempt = 1; ; attempt++) {
        const started = clock.now();
        const perTry =
          this.perTryTimeoutMs === undefined ? undefined : new Deadline(clock, this.perTryTimeoutMs, outer, 'try');
        const trySignal = perTry?.signal ?? outer;
        let result: T | undefined;
        let error: unknown;
        let threw = false;
        try {
          const running = invoke(fn, { signal: trySignal, attempt });
          // Never wait past the caller's abort or the overall deadline; per try, only in aggressive mode.
          if (perTry !== undefined && this.timeoutMode === 'aggressive') result = await raceAbort(running, trySignal);
          else result = await (abortable ? raceAbort(running, outer) : running);
        } catch (err) {
          threw = true;
          error = err;
        } finally {
          perTry?.clear();
        }
        const durationMs = clock.now() - started;
        if (threw && outer.aborted) {
          history.push({ attempt, outcome: overall?.expired ? Outcome.Timeout : Outcome.Cancelled, error, durationMs });
          throw this.stopped(outer, overall, history, error);
        }
        const outcome = threw ? this.classify.error(error) : this.classify.result(result);
        const record: { -readonly [K in keyof AttemptRecord]: AttemptRecord[K] } = { attempt, outcome, durationMs };
        if (outcome >= 100) record.status = outcome;
        if (threw) record.error = error;
        history.push(record);
        lastError = threw ? error : undefined;

        const info: RetryInfo | undefined =
          this.retryIf === undefined ? undefined : threw ? { outcome, attempt, error } : { outcome, attempt, result };
        if (!this.isRetryable(outcome, info)) {
          if (threw) throw error;
          return result as T;
        }
        const lastResult = threw ? undefined : result;
        if (attempt >= this.maxAttempts) {
          this.giveUp('attempts', history);
          throw new RetriesExhaustedError({ attempts: history, cause: lastError, lastResult });
        }
        const hint = retryAfterOf(threw ? error : result, clock.now()) ?? -1;
        const delay = this.delayFor(attempt, previousDelay, hint);
        // Waiting into a certain timeout helps nobody: give up now, while the caller can still act.
        if (overall !== undefined && delay >= overall.remainingMs()) {
          this.giveUp('deadline', history);
          throw new RetriesExhaustedError({ attempts: history, cause: lastError, lastResult });
        }
        if (this.budget !== undefined && !this.budget.tryWithdraw()) {
          this.giveUp('budget', history);
          throw new RetryBudgetExhaustedError({ attempts: history, cause: lastError, lastResult });
        }
        record.delayMs = delay;
        if (!threw) this.onDiscard?.(result);
        if (this.retryEmitter.size > 0) {
          this.retryEmitter.emit(
            threw ? { attempt, outcome, delayMs: delay, error } : { attempt, outcome, delayMs: delay },
          );
        }
        if (delay > 0) {
          try {
            await clock.sleep(delay, outer);
          } catch {
            throw this.stopped(outer, overall, history, lastError);
          }
        }
        previousDelay = delay;
      }
    } finally {
      overall?.clear();
    }
  }

  private delayFor(attempt: number, previousDelayMs: number, retryAfterMs: number): number {
    const delay = backoffDelay(this.backoff, attempt, previousDelayMs, this.random);
    return retryAfterMs >= 0 ? Math.max(delay, Math.min(retryAfterMs, this.maxRetryAfterMs)) : delay;
  }

  /** The error for a call stopped by its outer signal: the overall timeout (with history) or the caller's reason. */
  private stopped(
    outer: AbortSignal,
    overall: Deadline | undefined,
    history: AttemptRecord[],
    cause: unknown,
  ): unknown {
    if (overall?.expired) {
      this.giveUp('deadline', history);
      return new TimeoutError(overall.timeoutMs, overall.elapsedMs(), 'overall', { attempts: history, cause });
    }
    return outer.reason;
  }

  private giveUp(reason: GiveUpEvent['reason'], attempts: readonly AttemptRecord[]): void {
    if (this.giveUpEmitter.size > 0) this.giveUpEmitter.emit({ reason, attempts: [...attempts] });
  }
}
