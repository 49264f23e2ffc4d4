import type { Versioned } from '../watch/types.js';
import type { NamespaceRules } from './types.js';

type State = Versioned<NamespaceRules>;

/** One watch: its callbacks and the last revision it was given. */
interface Subscriber {
  readonly listener: (state: State) => void;
  readonly onEnd: ((reason: unknown) => void) | undefined;
  last: number;
  /** False once removed: a publish already iterating must skip it. */
  active: boolean;
}

/**
 * The watches of a store, by namespace. A listener is called synchronously on publish (a push
 * server wants the change on the wire at once), is isolated from the others' failures, and only
 * ever sees growing revisions — a state at or below the last it got is skipped, so a re-entrant
 * write from inside a listener cannot make a later listener go backwards.
 */
export class NamespaceWatchers {
  private readonly byNamespace = new Map<string, Set<Subscriber>>();

  /** @param report - receives errors thrown by listeners and end callbacks. */
  constructor(private readonly report: (error: unknown) => void) {}

  /** Number of live watches (of one namespace, or of all). */
  count(namespace?: string): number {
    if (namespace !== undefined) return this.byNamespace.get(namespace)?.size ?? 0;
    let n = 0;
    for (const set of this.byNamespace.values()) n += set.size;
    return n;
  }

  /** Adds a watch and hands it `current` at once. Returns the function that removes it. */
  subscribe(
    namespace: string,
    current: State,
    listener: (state: State) => void,
    onEnd: ((reason: unknown) => void) | undefined,
  ): () => void {
    const sub: Subscriber = { listener, onEnd, last: -1, active: true };
    let set = this.byNamespace.get(namespace);
    if (set === undefined) {
      set = new Set();
      this.byNamespace.set(namespace, set);
    }
    set.add(sub);
    this.deliver(sub, current);
    return () => {
      sub.active = false;
      const live = this.byNamespace.get(namespace);
      if (live?.delete(sub) === true && live.size === 0) this.byNamespace.delete(namespace);
    };
  }

  /** Hands `state` to every watch of its namespace. */
  publish(state: State): void {
    const set = this.byNamespace.get(state.value.namespace);
    if (set === undefined) return;
    // A copy: listeners may unsubscribe (or subscribe) while we iterate.
    for (const sub of [...set]) this.deliver(sub, state);
  }

  /** Ends every watch with `reason` (the store closed). */
  endAll(reason: unknown): void {
    const subs = [...this.byNamespace.values()].flatMap((set) => [...set]);
    this.byNamespace.clear();
    for (const sub of subs) {
      sub.active = false;
      try {
        sub.onEnd?.(reason);
      } catch (err) {
        this.report(err);
      }
    }
  }

  private deliver(sub: Subscriber, state: State): void {
    if (!sub.active || state.revision <= sub.last) return;
    sub.last = state.revision;
    try {
      sub.listener(state);
    } catch (err) {
      this.report(err);
    }
  }
}
