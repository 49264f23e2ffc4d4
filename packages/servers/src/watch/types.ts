/**
 * What a watchable read serves: the state at a revision. Reads are snapshots, not deltas, so a
 * watcher that missed changes (a reconnect, a slow reader) catches up with the next one it gets.
 */
export interface Versioned<T> {
  /** Grows with every visible change of what is read (per namespace). */
  readonly revision: number;
  readonly value: T;
}

/**
 * A read the servers can serve plainly, as Server-Sent Events, or by long-poll: its current
 * state, and a subscription to changes. Registry reads wrap a registry watch; the controller's
 * wrap its rules store.
 */
export interface Watchable<T> {
  /** The state now. */
  current(): Promise<Versioned<T>>;
  /**
   * Calls `listener` with each new state (intermediate ones may be skipped, the latest never is).
   * Returns the function that stops it. `onEnd` is called if the source ends (the store closed).
   */
  subscribe(listener: (state: Versioned<T>) => void, onEnd?: (reason: unknown) => void): () => void;
}
