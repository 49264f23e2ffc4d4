import type { Watchable } from '../watch/types.js';

/**
 * Keeps track of the watches a server opened, so it can end them when it closes. A Server-Sent
 * Events stream never completes on its own, and a server waits for its requests to complete
 * before it closes: without this, closing hangs as long as one proxy is subscribed — and the
 * store, which may be shared with others, is not ours to close.
 */
export class WatchTracker {
  private readonly ends = new Set<(reason: unknown) => void>();
  private closedWith: { reason: unknown } | undefined;

  /** Number of live watches. */
  get size(): number {
    return this.ends.size;
  }

  /** `source`, with every subscription registered until it stops. */
  track<T>(source: Watchable<T>): Watchable<T> {
    return {
      current: () => source.current(),
      subscribe: (listener, onEnd) => {
        if (this.closedWith !== undefined) {
          onEnd?.(this.closedWith.reason);
          return () => {};
        }
        let live = true;
        // Undefined while subscribe() runs: a source may end the watch from inside it.
        let stop: (() => void) | undefined;
        const end = (reason: unknown): void => {
          if (!live) return;
          live = false;
          this.ends.delete(end);
          stop?.();
          onEnd?.(reason);
        };
        this.ends.add(end);
        const unsubscribe = source.subscribe(listener, end);
        if (live) stop = unsubscribe;
        else unsubscribe();
        return () => {
          if (!live) return;
          live = false;
          this.ends.delete(end);
          unsubscribe();
        };
      },
    };
  }

  /** Ends every watch with `reason` and refuses new ones. */
  endAll(reason: unknown): void {
    this.closedWith = { reason };
    for (const end of [...this.ends]) end(reason);
  }
}
