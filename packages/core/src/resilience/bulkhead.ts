import { type Clock, systemClock, type TimerHandle } from '../clock/index.js';
import { InvalidArgumentError, type ValidationIssue } from '../errors/index.js';
import { invoke } from './abort.js';
import { BulkheadFullError } from './errors.js';
import { Emitter, type Event } from './event.js';
import type { Policy, PolicyFn } from './policy.js';

/** Options of a {@link Bulkhead}. */
export interface BulkheadOptions {
  /** Calls allowed to run at once, >= 1. */
  maxConcurrent: number;
  /** Calls allowed to wait for a slot, >= 0. Default 0 (refuse at once when full). */
  maxQueue?: number;
  /** Longest wait in the queue; then the call is refused. Default: no limit. */
  queueTimeoutMs?: number;
  /** Default {@link systemClock}. */
  clock?: Clock;
}

/** Emitted by {@link Bulkhead.onReject}. */
export interface BulkheadRejectEvent {
  /** `full`: no slot and no queue place; `queue-timeout`: waited too long. */
  readonly reason: 'full' | 'queue-timeout';
}

interface Waiter {
  resolve: () => void;
  reject: (reason: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  timer: TimerHandle | undefined;
  prev: Waiter | undefined;
  next: Waiter | undefined;
}

/**
 * A bulkhead: at most `maxConcurrent` calls run, up to `maxQueue` more wait in FIFO order.
 *
 * The queue is a doubly linked list so that a waiter that gives up (its signal aborts, or its
 * queue timeout expires) is unlinked at once: it stops holding a queue place, and a released
 * slot is never handed to a caller that is no longer there — the two ways naive bulkheads leak
 * capacity until nothing runs. A released slot goes straight to the oldest live waiter.
 *
 * Hot-path API: `tryAcquire()` / `release()`; `acquire(signal)` waits in the queue.
 */
export class Bulkhead implements Policy {
  /** Concurrency limit. */
  readonly maxConcurrent: number;
  /** Queue limit. */
  readonly maxQueue: number;
  private readonly queueTimeoutMs: number;
  private readonly clock: Clock;
  private active = 0;
  private waiting = 0;
  private head: Waiter | undefined;
  private tail: Waiter | undefined;
  private readonly rejectEmitter = new Emitter<BulkheadRejectEvent>();

  /** Fires when a call is refused. */
  readonly onReject: Event<BulkheadRejectEvent> = this.rejectEmitter.event;

  constructor(options: BulkheadOptions) {
    const issues: ValidationIssue[] = [];
    const maxQueue = options.maxQueue ?? 0;
    const queueTimeoutMs = options.queueTimeoutMs ?? Number.POSITIVE_INFINITY;
    if (!Number.isInteger(options.maxConcurrent) || options.maxConcurrent < 1) {
      issues.push({ path: 'maxConcurrent', message: 'must be an integer >= 1' });
    }
    if (!Number.isInteger(maxQueue) || maxQueue < 0)
      issues.push({ path: 'maxQueue', message: 'must be an integer >= 0' });
    if (!(queueTimeoutMs > 0)) issues.push({ path: 'queueTimeoutMs', message: 'must be > 0' });
    if (issues.length > 0) throw new InvalidArgumentError('bulkhead options', issues);
    this.maxConcurrent = options.maxConcurrent;
    this.maxQueue = maxQueue;
    this.queueTimeoutMs = queueTimeoutMs;
    this.clock = options.clock ?? systemClock;
  }

  /** Calls running. */
  get running(): number {
    return this.active;
  }

  /** Calls waiting in the queue. */
  get queued(): number {
    return this.waiting;
  }

  /** Takes a slot if one is free and nobody is queued (FIFO: no overtaking). */
  tryAcquire(): boolean {
    if (this.active < this.maxConcurrent && this.waiting === 0) {
      this.active++;
      return true;
    }
    return false;
  }

  /** Returns a slot taken by `tryAcquire` or `acquire`; it goes to the oldest waiter, if any. */
  release(): void {
    const w = this.head;
    if (w !== undefined) {
      // Hand the slot over without decrementing, so no newcomer can slip in between.
      this.unlink(w);
      w.resolve();
      return;
    }
    if (this.active > 0) this.active--;
  }

  /**
   * Waits for a slot. Rejects with {@link BulkheadFullError} when the queue is full or the queue
   * timeout expires, or with the signal's reason when it aborts; either way the place is freed.
   */
  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.tryAcquire()) return Promise.resolve();
    if (this.waiting >= this.maxQueue) return Promise.reject(this.refuse('full'));
    return new Promise<void>((resolve, reject) => {
      const w: Waiter = {
        resolve: () => {
          this.settle(w);
          resolve();
        },
        reject: (reason) => {
          this.settle(w);
          reject(reason);
        },
        signal,
        onAbort: undefined,
        timer: undefined,
        prev: this.tail,
        next: undefined,
      };
      if (this.tail === undefined) this.head = w;
      else this.tail.next = w;
      this.tail = w;
      this.waiting++;
      if (signal !== undefined) {
        w.onAbort = () => {
          this.unlink(w);
          w.reject(signal.reason);
        };
        signal.addEventListener('abort', w.onAbort, { once: true });
      }
      if (Number.isFinite(this.queueTimeoutMs)) {
        w.timer = this.clock.setTimeout(() => {
          this.unlink(w);
          w.reject(this.refuse('queue-timeout'));
        }, this.queueTimeoutMs);
      }
    });
  }

  /** Runs `fn` in a slot, waiting in the queue if allowed. */
  async execute<T>(fn: PolicyFn<T>, signal?: AbortSignal): Promise<T> {
    await this.acquire(signal);
    try {
      // The caller may have aborted between the hand-over and now: give the slot back.
      signal?.throwIfAborted();
      return await invoke(fn, { signal: signal ?? new AbortController().signal });
    } finally {
      this.release();
    }
  }

  private refuse(reason: 'full' | 'queue-timeout'): BulkheadFullError {
    if (this.rejectEmitter.size > 0) this.rejectEmitter.emit({ reason });
    return new BulkheadFullError(reason, this.maxConcurrent, this.maxQueue);
  }

  private settle(w: Waiter): void {
    w.timer?.clear();
    if (w.onAbort !== undefined) w.signal?.removeEventListener('abort', w.onAbort);
  }

  private unlink(w: Waiter): void {
    if (w.prev === undefined && this.head !== w) return; // already unlinked
    if (w.prev === undefined) this.head = w.next;
    else w.prev.next = w.next;
    if (w.next === undefined) this.tail = w.prev;
    else w.next.prev = w.prev;
    w.prev = undefined;
    w.next = undefined;
    this.waiting--;
  }
}
