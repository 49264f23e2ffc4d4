import type { AuthorizationDocument, Rule } from '@weft/core';
import type { Versioned, Watchable } from '../watch/types.js';

/** A rule as a store keeps it: validated, and with its id (the controller assigns one when absent). */
export type StoredRule = Rule & { readonly id: string };

/** The two kinds of rule: a route rule has `route`, an action rule has `actions`. */
export type RuleKind = 'route' | 'actions';

/**
 * Selects rules, with Amalgam8's semantics (`GET|DELETE /v1/rules?id=&tag=&destination=`): a rule
 * passes when its id is one of `ids`, its destination one of `destinations`, it carries **every**
 * tag of `tags`, and it is of `kind`. An absent or empty field selects everything, so `{}` selects
 * every rule.
 */
export interface RuleFilter {
  readonly ids?: readonly string[] | undefined;
  readonly tags?: readonly string[] | undefined;
  readonly destinations?: readonly string[] | undefined;
  readonly kind?: RuleKind | undefined;
}

/** The rules of one namespace at one revision: an immutable snapshot. */
export interface NamespaceRules {
  readonly namespace: string;
  /**
   * Grows by exactly one with every operation that changed the namespace's rules, and never goes
   * back, across restarts too for a durable store. 0 for a namespace never written.
   */
  readonly revision: number;
  /** The rules, in the order they were first stored (an update keeps a rule's place). */
  readonly rules: readonly StoredRule[];
  /**
   * The namespace's authorization policies (`PUT /v1/authorization`), or undefined when none were
   * set. They share the rules' revision, so a proxy applies routing and access control of one
   * revision together, and a policy write is compare-and-set like any other.
   */
  readonly authorization?: AuthorizationDocument | undefined;
}

/** Options of every write. */
export interface WriteOptions {
  /**
   * Compare-and-set: apply the operation only if the namespace is at this revision now, else fail
   * with `RevisionMismatchError` (nothing is written). For read-modify-write clients.
   */
  readonly ifRevision?: number | undefined;
}

/** What a write did. */
export interface WriteResult {
  /** The namespace's revision after the operation (unchanged when it changed nothing). */
  readonly revision: number;
  /** Ids of the rules the operation stored (added, updated or put in place), in input order. */
  readonly ids: readonly string[];
  /** Ids of the rules the operation removed (`replace`, `delete`). */
  readonly removed: readonly string[];
}

/**
 * Where the controller keeps rules. Every namespace (tenant) is separate and has its own
 * revision. Each write is atomic — all of its rules or none — and bumps the namespace's revision
 * exactly once when it changes anything (a `delete` that matches nothing changes nothing).
 *
 * The contract is written so that a store shared by several controller replicas (etcd,
 * Kubernetes custom resources) can implement it without the server changing: reads and writes
 * are asynchronous, the revision is a value the store owns, writes name their rules by id and
 * their selection by filter (so they can run as one transaction), and `ifRevision` maps to a
 * transaction's compare. (An etcd mod-revision does not fit the revision: it grows with every
 * write to the cluster, not by one per change of the namespace; `EtcdRulesStore` keeps a counter
 * in the namespace's value and compares on the key's mod-revision.)
 *
 * Rules passed in are validated again (`parseRules`) and copied; snapshots handed out are frozen.
 */
export interface RulesStore {
  /** The namespace's rules now. */
  get(namespace: string): Promise<NamespaceRules>;
  /**
   * The namespace as a {@link Watchable}: `subscribe` delivers the current snapshot first, then
   * each new one. Revisions delivered to one listener only grow (a burst of writes may be
   * delivered as its last snapshot only).
   */
  watch(namespace: string): Watchable<NamespaceRules>;
  /** Adds rules. Fails with `RuleConflictError` if an id is already stored (nothing is added). */
  add(namespace: string, rules: readonly StoredRule[], options?: WriteOptions): Promise<WriteResult>;
  /** Replaces rules by id, keeping their place. Fails with `UnknownRuleError` if an id is not stored. */
  update(namespace: string, rules: readonly StoredRule[], options?: WriteOptions): Promise<WriteResult>;
  /**
   * Removes every rule `filter` selects and adds `rules`, as one operation (Amalgam8's
   * `PUT /v1/rules/routes/{destination}`). Fails with `RuleConflictError` if an id of `rules` is
   * stored and not removed.
   */
  replace(
    namespace: string,
    filter: RuleFilter,
    rules: readonly StoredRule[],
    options?: WriteOptions,
  ): Promise<WriteResult>;
  /** Removes every rule `filter` selects (`{}`: all of the namespace's rules). */
  delete(namespace: string, filter: RuleFilter, options?: WriteOptions): Promise<WriteResult>;
  /**
   * Sets the namespace's authorization policies (validated with `parseAuthorization`), or
   * removes them (`undefined`). Always bumps the revision. A read-only store rejects it.
   */
  authorize(namespace: string, authorization: unknown, options?: WriteOptions): Promise<WriteResult>;
  /** Resolves when the store can serve reads and writes; rejects with the reason otherwise (health checks). */
  check(): Promise<void>;
  /** Ends every watch, waits for writes in flight and releases what the store holds. Idempotent. */
  close(): Promise<void>;
}

/** A namespace's state as stores keep it: the snapshot, already wrapped for watchers. */
export type NamespaceState = Versioned<NamespaceRules>;

/** Saves every namespace's state; resolves once it is durable. */
export type Persist = (namespaces: ReadonlyMap<string, NamespaceState>) => Promise<void>;

/** Options common to the stores. */
export interface RulesStoreOptions {
  /** Receives errors thrown by watch listeners (default: a process warning). */
  readonly onListenerError?: ((error: unknown) => void) | undefined;
}
