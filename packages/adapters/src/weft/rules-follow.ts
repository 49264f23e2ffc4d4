import type { RuleSet, Subscription } from '@weft/core';

/** A new rule set from the controller. */
export interface RulesUpdate {
  /** The rules, compiled (and so validated). */
  readonly ruleSet: RuleSet;
  /** The controller's revision of them (`x-weft-index`, or the body's `revision`), when it gave one. */
  readonly revision: number | undefined;
}

/** Receives a rules source's updates and failures. */
export interface RulesObserver {
  /** A newer rule set than the last one. */
  next(update: RulesUpdate): void;
  /** A read failed, or the controller served rules that do not compile; the last rules stay in force. */
  error(error: Error): void;
  /** The controller answers again after a failure, and its rules are the ones already in force. */
  recovered?(): void;
}

/** What {@link WeftRulesSource.follow} feeds: a `rulesRouter` of `@weft/proxy`, or anything with `update(ruleSet)`. */
export interface RulesTarget {
  update(rules: RuleSet): void;
}

/** Options of {@link WeftRulesSource.follow}. */
export interface RulesFollowOptions {
  /** Called after the target got a new rule set. */
  onUpdate?: (update: RulesUpdate) => void;
  /** Called for every failure (the controller away, rules that do not compile); the target keeps its rules. */
  onError?: (error: Error) => void;
}

/** A running {@link WeftRulesSource.follow}. */
export interface RulesFollow extends Subscription {
  /**
   * Resolves once the target has its first rule set from the controller. Rejects after
   * `timeoutMs` (default 10 000) with the last failure, if any; following goes on regardless.
   */
  ready(timeoutMs?: number): Promise<void>;
  /** The controller revision in force in the target, once one is. */
  readonly revision: number | undefined;
  /** True from a failure until the controller answers again: the target's rules may be out of date. */
  readonly stale: boolean;
  /** The last failure, if any. */
  readonly lastError: Error | undefined;
}

/** Something rules can be subscribed to (the source; an interface here so this file stays one-way). */
interface RulesSubscribable {
  readonly name: string;
  subscribe(observer: RulesObserver): Subscription;
}

/** Wires a rules source into a target; see {@link WeftRulesSource.follow}. */
export function followInto(source: RulesSubscribable, target: RulesTarget, options: RulesFollowOptions): RulesFollow {
  let revision: number | undefined;
  let applied = false;
  let stale = false;
  let lastError: Error | undefined;
  const waiters = new Set<() => void>();
  const fail = (error: Error): void => {
    stale = true;
    lastError = error;
    options.onError?.(error);
  };
  const subscription = source.subscribe({
    next(update) {
      try {
        target.update(update.ruleSet);
      } catch (err) {
        fail(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      revision = update.revision;
      applied = true;
      stale = false;
      for (const w of waiters) w();
      waiters.clear();
      options.onUpdate?.(update);
    },
    error: fail,
    recovered() {
      stale = false;
    },
  });
  return {
    ready(timeoutMs = 10_000) {
      if (applied) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const done = (): void => {
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(done);
          const why = lastError === undefined ? '' : `: ${lastError.message}`;
          reject(new Error(`${source.name}: no rules after ${timeoutMs} ms${why}`, { cause: lastError }));
        }, timeoutMs);
        waiters.add(done);
      });
    },
    get revision() {
      return revision;
    },
    get stale() {
      return stale;
    },
    get lastError() {
      return lastError;
    },
    unsubscribe: () => subscription.unsubscribe(),
    [Symbol.dispose]: () => subscription.unsubscribe(),
  };
}
