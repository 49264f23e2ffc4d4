import { randomUUID } from 'node:crypto';
import { InvalidArgumentError, parseRules, type Rule, type ValidationIssue } from '@weft/core';
import type { RuleKind, StoredRule } from '../rules-store/types.js';

/** What a write endpoint requires of its body's rules. */
export interface BodyRequirements {
  /** At least one rule (Amalgam8's POST and PUT `/v1/rules`: "No rules provided"). */
  readonly nonEmpty?: boolean;
  /** Every rule must carry an id (PUT `/v1/rules` updates by id). */
  readonly ids?: boolean;
  /**
   * PUT `/v1/rules/{routes,actions}/{destination}`: every rule is of `kind` and has this
   * destination (a rule without one is given it). Amalgam8 did not check, so a rule of another
   * destination or kind slipped in and was never replaced again.
   */
  readonly scope?: { readonly destination: string; readonly kind: RuleKind };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The rules of a write's body — Amalgam8's `{rules: [...]}` (a `revision` beside them is
 * ignored: Amalgam8's Go client always sends `0`) or a bare array — validated by core's rule
 * parser, with every problem named by its path (`rules[1].route.backends[0].weight: …`).
 *
 * @throws InvalidArgumentError listing every problem.
 */
export function rulesOfBody(body: unknown, need: BodyRequirements = {}): Rule[] {
  if (body === undefined || body === null || body === '')
    throw new InvalidArgumentError('rules', [{ path: '', message: 'a JSON body {"rules": [...]} is required' }]);
  const doc = need.scope === undefined ? body : withDestination(body, need.scope.destination);
  let rules: Rule[];
  try {
    rules = parseRules(doc).rules;
  } catch (err) {
    if (!(err instanceof InvalidArgumentError)) throw err;
    throw new InvalidArgumentError('rules', [...err.issues, ...extraIssues(doc, need)]);
  }
  const issues = extraIssues(doc, need);
  if (issues.length > 0) throw new InvalidArgumentError('rules', issues);
  return rules;
}

/** Gives rules without a destination the one in the path (PUT `…/routes/{destination}`). */
function withDestination(body: unknown, destination: string): unknown {
  const list = Array.isArray(body) ? body : isRecord(body) && Array.isArray(body.rules) ? body.rules : undefined;
  if (list === undefined) return body;
  const filled = list.map((r: unknown) => (isRecord(r) && r.destination === undefined ? { ...r, destination } : r));
  return Array.isArray(body) ? filled : { ...(body as Record<string, unknown>), rules: filled };
}

/** The checks beyond the rule schema; tolerant of invalid rules, so all problems are reported at once. */
function extraIssues(doc: unknown, need: BodyRequirements): ValidationIssue[] {
  const list = Array.isArray(doc) ? doc : isRecord(doc) && Array.isArray(doc.rules) ? doc.rules : undefined;
  if (list === undefined) return [];
  const issues: ValidationIssue[] = [];
  if (need.nonEmpty === true && list.length === 0)
    issues.push({ path: 'rules', message: 'must list at least one rule' });
  const seen = new Map<string, number>();
  list.forEach((raw: unknown, i) => {
    if (!isRecord(raw)) return;
    const id = raw.id;
    if (typeof id === 'string' && id !== '') {
      const first = seen.get(id);
      if (first !== undefined)
        issues.push({ path: `rules[${i}].id`, message: `duplicate id ${JSON.stringify(id)} (also rules[${first}])` });
      else seen.set(id, i);
    } else if (need.ids === true && id === undefined) {
      issues.push({ path: `rules[${i}].id`, message: 'is required to update a rule' });
    }
    const scope = need.scope;
    if (scope === undefined) return;
    if (typeof raw.destination === 'string' && raw.destination !== scope.destination)
      issues.push({
        path: `rules[${i}].destination`,
        message: `must be ${JSON.stringify(scope.destination)}, the destination in the path (got ${JSON.stringify(raw.destination)})`,
      });
    const kind = raw.route !== undefined ? 'route' : raw.actions !== undefined ? 'actions' : undefined;
    if (kind !== undefined && kind !== scope.kind)
      issues.push({
        path: `rules[${i}]`,
        message: `must be ${scope.kind === 'route' ? 'a route rule' : 'an action rule'}: this endpoint replaces the ${scope.kind === 'route' ? 'route' : 'action'} rules of ${JSON.stringify(scope.destination)}`,
      });
  });
  return issues;
}

/** Gives every rule without an id a random UUID (v4), as Amalgam8 did. */
export function withIds(rules: readonly Rule[]): StoredRule[] {
  return rules.map((r) => {
    if (r.id !== undefined) return r as StoredRule;
    // The id first, where a reader of GET /v1/rules looks for it.
    const { id: _absent, ...rest } = r;
    return { id: randomUUID(), ...rest };
  });
}
