import type { AuthorizationDocument } from '@weft/core';
import { RevisionMismatchError, RuleConflictError, UnknownRuleError } from './errors.js';
import { ruleMatcher } from './filter.js';
import type { NamespaceRules, RuleFilter, StoredRule, WriteResult } from './types.js';

/**
 * One write, as data: what a store applies atomically to one namespace. Rules are already
 * prepared (`prepareRules`: validated, with unique ids, frozen).
 */
export type RulesChange =
  | { readonly op: 'add'; readonly rules: readonly StoredRule[] }
  | { readonly op: 'update'; readonly rules: readonly StoredRule[] }
  | { readonly op: 'replace'; readonly filter: RuleFilter; readonly rules: readonly StoredRule[] }
  | { readonly op: 'delete'; readonly filter: RuleFilter }
  | { readonly op: 'authorize'; readonly authorization: AuthorizationDocument | undefined };

/** A change applied to a namespace's rules. */
export interface AppliedChange {
  /** The namespace's rules after the change (a new array; the input is never modified). */
  readonly rules: readonly StoredRule[];
  readonly ids: readonly string[];
  readonly removed: readonly string[];
  /** False when the change left the rules as they were (then the revision must not move). */
  readonly changed: boolean;
}

/** A write worked out against a namespace's state, before the store saves anything. */
export interface PlannedWrite {
  /** What the write acknowledges: the new revision (the old one when nothing changed), ids, removed. */
  readonly result: WriteResult;
  /** The namespace's rules at `result.revision`; absent when the change leaves the namespace as it was. */
  readonly rules?: readonly StoredRule[] | undefined;
  /** The namespace's authorization at `result.revision` (meaningful only when `rules` is present). */
  readonly authorization?: AuthorizationDocument | undefined;
}

/**
 * Works out a write against `current`, the way every store does: the compare-and-set on
 * `ifRevision`, the change, and one revision bump only if the rules changed. Pure.
 *
 * @throws RevisionMismatchError when `ifRevision` is given and is not `current.revision`.
 * @throws RuleConflictError / UnknownRuleError as {@link applyChange}.
 */
export function planWrite(current: NamespaceRules, change: RulesChange, ifRevision: number | undefined): PlannedWrite {
  const { namespace } = current;
  if (ifRevision !== undefined && ifRevision !== current.revision)
    throw new RevisionMismatchError(namespace, ifRevision, current.revision);
  if (change.op === 'authorize')
    return {
      result: { revision: current.revision + 1, ids: [], removed: [] },
      rules: current.rules,
      authorization: change.authorization,
    };
  const applied = applyChange(namespace, current.rules, change);
  if (!applied.changed) return { result: { revision: current.revision, ids: applied.ids, removed: applied.removed } };
  const revision = current.revision + 1;
  return {
    result: { revision, ids: applied.ids, removed: applied.removed },
    rules: applied.rules,
    authorization: current.authorization,
  };
}

/**
 * Applies `change` to `current`, purely: the result or an error, never half of it.
 *
 * @throws RuleConflictError when an added id is already stored (and not removed by the same change).
 * @throws UnknownRuleError when an updated id is not stored.
 */
export function applyChange(
  namespace: string,
  current: readonly StoredRule[],
  change: Exclude<RulesChange, { op: 'authorize' }>,
): AppliedChange {
  switch (change.op) {
    case 'add':
      return addTo(namespace, current, change.rules, []);
    case 'update':
      return update(namespace, current, change.rules);
    case 'replace': {
      const selected = ruleMatcher(change.filter);
      const kept = current.filter((r) => !selected(r));
      const removed = current.filter(selected).map((r) => r.id);
      return addTo(namespace, kept, change.rules, removed);
    }
    case 'delete': {
      const selected = ruleMatcher(change.filter);
      const kept = current.filter((r) => !selected(r));
      const removed = current.filter(selected).map((r) => r.id);
      return { rules: removed.length === 0 ? current : kept, ids: [], removed, changed: removed.length > 0 };
    }
  }
}

function addTo(
  namespace: string,
  base: readonly StoredRule[],
  rules: readonly StoredRule[],
  removed: readonly string[],
): AppliedChange {
  const stored = new Set(base.map((r) => r.id));
  const clashes = rules.filter((r) => stored.has(r.id)).map((r) => r.id);
  if (clashes.length > 0) throw new RuleConflictError(namespace, clashes);
  return {
    rules: [...base, ...rules],
    ids: rules.map((r) => r.id),
    removed,
    changed: rules.length > 0 || removed.length > 0,
  };
}

function update(namespace: string, current: readonly StoredRule[], rules: readonly StoredRule[]): AppliedChange {
  const byId = new Map(rules.map((r) => [r.id, r]));
  const stored = new Set(current.map((r) => r.id));
  const missing = rules.filter((r) => !stored.has(r.id)).map((r) => r.id);
  if (missing.length > 0) throw new UnknownRuleError(namespace, missing);
  return {
    rules: current.map((r) => byId.get(r.id) ?? r),
    ids: rules.map((r) => r.id),
    removed: [],
    // An update counts as a change even when a rule is rewritten identically: comparing deeply
    // costs more than a spurious notification, and Amalgam8's missed-update bug came from
    // deciding updates were not changes.
    changed: rules.length > 0,
  };
}
