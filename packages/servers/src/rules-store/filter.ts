import type { Rule } from '@weft/core';
import type { RuleFilter, RuleKind } from './types.js';

/** The kind of a validated rule (validation guarantees exactly one of `route` and `actions`). */
export function ruleKind(rule: Rule): RuleKind {
  return rule.route !== undefined ? 'route' : 'actions';
}

/** True when `filter` selects every rule. */
export function selectsAll(filter: RuleFilter): boolean {
  return (
    (filter.ids?.length ?? 0) === 0 &&
    (filter.tags?.length ?? 0) === 0 &&
    (filter.destinations?.length ?? 0) === 0 &&
    filter.kind === undefined
  );
}

/**
 * Compiles a filter into a predicate, with Amalgam8's semantics: ids and destinations are
 * alternatives (any of them), tags are requirements (all of them); empty fields select all.
 */
export function ruleMatcher(filter: RuleFilter): (rule: Rule) => boolean {
  const ids = nonEmptySet(filter.ids);
  const destinations = nonEmptySet(filter.destinations);
  const tags = filter.tags ?? [];
  const kind = filter.kind;
  return (rule) => {
    if (ids !== undefined && (rule.id === undefined || !ids.has(rule.id))) return false;
    if (destinations !== undefined && !destinations.has(rule.destination)) return false;
    if (kind !== undefined && ruleKind(rule) !== kind) return false;
    if (tags.length > 0) {
      const own = rule.tags ?? [];
      for (const t of tags) if (!own.includes(t)) return false;
    }
    return true;
  };
}

function nonEmptySet(values: readonly string[] | undefined): Set<string> | undefined {
  return values === undefined || values.length === 0 ? undefined : new Set(values);
}
