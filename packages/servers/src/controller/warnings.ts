import { type LintCode, type LintOptions, lint } from '@weft/core';
import type { NamespaceRules, StoredRule } from '../rules-store/types.js';

/**
 * A remark of core's `lint` about a write, returned beside its result (`warnings`): the rules
 * were stored, but probably do not do what their author meant.
 */
export interface RuleWarning {
  readonly code: LintCode;
  /** `warning`: almost certainly a mistake; `info`: worth knowing. */
  readonly severity: 'warning' | 'info';
  readonly message: string;
  /** The rule concerned: one of the request's, or a stored rule the request affected. */
  readonly id: string;
  /** JSON path in the request body (`rules[1].route.backends[0].weight`); absent for a stored rule. */
  readonly path?: string;
}

/** Known instances of a namespace, for lint's tag checks (`unmatched_backend`, `unknown_destination`…). */
export type InstancesOf = (namespace: string) => LintOptions['instances'] | Promise<LintOptions['instances']>;

/** Lint's rule names read `"id" (rules[N])`; N is our lint input's index, meaningless to the client for stored rules. */
const RULE_INDEX = /\(rules\[(\d+)\]\)/g;

/**
 * Lints the rules of the destinations a write touched, as they are after it: the written rules
 * (first, so `rules[i]` in paths and messages is the body's index) and the other stored rules of
 * those destinations (so "this new catch-all shadows rule X" is reported too).
 */
export function warningsFor(
  written: readonly StoredRule[],
  after: NamespaceRules,
  instances?: LintOptions['instances'],
): RuleWarning[] {
  if (written.length === 0) return [];
  const ids = new Set(written.map((r) => r.id));
  const destinations = new Set(written.map((r) => r.destination));
  const others = after.rules.filter((r) => destinations.has(r.destination) && !ids.has(r.id));
  const input = [...written, ...others];
  const n = written.length;
  const out: RuleWarning[] = [];
  for (const f of lint(input, instances === undefined ? {} : { instances })) {
    if (f.severity === 'error' || f.rule === undefined) continue;
    const index = f.rule.index;
    const message = f.message.replace(RULE_INDEX, (whole, i: string) => (Number(i) < n ? whole : '(stored)'));
    const id = (input[index] as StoredRule).id;
    out.push(
      index < n
        ? { code: f.code, severity: f.severity, message, id, path: f.path }
        : { code: f.code, severity: f.severity, message, id },
    );
  }
  return out;
}
