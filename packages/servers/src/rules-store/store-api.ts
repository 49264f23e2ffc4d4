import { ClosedError, parseAuthorization } from '@weft/core';
import type { Watchable } from '../watch/types.js';
import type { RulesChange } from './operations.js';
import { deepFreeze, prepareRules } from './prepare.js';
import type {
  NamespaceRules,
  NamespaceState,
  RuleFilter,
  RulesStoreOptions,
  StoredRule,
  WriteOptions,
  WriteResult,
} from './types.js';
import { NamespaceWatchers } from './watchers.js';

/**
 * The `RulesStore` methods every store implements the same way — `watch` and the four writes —
 * over three hooks each store fills in its own way: {@link readState} (a watch's current state),
 * {@link lastState} (what a new subscriber starts from) and {@link commitChange} (a prepared
 * write). A write's arguments are validated and copied here, before the store sees them, so bad
 * input rejects without anything being queued or sent.
 */
export abstract class RulesStoreApi {
  /** Set by `close()`; every method rejects (a subscribe ends) with `ClosedError` afterwards. */
  protected closed = false;
  protected readonly watchers: NamespaceWatchers;
  /** Where errors thrown by watch listeners (and other callbacks of the caller's) go. */
  protected readonly reportListenerError: (error: unknown) => void;

  protected constructor(options: RulesStoreOptions) {
    this.reportListenerError =
      options.onListenerError ??
      ((error: unknown) => process.emitWarning(`rules store watch listener failed: ${String(error)}`));
    this.watchers = new NamespaceWatchers(this.reportListenerError);
  }

  /** The namespace's state as a watch's `current()` answers it. */
  protected abstract readState(namespace: string): Promise<NamespaceState>;

  /** The namespace's state as the store holds it now, without a read (a subscriber's start). */
  protected abstract lastState(namespace: string): NamespaceState;

  /** Applies a prepared change (compare-and-set on `ifRevision` when given) and acknowledges it. */
  protected abstract commitChange(
    namespace: string,
    change: RulesChange,
    ifRevision: number | undefined,
  ): Promise<WriteResult>;

  watch(namespace: string): Watchable<NamespaceRules> {
    return {
      current: () => {
        if (this.closed) return Promise.reject(new ClosedError('rules store'));
        return this.readState(namespace);
      },
      subscribe: (listener, onEnd) => {
        if (this.closed) {
          onEnd?.(new ClosedError('rules store'));
          return () => {};
        }
        return this.watchers.subscribe(namespace, this.lastState(namespace), listener, onEnd);
      },
    };
  }

  add(namespace: string, rules: readonly StoredRule[], options?: WriteOptions): Promise<WriteResult> {
    return this.write(namespace, options, () => ({ op: 'add', rules: prepareRules(rules) }));
  }

  update(namespace: string, rules: readonly StoredRule[], options?: WriteOptions): Promise<WriteResult> {
    return this.write(namespace, options, () => ({ op: 'update', rules: prepareRules(rules) }));
  }

  replace(
    namespace: string,
    filter: RuleFilter,
    rules: readonly StoredRule[],
    options?: WriteOptions,
  ): Promise<WriteResult> {
    return this.write(namespace, options, () => ({
      op: 'replace',
      filter: copyFilter(filter),
      rules: prepareRules(rules),
    }));
  }

  delete(namespace: string, filter: RuleFilter, options?: WriteOptions): Promise<WriteResult> {
    return this.write(namespace, options, () => ({ op: 'delete', filter: copyFilter(filter) }));
  }

  authorize(namespace: string, authorization: unknown, options?: WriteOptions): Promise<WriteResult> {
    return this.write(namespace, options, () => ({
      op: 'authorize',
      // parseAuthorization copies (the schema builds new objects), so the caller's later changes cannot leak in.
      authorization: authorization === undefined ? undefined : deepFreeze(parseAuthorization(authorization)),
    }));
  }

  private write(
    namespace: string,
    options: WriteOptions | undefined,
    prepare: () => RulesChange,
  ): Promise<WriteResult> {
    if (this.closed) return Promise.reject(new ClosedError('rules store'));
    let change: RulesChange;
    try {
      change = prepare();
    } catch (err) {
      return Promise.reject(err);
    }
    return this.commitChange(namespace, change, options?.ifRevision);
  }
}

/** A copy of a filter, so a caller's later changes cannot reach a write in flight. */
export function copyFilter(filter: RuleFilter): RuleFilter {
  return {
    ids: filter.ids === undefined ? undefined : [...filter.ids],
    tags: filter.tags === undefined ? undefined : [...filter.tags],
    destinations: filter.destinations === undefined ? undefined : [...filter.destinations],
    kind: filter.kind,
  };
}
