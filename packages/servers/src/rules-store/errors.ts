/**
 * The rules store's own errors. They carry a stable `code` and the HTTP `status` the controller
 * answers with, like core's `WeftError`s (whose catalogue has no conflict or precondition codes
 * yet; these can move there).
 */

/** Base of the store's errors: a code, a status and the ids concerned. */
export abstract class RulesStoreError extends Error {
  abstract readonly code: string;
  abstract readonly status: number;
  /** The rule ids the error is about. */
  readonly ids: readonly string[];

  constructor(message: string, ids: readonly string[]) {
    super(message);
    this.ids = Object.freeze([...ids]);
  }

  /** The wire body: `{error, code, status, ids}`. */
  toJSON(): Record<string, unknown> {
    return { error: this.message, code: this.code, status: this.status, ids: this.ids };
  }
}

function quoted(ids: readonly string[]): string {
  return ids.map((id) => JSON.stringify(id)).join(', ');
}

/** A rule with that id is already stored (HTTP 409); nothing was written. */
export class RuleConflictError extends RulesStoreError {
  readonly code = 'WEFT_ERR_RULE_CONFLICT';
  readonly status = 409;
  constructor(namespace: string, ids: readonly string[]) {
    super(`rules with ids ${quoted(ids)} already exist in namespace "${namespace}"`, ids);
    this.name = 'RuleConflictError';
  }
}

/** No rule with that id is stored (HTTP 404); nothing was written. */
export class UnknownRuleError extends RulesStoreError {
  readonly code = 'WEFT_ERR_UNKNOWN_RULE';
  readonly status = 404;
  constructor(namespace: string, ids: readonly string[]) {
    super(`no rules with ids ${quoted(ids)} in namespace "${namespace}"`, ids);
    this.name = 'UnknownRuleError';
  }
}

/** A compare-and-set write found the namespace at another revision (HTTP 412); nothing was written. */
export class RevisionMismatchError extends RulesStoreError {
  readonly code = 'WEFT_ERR_REVISION_MISMATCH';
  readonly status = 412;
  readonly expected: number;
  readonly actual: number;
  constructor(namespace: string, expected: number, actual: number) {
    super(`namespace "${namespace}" is at revision ${actual}, not ${expected}`, []);
    this.name = 'RevisionMismatchError';
    this.expected = expected;
    this.actual = actual;
  }

  override toJSON(): Record<string, unknown> {
    return { error: this.message, code: this.code, status: this.status, revision: this.actual };
  }
}

/**
 * A durable store could not save a write (disk full, permissions…) (HTTP 503). The write was
 * not applied and not acknowledged; the previous state stays, on disk and in memory.
 */
export class StoreWriteError extends RulesStoreError {
  readonly code = 'WEFT_ERR_STORE_WRITE';
  readonly status = 503;
  constructor(where: string, cause: unknown) {
    super(`could not save the rules to ${where}: ${(cause as Error)?.message ?? String(cause)}`, []);
    this.name = 'StoreWriteError';
    this.cause = cause;
  }
}

/**
 * The stored rules do not compile (HTTP 500): they were valid when written, but the rule engine
 * has since become stricter (a new regex check…). The message names the rule and field.
 */
export class StoredRulesInvalidError extends RulesStoreError {
  readonly code = 'WEFT_ERR_STORED_RULES_INVALID';
  readonly status = 500;
  constructor(namespace: string, cause: Error) {
    super(`the stored rules of namespace "${namespace}" no longer compile: ${cause.message}`, []);
    this.name = 'StoredRulesInvalidError';
    this.cause = cause;
  }
}

/**
 * A shared store (etcd) cannot be reached (HTTP 503): `check()` reports it while it lasts, and a
 * write that could not be confirmed fails with it — nothing was acknowledged. Reads go on from
 * the last state the store saw. The registry's etcd store fails with it too.
 */
export class StoreUnavailableError extends RulesStoreError {
  readonly code = 'WEFT_ERR_STORE_UNAVAILABLE';
  readonly status = 503;
  /** The store, as its messages name it (`etcd http://10.0.0.1:2379 /weft`). */
  readonly store: string;
  /** @param what - which store: `rules store` (the default) or `registry store`. */
  constructor(store: string, cause: unknown, what = 'rules store') {
    super(`the ${what} (${store}) is unavailable: ${(cause as Error)?.message ?? String(cause)}`, []);
    this.name = 'StoreUnavailableError';
    this.store = store;
    this.cause = cause;
  }

  override toJSON(): Record<string, unknown> {
    return { error: this.message, code: this.code, status: this.status, store: this.store };
  }
}
