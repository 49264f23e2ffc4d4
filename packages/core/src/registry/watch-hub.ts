import type { RegistrySnapshot, SnapshotListener, Subscription } from './types.js';

/** Something that can be watched: a namespace's catalogue or one service in it. */
export interface WatchScope {
  /** Live subscribers of this scope. The hub adds and removes them. */
  readonly subscribers: Set<Subscriber>;
  /** The scope's revision now; it grows whenever the scope's snapshot would differ. */
  readonly revision: number;
  /** The snapshot at the current revision; built lazily and shared by every subscriber. */
  snapshot(): RegistrySnapshot;
  /** Hub bookkeeping: the scope is in the pending-flush list. */
  queued: boolean;
}

/** Where a listener or end callback failure came from, for error reports. */
export interface ListenerFailure {
  readonly error: unknown;
  /** The snapshot being delivered, or undefined when `onEnd` failed. */
  readonly snapshot: RegistrySnapshot | undefined;
}

/** One watch: its listener and the delivery state that makes deliveries coalesce. */
export class Subscriber {
  /** Revision of the last snapshot handed to the listener; -1 before the first. */
  delivered = -1;
  /** The listener's last promise has not settled: deliveries wait, then skip to the latest. */
  busy = false;
  /** In the hub's list of subscribers to look at on the next flush. */
  pending = false;
  closed = false;
  /** Detaches the abort listener, when a signal was given. */
  detach: (() => void) | undefined;

  constructor(
    readonly scope: WatchScope,
    readonly listener: SnapshotListener,
    readonly onEnd: ((reason: unknown) => void) | undefined,
  ) {}
}

/**
 * Delivers snapshots to watchers: asynchronously (one microtask flush for any number of
 * changes and watchers), never overlapping per listener, latest-wins when a listener is slow,
 * and with every listener isolated from the others' failures.
 *
 * Changes only mark their scope; the snapshot is built (once, then shared) when the flush
 * runs, so a burst of changes — a bulk expiry, a deploy — costs one snapshot per scope and one
 * call per listener, whatever its size.
 */
export class WatchHub {
  private scopes: WatchScope[] = [];
  private subscribers: Subscriber[] = [];
  private scheduled = false;
  /** Every live subscriber, so that closing can end them all. */
  private readonly all = new Set<Subscriber>();

  /**
   * @param report - receives listener (and `onEnd`) failures.
   * @param release - called after a scope lost a subscriber, so its owner can free it when unused.
   */
  constructor(
    private readonly report: (failure: ListenerFailure) => void,
    private readonly release: (scope: WatchScope) => void,
  ) {}

  /** Number of live subscriptions. */
  get size(): number {
    return this.all.size;
  }

  /** Subscribes `listener` to `scope`; the current snapshot is delivered on the next flush. */
  subscribe(
    scope: WatchScope,
    listener: SnapshotListener,
    options: { signal?: AbortSignal | undefined; onEnd?: ((reason: unknown) => void) | undefined } = {},
  ): Subscription {
    const sub = new Subscriber(scope, listener, options.onEnd);
    const unsubscribe = (): void => this.remove(sub, false, undefined);
    const subscription: Subscription = { unsubscribe, [Symbol.dispose]: unsubscribe };
    const signal = options.signal;
    if (signal?.aborted) {
      // Already aborted: end at once, without ever delivering.
      sub.closed = true;
      this.end(sub, signal.reason);
      return subscription;
    }
    scope.subscribers.add(sub);
    this.all.add(sub);
    if (signal) {
      const onAbort = (): void => this.remove(sub, true, signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      sub.detach = () => signal.removeEventListener('abort', onAbort);
    }
    this.enqueue(sub);
    return subscription;
  }

  /** Marks `scope` changed: its subscribers get its latest snapshot on the next flush. */
  changed(scope: WatchScope): void {
    if (scope.queued || scope.subscribers.size === 0) return;
    scope.queued = true;
    this.scopes.push(scope);
    this.schedule();
  }

  /** Ends every subscription, calling each `onEnd` with `reason` (the registry closed). */
  endAll(reason: unknown): void {
    for (const scope of this.scopes) scope.queued = false;
    this.scopes = [];
    this.subscribers = [];
    for (const sub of [...this.all]) this.remove(sub, true, reason);
  }

  private remove(sub: Subscriber, ended: boolean, reason: unknown): void {
    if (sub.closed) return;
    sub.closed = true;
    sub.detach?.();
    sub.detach = undefined;
    sub.scope.subscribers.delete(sub);
    this.all.delete(sub);
    if (ended) this.end(sub, reason);
    this.release(sub.scope);
  }

  private end(sub: Subscriber, reason: unknown): void {
    if (sub.onEnd === undefined) return;
    try {
      sub.onEnd(reason);
    } catch (error) {
      this.report({ error, snapshot: undefined });
    }
  }

  private enqueue(sub: Subscriber): void {
    if (sub.pending) return;
    sub.pending = true;
    this.subscribers.push(sub);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(this.flush);
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    // Swap the lists first: listeners may cause changes, which go to the next flush.
    const scopes = this.scopes;
    const subscribers = this.subscribers;
    this.scopes = [];
    this.subscribers = [];
    for (const scope of scopes) {
      scope.queued = false;
      for (const sub of scope.subscribers) this.deliver(sub);
    }
    for (const sub of subscribers) {
      sub.pending = false;
      this.deliver(sub);
    }
  };

  private deliver(sub: Subscriber): void {
    if (sub.closed || sub.busy || sub.scope.revision <= sub.delivered) return;
    const snapshot = sub.scope.snapshot();
    sub.delivered = snapshot.revision;
    let result: unknown;
    try {
      result = sub.listener(snapshot);
    } catch (error) {
      this.report({ error, snapshot });
      return;
    }
    if (isThenable(result)) {
      sub.busy = true;
      const settled = (): void => {
        sub.busy = false;
        // Only the latest state matters to a listener that fell behind.
        if (!sub.closed && sub.scope.revision > sub.delivered) this.enqueue(sub);
      };
      try {
        result.then(settled, (error: unknown) => {
          this.report({ error, snapshot });
          settled();
        });
      } catch (error) {
        this.report({ error, snapshot });
        settled();
      }
    }
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
