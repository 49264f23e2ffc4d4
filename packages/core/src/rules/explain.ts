import type { ConditionFailure } from './conditions.js';
import type { Decision, DecisionStatus, RuleInfo } from './decision.js';
import type { WeightPlan } from './weights.js';

/** How one rule fared against a request. */
export interface RuleTrace {
  readonly rule: RuleInfo;
  /**
   * `matched`; `not_matched` (see `failures`); `not_evaluated` — a route rule after the one that
   * matched (first match wins, so it was never looked at).
   */
  readonly outcome: 'matched' | 'not_matched' | 'not_evaluated';
  /** Every condition that failed, in declaration order (empty unless `not_matched`). */
  readonly failures: readonly ConditionFailure[];
}

/** How the backend of the matched route was chosen. */
export interface BackendChoice {
  /** Each backend with its weight as written and its share after normalisation. */
  readonly backends: readonly {
    readonly name: string | undefined;
    readonly tags: readonly string[];
    readonly weight: number | undefined;
    readonly share: number;
  }[];
  /** What normalisation did to the weights. */
  readonly adjustment: WeightPlan['adjustment'];
  /** The random draw in [0, 1); undefined when only one backend receives traffic. */
  readonly roll: number | undefined;
  /** Index of the chosen backend. */
  readonly chosen: number;
}

/** Why a request got its decision: `ruleSet.explain(request)`. */
export interface Explanation {
  readonly destination: string;
  readonly revision: number | undefined;
  readonly status: DecisionStatus;
  /** Route rules of the destination in evaluation order. */
  readonly routeRules: readonly RuleTrace[];
  /** Action rules of the destination in evaluation order (all are evaluated, unless no route matched). */
  readonly actionRules: readonly RuleTrace[];
  /** Present when a route matched. */
  readonly choice: BackendChoice | undefined;
  /** The decision itself, exactly what `evaluate` returns for the same request and draws. */
  readonly decision: Decision;
}

function ruleName(r: RuleInfo): string {
  return `${r.id === undefined ? '(no id)' : JSON.stringify(r.id)} rules[${r.index}] priority ${r.priority}`;
}

/** Renders an {@link Explanation} as readable lines (for CLIs and logs). */
export function formatExplanation(e: Explanation): string {
  const lines: string[] = [`destination ${JSON.stringify(e.destination)}: ${e.status}`];
  if (e.routeRules.length === 0) lines.push('  no route rules: balance across every instance');
  for (const t of e.routeRules) {
    lines.push(`  route ${ruleName(t.rule)}: ${t.outcome.replace('_', ' ')}`);
    for (const f of t.failures)
      lines.push(
        `    ${f.condition} ${f.expected}, got ${f.actual === undefined ? 'nothing' : JSON.stringify(f.actual)}`,
      );
    if (t.outcome === 'matched' && e.choice !== undefined) lines.push(...formatChoice(e.choice));
  }
  for (const t of e.actionRules) {
    lines.push(`  actions ${ruleName(t.rule)}: ${t.outcome.replace('_', ' ')}`);
    for (const f of t.failures)
      lines.push(
        `    ${f.condition} ${f.expected}, got ${f.actual === undefined ? 'nothing' : JSON.stringify(f.actual)}`,
      );
  }
  for (const a of e.decision.actions) {
    const what =
      a.kind === 'delay'
        ? `delay ${a.delayMs} ms`
        : a.kind === 'abort'
          ? a.reset
            ? 'reset'
            : `abort ${a.status}`
          : `trace ${a.key}=${a.value}`;
    const tags = a.tags.length === 0 ? 'any instance' : a.tags.join(',');
    lines.push(`  fault ${what} with probability ${a.probability} on ${tags}`);
  }
  return lines.join('\n');
}

function formatChoice(choice: BackendChoice): string[] {
  const lines = choice.backends.map((b, i) => {
    const label = b.name ?? (b.tags.length === 0 ? '(all instances)' : b.tags.join(','));
    const weight = b.weight === undefined ? 'unweighted' : `weight ${b.weight}`;
    return `    backend ${i} ${label}: ${weight}, share ${round(b.share)}${i === choice.chosen ? '  <- chosen' : ''}`;
  });
  if (choice.adjustment !== 'none') lines.push(`    weights ${choice.adjustment.replace('_', ' ')} to sum to 1`);
  if (choice.roll !== undefined) lines.push(`    draw ${round(choice.roll)}`);
  return lines;
}

function round(x: number): string {
  return String(Math.round(x * 10_000) / 10_000);
}
