import { brandErrorClass, WeftError, type WeftErrorOptions } from '../errors/index.js';
import { type CallOutcome, outcomeWord } from './outcome.js';

/** One attempt of a retried call, as reported in the final error. */
export interface AttemptRecord {
  /** 1-based attempt number. */
  readonly attempt: number;
  /** What happened: an HTTP status or an {@link Outcome} code. */
  readonly outcome: CallOutcome;
  /** The HTTP status, when the attempt got a response. */
  readonly status?: number;
  /** The error the attempt threw, when it threw. */
  readonly error?: unknown;
  /** How long the attempt took on the policy's clock. */
  readonly durationMs: number;
  /** The wait before the next attempt, when one followed. */
  readonly delayMs?: number;
}

/** Options of errors that carry an attempt history. */
export interface AttemptsErrorOptions extends WeftErrorOptions {
  /** The attempt history, oldest first. */
  attempts?: readonly AttemptRecord[];
  /** The value the last attempt returned, when it returned one (e.g. a 503 response). */
  lastResult?: unknown;
}

function attemptsJSON(attempts: readonly AttemptRecord[]): Record<string, unknown>[] {
  return attempts.map((a) => ({
    attempt: a.attempt,
    outcome: a.outcome,
    ...(a.status === undefined ? {} : { status: a.status }),
    ...(a.error === undefined ? {} : { error: a.error instanceof Error ? a.error.message : String(a.error) }),
    durationMs: a.durationMs,
    ...(a.delayMs === undefined ? {} : { delayMs: a.delayMs }),
  }));
}

function describe(attempts: readonly AttemptRecord[]): string {
  return attempts.map((a) => `#${a.attempt} ${outcomeText(a)} in ${Math.round(a.durationMs)} ms`).join(', ');
}

function outcomeText(a: AttemptRecord): string {
  if (a.status !== undefined) return String(a.status);
  const word = outcomeWord(a.outcome);
  return word === 'error' && a.error instanceof Error ? `error (${a.error.message})` : word;
}

/** Which deadline expired: one attempt's, or the whole call's. */
export type TimeoutScope = 'try' | 'overall';

/** A timeout expired (`WEFT_ERR_TIMEOUT`, HTTP 504). */
export class TimeoutError extends WeftError {
  static {
    brandErrorClass(TimeoutError, 'TimeoutError');
  }

  /** The configured timeout. */
  readonly timeoutMs: number;
  /** Time from the start of the call to the moment this error was raised. */
  readonly elapsedMs: number;
  /** Whether this was a per-try or an overall deadline. */
  readonly scope: TimeoutScope;
  /** Attempts made before an overall deadline expired, when a retry policy made them. */
  readonly attempts: readonly AttemptRecord[];

  constructor(
    timeoutMs: number,
    elapsedMs: number,
    scope: TimeoutScope = 'overall',
    options: AttemptsErrorOptions = {},
  ) {
    const attempts = options.attempts ?? [];
    const tail = attempts.length > 0 ? `; attempts: ${describe(attempts)}` : '';
    super(
      'WEFT_ERR_TIMEOUT',
      `${scope === 'try' ? 'Per-try' : 'Overall'} timeout of ${timeoutMs} ms expired after ${Math.round(elapsedMs)} ms${tail}`,
      options,
    );
    this.name = 'TimeoutError';
    this.timeoutMs = timeoutMs;
    this.elapsedMs = elapsedMs;
    this.scope = scope;
    this.attempts = Object.freeze([...attempts]);
  }

  override toJSON(): Record<string, unknown> {
    return {
      ...super.toJSON(),
      timeoutMs: this.timeoutMs,
      elapsedMs: this.elapsedMs,
      scope: this.scope,
      ...(this.attempts.length > 0 ? { attempts: attemptsJSON(this.attempts) } : {}),
    };
  }
}

/** Shared shape of the two "retrying stopped" errors. */
abstract class AttemptsError extends WeftError {
  /** Every attempt, oldest first. */
  readonly attempts: readonly AttemptRecord[];
  /** The outcome of the last attempt. */
  readonly lastOutcome: CallOutcome;
  /**
   * The value the last attempt returned, if it returned one (say a 503 response a proxy may
   * forward as is, as Envoy does); `undefined` when it threw — see `cause`.
   */
  readonly lastResult: unknown;

  constructor(
    code: 'WEFT_ERR_RETRIES_EXHAUSTED' | 'WEFT_ERR_RETRY_BUDGET_EXHAUSTED',
    message: string,
    options: AttemptsErrorOptions,
  ) {
    const attempts = options.attempts ?? [];
    super(code, attempts.length > 0 ? `${message}: ${describe(attempts)}` : message, options);
    this.attempts = Object.freeze([...attempts]);
    this.lastOutcome = attempts.at(-1)?.outcome ?? 0;
    this.lastResult = options.lastResult;
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), attempts: attemptsJSON(this.attempts) };
  }
}

/** Every allowed attempt failed (`WEFT_ERR_RETRIES_EXHAUSTED`, HTTP 504). `cause` is the last error. */
export class RetriesExhaustedError extends AttemptsError {
  static {
    brandErrorClass(RetriesExhaustedError, 'RetriesExhaustedError');
  }

  constructor(options: AttemptsErrorOptions = {}) {
    super('WEFT_ERR_RETRIES_EXHAUSTED', `Gave up after ${options.attempts?.length ?? 0} attempts`, options);
    this.name = 'RetriesExhaustedError';
  }
}

/**
 * A retry was warranted but the retry budget was spent (`WEFT_ERR_RETRY_BUDGET_EXHAUSTED`,
 * HTTP 503): the upstream is failing for many callers at once and retrying would only add load.
 */
export class RetryBudgetExhaustedError extends AttemptsError {
  static {
    brandErrorClass(RetryBudgetExhaustedError, 'RetryBudgetExhaustedError');
  }

  constructor(options: AttemptsErrorOptions = {}) {
    super(
      'WEFT_ERR_RETRY_BUDGET_EXHAUSTED',
      `Retry budget exhausted after ${options.attempts?.length ?? 0} attempts`,
      options,
    );
    this.name = 'RetryBudgetExhaustedError';
  }
}

/** The circuit breaker refused the call (`WEFT_ERR_CIRCUIT_OPEN`, HTTP 503). */
export class CircuitOpenError extends WeftError {
  static {
    brandErrorClass(CircuitOpenError, 'CircuitOpenError');
  }

  /** The breaker's state when it refused: `open`, `isolated`, or `half-open` with every probe slot busy. */
  readonly state: 'open' | 'half-open' | 'isolated';
  /** Milliseconds until the breaker lets a probe through (0 when unknown or half-open). */
  readonly retryAfterMs: number;

  constructor(state: 'open' | 'half-open' | 'isolated', retryAfterMs = 0, options: WeftErrorOptions = {}) {
    const why =
      state === 'half-open'
        ? 'half-open and every probe slot is taken'
        : state === 'isolated'
          ? 'held open (isolated)'
          : `open for another ${Math.ceil(retryAfterMs)} ms`;
    super('WEFT_ERR_CIRCUIT_OPEN', `Circuit breaker is ${why}`, options);
    this.name = 'CircuitOpenError';
    this.state = state;
    this.retryAfterMs = retryAfterMs;
  }
}

/** The bulkhead refused the call (`WEFT_ERR_BULKHEAD_FULL`, HTTP 503). */
export class BulkheadFullError extends WeftError {
  static {
    brandErrorClass(BulkheadFullError, 'BulkheadFullError');
  }

  /** `full`: every slot and queue place was taken; `queue-timeout`: the wait in the queue expired. */
  readonly reason: 'full' | 'queue-timeout';
  /** The bulkhead's concurrency limit. */
  readonly maxConcurrent: number;
  /** The bulkhead's queue limit. */
  readonly maxQueue: number;

  constructor(
    reason: 'full' | 'queue-timeout',
    maxConcurrent: number,
    maxQueue: number,
    options: WeftErrorOptions = {},
  ) {
    super(
      'WEFT_ERR_BULKHEAD_FULL',
      reason === 'full'
        ? `Bulkhead full: ${maxConcurrent} running and ${maxQueue} queued`
        : `Timed out waiting in the bulkhead queue (${maxConcurrent} running)`,
      options,
    );
    this.name = 'BulkheadFullError';
    this.reason = reason;
    this.maxConcurrent = maxConcurrent;
    this.maxQueue = maxQueue;
  }
}

/** The rate limiter had no token (`WEFT_ERR_RATE_LIMITED`, HTTP 429). */
export class RateLimitedError extends WeftError {
  static {
    brandErrorClass(RateLimitedError, 'RateLimitedError');
  }

  /** Milliseconds until a token will be available; a proxy can send it as `Retry-After`. */
  readonly retryAfterMs: number;

  constructor(retryAfterMs: number, options: WeftErrorOptions = {}) {
    super('WEFT_ERR_RATE_LIMITED', `Rate limited; retry in ${Math.ceil(retryAfterMs)} ms`, options);
    this.name = 'RateLimitedError';
    this.retryAfterMs = retryAfterMs;
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), retryAfterMs: this.retryAfterMs };
  }
}

/** True when `error` is a {@link TimeoutError}. */
export function isTimeoutError(error: unknown): error is TimeoutError {
  return error instanceof TimeoutError;
}

/** True when `error` is a {@link RetriesExhaustedError}. */
export function isRetriesExhaustedError(error: unknown): error is RetriesExhaustedError {
  return error instanceof RetriesExhaustedError;
}

/** True when `error` is a {@link RetryBudgetExhaustedError}. */
export function isRetryBudgetExhaustedError(error: unknown): error is RetryBudgetExhaustedError {
  return error instanceof RetryBudgetExhaustedError;
}

/** True when `error` is a {@link CircuitOpenError}. */
export function isCircuitOpenError(error: unknown): error is CircuitOpenError {
  return error instanceof CircuitOpenError;
}

/** True when `error` is a {@link BulkheadFullError}. */
export function isBulkheadFullError(error: unknown): error is BulkheadFullError {
  return error instanceof BulkheadFullError;
}

/** True when `error` is a {@link RateLimitedError}. */
export function isRateLimitedError(error: unknown): error is RateLimitedError {
  return error instanceof RateLimitedError;
}
