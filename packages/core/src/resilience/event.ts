/** What subscribing to an {@link Event} returns; disposing it removes the listener. */
export interface EventSubscription extends Disposable {
  /** Removes the listener. Safe to call more than once. */
  dispose(): void;
}

/**
 * A typed event, cockatiel-style: a function that subscribes a listener and returns a handle to
 * unsubscribe. Policies expose their events as `onX` properties of this type, so
 * `breaker.onBreak((e) => log(e))` needs no string event names and is fully typed.
 */
export type Event<T> = (listener: (value: T) => void) => EventSubscription;

/**
 * The emitting side of an {@link Event}. Deliberately tiny instead of eventemitter3: one event
 * per emitter means no string lookup, and `emit` with no listener costs a length check, which
 * matters because breakers and detectors emit on paths that run per request.
 */
export class Emitter<T> {
  // A fresh array on every subscribe/unsubscribe (copy-on-write) so a listener that
  // unsubscribes during emit never makes the loop skip its neighbour.
  private listeners: ReadonlyArray<(value: T) => void> = [];

  /** Subscribes a listener; see {@link Event}. */
  readonly event: Event<T> = (listener) => {
    this.listeners = [...this.listeners, listener];
    let live = true;
    const dispose = (): void => {
      if (!live) return;
      live = false;
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners = [...this.listeners.slice(0, i), ...this.listeners.slice(i + 1)];
    };
    return { dispose, [Symbol.dispose]: dispose };
  };

  /** Number of listeners; emitters skip building event payloads when it is 0. */
  get size(): number {
    return this.listeners.length;
  }

  /**
   * Calls every listener with `value`. A throwing listener must not corrupt the state machine
   * that emitted (it is usually mid-transition), so its error is reported asynchronously instead.
   */
  emit(value: T): void {
    const ls = this.listeners;
    for (let i = 0; i < ls.length; i++) {
      try {
        (ls[i] as (value: T) => void)(value);
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }
}

/** Resolves with the next value of `event` (handy in tests and for one-shot waits). */
export function nextEvent<T>(event: Event<T>): Promise<T> {
  return new Promise<T>((resolve) => {
    const sub = event((value) => {
      sub.dispose();
      resolve(value);
    });
  });
}
