import { type Clock, systemClock, type TimerHandle } from '../clock/index.js';
import { InvalidArgumentError } from '../errors/index.js';
import { invoke } from './abort.js';
import { TimeoutError, type TimeoutScope } from './errors.js';
import { Emitter, type Event } from './event.js';
import type { Policy, PolicyFn } from './policy.js';

/**
 * A deadline on the clock, as an AbortSignal: the signal aborts with a {@link TimeoutError} when
 * `timeoutMs` elapses, or with the parent's reason when the parent aborts first. This is the
 * low-level piece a proxy uses per try (`undici.request({signal: deadline.signal})`); call
 * {@link Deadline.clear} when the call ends so the timer and the parent listener go away.
 */
export class Deadline {
  /** When the deadline started, on its clock. */
  readonly startedAt: number;
  /** The configured timeout. */
  readonly timeoutMs: number;
  private readonly controller = new AbortController();
  private readonly clock: Clock;
  private readonly parent: AbortSignal | undefined;
  private readonly timer: TimerHandle | undefined;
  private readonly onParentAbort: (() => void) | undefined;
  private readonly onAbort: ((reason: unknown) => void) | undefined;
  private timedOut = false;

  /**
   * @param timeoutMs - milliseconds until expiry; `Infinity` gives a deadline that only follows the parent.
   * @param parent - the caller's signal, if any.
   * @param scope - named in the error: a per-try or an overall deadline.
   * @param onAbort - called once with the reason when the signal aborts; cheaper than an
   *   `abort` listener, for code that races the deadline on the hot path.
   */
  constructor(
    clock: Clock,
    timeoutMs: number,
    parent?: AbortSignal,
    scope: TimeoutScope = 'overall',
    onAbort?: (reason: unknown) => void,
  ) {
    this.clock = clock;
    this.onAbort = onAbort;
    this.timeoutMs = timeoutMs;
    this.startedAt = clock.now();
    this.parent = parent;
    if (parent?.aborted) {
      this.finish(parent.reason);
      return;
    }
    if (parent !== undefined) {
      this.onParentAbort = () => this.finish(parent.reason);
      parent.addEventListener('abort', this.onParentAbort, { once: true });
    }
    if (Number.isFinite(timeoutMs)) {
      this.timer = clock.setTimeout(() => {
        this.timedOut = true;
        this.finish(new TimeoutError(timeoutMs, this.elapsedMs(), scope));
      }, timeoutMs);
    }
  }

  /** The signal to hand to the call. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** True once the deadline itself (not the parent) fired. */
  get expired(): boolean {
    return this.timedOut;
  }

  /** Milliseconds since the deadline started. */
  elapsedMs(): number {
    return this.clock.now() - this.startedAt;
  }

  /** Milliseconds left before expiry (never negative). */
  remainingMs(): number {
    return Math.max(0, this.timeoutMs - this.elapsedMs());
  }

  /** Stops the timer and detaches from the parent; the signal stays as it is. Idempotent. */
  clear(): void {
    this.timer?.clear();
    if (this.onParentAbort !== undefined) this.parent?.removeEventListener('abort', this.onParentAbort);
  }

  private finish(reason: unknown): void {
    this.clear();
    this.controller.abort(reason);
    this.onAbort?.(reason);
  }
}

/**
 * `aggressive`: the call's promise rejects at the deadline even if the function ignores its
 * signal (bounded latency, the function's late result is dropped). `cooperative`: the signal is
 * aborted at the deadline but the policy waits for the function to settle — a late value is
 * returned, a late error becomes a {@link TimeoutError}.
 */
export type TimeoutMode = 'aggressive' | 'cooperative';

/** Options of a {@link TimeoutPolicy}. */
export interface TimeoutOptions {
  /** The timeout, > 0. */
  timeoutMs: number;
  /** Default `aggressive`: a timeout in a mesh is a latency promise to the caller. */
  mode?: TimeoutMode;
  /** Named in the error; `try` when the policy sits inside a retry. Default `overall`. */
  scope?: TimeoutScope;
  /** Default {@link systemClock}. */
  clock?: Clock;
}

/** Emitted by {@link TimeoutPolicy.onTimeout}. */
export interface TimeoutEvent {
  readonly timeoutMs: number;
  readonly elapsedMs: number;
}

/**
 * Bounds the time a call may take. Wrapped outside a {@link RetryPolicy} it is an overall
 * timeout; inside one (`wrap(retry, timeout)`), a per-try timeout. {@link RetryPolicy} also takes
 * `perTryTimeoutMs` / `overallTimeoutMs` directly, which keeps the attempt history in the error.
 */
export class TimeoutPolicy implements Policy {
  /** The configured timeout. */
  readonly timeoutMs: number;
  /** The configured mode. */
  readonly mode: TimeoutMode;
  private readonly scope: TimeoutScope;
  private readonly clock: Clock;
  private readonly timeoutEmitter = new Emitter<TimeoutEvent>();

  /** Fires when a call times out. */
  readonly onTimeout: Event<TimeoutEvent> = this.timeoutEmitter.event;

  constructor(options: TimeoutOptions) {
    if (!(options.timeoutMs > 0)) {
      throw new InvalidArgumentError('timeout options', [{ path: 'timeoutMs', message: 'must be > 0' }]);
    }
    this.timeoutMs = options.timeoutMs;
    this.mode = options.mode ?? 'aggressive';
    this.scope = options.scope ?? 'overall';
    this.clock = options.clock ?? systemClock;
  }

  /** Runs `fn` with a signal that aborts at the deadline; see {@link TimeoutMode}. */
  execute<T>(fn: PolicyFn<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<T>((resolve, reject) => {
      const aggressive = this.mode === 'aggressive';
      // Aggressive mode settles from the deadline's callback (no abort listener to add and remove);
      // whichever of deadline and function settles first wins, the other is ignored.
      const deadline = new Deadline(
        this.clock,
        this.timeoutMs,
        signal,
        this.scope,
        aggressive
          ? (reason) => {
              if (deadline.expired) this.emitTimeout(deadline);
              reject(reason);
            }
          : undefined,
      );
      invoke(fn, { signal: deadline.signal }).then(
        (value) => {
          deadline.clear();
          resolve(value);
        },
        (err: unknown) => {
          deadline.clear();
          if (!deadline.expired || aggressive) return reject(err);
          // Cooperative: the function failed after the deadline; report the real elapsed time, keep its error.
          this.emitTimeout(deadline);
          reject(new TimeoutError(this.timeoutMs, deadline.elapsedMs(), this.scope, { cause: err }));
        },
      );
    });
  }

  private emitTimeout(deadline: Deadline): void {
    if (this.timeoutEmitter.size > 0)
      this.timeoutEmitter.emit({ timeoutMs: this.timeoutMs, elapsedMs: deadline.elapsedMs() });
  }
}
