import { type AuthorizationDocument, ClosedError } from '@weft/core';
import { StoreWriteError } from './errors.js';
import { planWrite, type RulesChange } from './operations.js';
import { RulesStoreApi } from './store-api.js';
import type {
  NamespaceRules,
  NamespaceState,
  Persist,
  RulesStore,
  RulesStoreOptions,
  StoredRule,
  WriteResult,
} from './types.js';

export type { NamespaceState, Persist, RulesStoreOptions } from './types.js';

/** A write waiting for its batch (durable stores only). */
interface Pending {
  readonly namespace: string;
  readonly change: RulesChange;
  readonly ifRevision: number | undefined;
  readonly resolve: (result: WriteResult) => void;
  readonly reject: (error: unknown) => void;
}

/** The state of a namespace never written: revision 0, no rules. */
function emptyState(namespace: string): NamespaceState {
  const value: NamespaceRules = Object.freeze({ namespace, revision: 0, rules: Object.freeze([]) });
  return Object.freeze({ revision: 0, value });
}

/** Wraps a snapshot as the state watchers get (one object per revision, shared by all of them). */
export function namespaceState(
  namespace: string,
  revision: number,
  rules: readonly StoredRule[],
  authorization?: AuthorizationDocument | undefined,
): NamespaceState {
  const value: NamespaceRules = Object.freeze({
    namespace,
    revision,
    rules: Object.freeze([...rules]),
    ...(authorization === undefined ? {} : { authorization }),
  });
  return Object.freeze({ revision, value });
}

/**
 * The mechanics shared by the memory and file stores: immutable per-namespace snapshots,
 * validation, one revision bump per changing write, compare-and-set, and watches.
 *
 * Without `persist` (memory) a write applies at once. With it (file), writes are **group
 * committed**: the writes that arrive while a save is in flight are applied, each on its own
 * (one failing does not fail the others), to a draft of the state; the draft is saved once; only
 * then does it become the state, are watchers told and are the writes acknowledged. A failed
 * save acknowledges none of the batch and leaves the state as it was.
 */
export abstract class RulesStoreBase extends RulesStoreApi implements RulesStore {
  private committed = new Map<string, NamespaceState>();
  private queue: Pending[] = [];
  private flushing: Promise<void> | undefined;
  /** The last save failed (cleared by the next successful one): `check()` reports it. */
  private saveError: StoreWriteError | undefined;

  protected constructor(
    initial: Iterable<NamespaceRules>,
    private readonly persist: Persist | undefined,
    options: RulesStoreOptions = {},
  ) {
    super(options);
    for (const ns of initial)
      this.committed.set(ns.namespace, namespaceState(ns.namespace, ns.revision, ns.rules, ns.authorization));
  }

  /** Number of live watches (of one namespace, or of all). */
  watchCount(namespace?: string): number {
    return this.watchers.count(namespace);
  }

  get(namespace: string): Promise<NamespaceRules> {
    if (this.closed) return Promise.reject(new ClosedError('rules store'));
    return Promise.resolve(this.state(namespace).value);
  }

  check(): Promise<void> {
    if (this.closed) return Promise.reject(new ClosedError('rules store'));
    if (this.saveError !== undefined) return Promise.reject(this.saveError);
    return Promise.resolve();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Writes accepted before close still complete (and are acknowledged).
    while (this.flushing !== undefined) await this.flushing;
    this.watchers.endAll(new ClosedError('rules store'));
    await this.release();
  }

  /** Releases what a subclass holds (a lock file…), once, after the last write. */
  protected async release(): Promise<void> {}

  /** Where a durable store saves, for error messages. */
  protected abstract describe(): string;

  private state(namespace: string): NamespaceState {
    return this.committed.get(namespace) ?? emptyState(namespace);
  }

  protected readState(namespace: string): Promise<NamespaceState> {
    return Promise.resolve(this.state(namespace));
  }

  protected lastState(namespace: string): NamespaceState {
    return this.state(namespace);
  }

  protected commitChange(namespace: string, change: RulesChange, ifRevision: number | undefined): Promise<WriteResult> {
    if (this.persist === undefined) {
      try {
        const [result, state] = applyTo(this.committed, namespace, change, ifRevision);
        if (state !== undefined) this.watchers.publish(state);
        return Promise.resolve(result);
      } catch (err) {
        return Promise.reject(err);
      }
    }
    const persist = this.persist;
    return new Promise((resolve, reject) => {
      this.queue.push({ namespace, change, ifRevision, resolve, reject });
      this.kick(persist);
    });
  }

  /** Starts the flush loop unless it runs; restarts it for writes queued as it was finishing. */
  private kick(persist: Persist): void {
    if (this.flushing !== undefined) return;
    this.flushing = this.flush(persist).finally(() => {
      this.flushing = undefined;
      if (this.queue.length > 0) this.kick(persist);
    });
  }

  /** Saves batches until the queue is empty. */
  private async flush(persist: Persist): Promise<void> {
    // Let the writes of this turn of the event loop join the first batch.
    await Promise.resolve();
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0);
      const draft = new Map(this.committed);
      const done: [Pending, WriteResult][] = [];
      const touched = new Set<string>();
      for (const p of batch) {
        try {
          const [result, state] = applyTo(draft, p.namespace, p.change, p.ifRevision);
          done.push([p, result]);
          if (state !== undefined) touched.add(p.namespace);
        } catch (err) {
          p.reject(err);
        }
      }
      if (touched.size > 0) {
        try {
          await persist(draft);
          this.saveError = undefined;
        } catch (cause) {
          const error = new StoreWriteError(this.describe(), cause);
          this.saveError = error;
          for (const [p] of done) p.reject(error);
          continue;
        }
        this.committed = draft;
        for (const ns of touched) this.watchers.publish(draft.get(ns) as NamespaceState);
      }
      for (const [p, result] of done) p.resolve(result);
    }
  }
}

/**
 * Applies one change to `states` (replacing the namespace's entry when it changed). Returns the
 * result, and the new state when there is one.
 */
function applyTo(
  states: Map<string, NamespaceState>,
  namespace: string,
  change: RulesChange,
  ifRevision: number | undefined,
): [WriteResult, NamespaceState | undefined] {
  const current = states.get(namespace) ?? emptyState(namespace);
  const { result, rules, authorization } = planWrite(current.value, change, ifRevision);
  if (rules === undefined) return [result, undefined];
  const state = namespaceState(namespace, result.revision, rules, authorization);
  states.set(namespace, state);
  return [result, state];
}
