import { InvalidArgumentError, parseRules, type ValidationIssue } from '@weft/core';
import type { StoredRule } from './types.js';

/** Freezes a JSON-like value and everything in it, so snapshots can be shared without copies. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/**
 * Validates rules to be stored — the rule schema (`parseRules`, paths `rules[i]…`), an id on every
 * rule, no id twice — and returns frozen copies. A store validates what it is given even though
 * the server already did: a store is also a library API, and whatever it holds is served to every
 * proxy.
 *
 * @throws InvalidArgumentError naming every problem.
 */
export function prepareRules(rules: readonly unknown[]): StoredRule[] {
  // parseRules returns fresh objects (the schema copies), so later changes by the caller do not leak in.
  const parsed = parseRules(rules).rules;
  const issues: ValidationIssue[] = [];
  const seen = new Map<string, number>();
  parsed.forEach((rule, i) => {
    if (rule.id === undefined) {
      issues.push({ path: `rules[${i}].id`, message: 'is required to store a rule' });
      return;
    }
    const first = seen.get(rule.id);
    if (first !== undefined)
      issues.push({
        path: `rules[${i}].id`,
        message: `duplicate id ${JSON.stringify(rule.id)} (also rules[${first}])`,
      });
    else seen.set(rule.id, i);
  });
  if (issues.length > 0) throw new InvalidArgumentError('rules', issues);
  return deepFreeze(parsed as StoredRule[]);
}
