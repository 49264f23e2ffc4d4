import { draw, fastRandom, type Rng } from '../random/rng.js';
import type { CompiledActionRule, CompiledRouteRule, CompiledRules, RuleDefaults } from './compiled-rule.js';
import type { Condition } from './conditions.js';
import type { Decision, DecisionBackend, FaultAction, MirrorDecision, RuleInfo } from './decision.js';
import type { BackendChoice, Explanation, RuleTrace } from './explain.js';
import type { RuleRequest } from './request.js';
import type { Rule } from './rule-schema.js';
import { pickByBounds } from './weights.js';

const NO_ACTIONS: readonly FaultAction[] = Object.freeze([]);

/** Collects what {@link RuleSet.explain} reports; absent on the hot path. */
interface Tracer {
  routes: RuleTrace[];
  actions: RuleTrace[];
  choice: BackendChoice | undefined;
}

/**
 * Compiled rules, indexed by destination. Made by `compile()`; immutable; safe to share.
 *
 * `evaluate` is the hot path: it compiles nothing, tests each request attribute at most once
 * (however many rules read it), runs cheap conditions before regexes, and allocates only the
 * returned decision (none at all for a destination without rules).
 */
export class RuleSet {
  /** The controller revision these rules came from, if known. */
  readonly revision: number | undefined;
  /** The validated rules in evaluation order (priority, then id, then input order). */
  readonly rules: readonly Rule[];
  /** Destinations that have at least one rule. */
  readonly destinations: readonly string[];

  private readonly compiled: CompiledRules;
  private readonly defaults: RuleDefaults;
  private readonly noRules: Decision;
  private readonly noMatch: Decision;
  private readonly allInstances: DecisionBackend;
  // Stamps per-evaluation caches (request slots, regex results); see RequestSlot.
  private epoch = 0;

  /** @internal Use `compile()`. */
  constructor(compiled: CompiledRules, defaults: RuleDefaults, revision: number | undefined) {
    this.compiled = compiled;
    this.defaults = defaults;
    this.revision = revision;
    this.rules = Object.freeze(compiled.ordered.map((c) => c.rule));
    this.destinations = Object.freeze([...compiled.tables.keys()].sort());
    this.allInstances = Object.freeze({
      name: undefined,
      tags: Object.freeze([]),
      share: 1,
      index: 0,
      lbType: defaults.lbType,
      hashKeySource: undefined,
      resilience: undefined,
      rateLimit: undefined,
    });
    this.noRules = Object.freeze(this.decision('no_rules', undefined, this.allInstances, undefined, NO_ACTIONS));
    this.noMatch = Object.freeze(this.decision('no_match', undefined, undefined, undefined, NO_ACTIONS));
  }

  /** Number of rules. */
  get size(): number {
    return this.rules.length;
  }

  /** The rule infos of a destination's route and action rules, in evaluation order. */
  rulesFor(destination: string): { routes: readonly RuleInfo[]; actions: readonly RuleInfo[] } {
    const t = this.compiled.tables.get(destination);
    return { routes: t?.routes.map((r) => r.info) ?? [], actions: t?.actions.map((r) => r.info) ?? [] };
  }

  /**
   * Decides where `request` goes and which fault actions are candidates for its attempts.
   * The first matching route rule wins; a weighted choice among its backends draws one number
   * from `rng` (none when a single backend receives traffic), and a mirror below 100 % draws one
   * more. Must not be called re-entrantly from a `headers.get` of the same rule set.
   */
  evaluate(request: RuleRequest, rng: Rng = fastRandom): Decision {
    return this.run(request, rng, undefined);
  }

  /**
   * Evaluates `request` like {@link evaluate} and reports why: every route rule tried in order
   * with the conditions that failed, the weights and the draw, and the action rules. With the
   * same `rng` state it returns the same decision as `evaluate`. Not for the hot path.
   */
  explain(request: RuleRequest, rng: Rng = fastRandom): Explanation {
    const tracer: Tracer = { routes: [], actions: [], choice: undefined };
    const decision = this.run(request, rng, tracer);
    return {
      destination: request.destination,
      revision: this.revision,
      status: decision.status,
      routeRules: tracer.routes,
      actionRules: tracer.actions,
      choice: tracer.choice,
      decision,
    };
  }

  private run(request: RuleRequest, rng: Rng, tracer: Tracer | undefined): Decision {
    const table = this.compiled.tables.get(request.destination);
    if (table === undefined) return this.noRules;
    const epoch = ++this.epoch;

    let matched: CompiledRouteRule | undefined;
    const routes = table.routes;
    for (let i = 0; i < routes.length; i++) {
      const r = routes[i] as CompiledRouteRule;
      if (tracer === undefined ? allHold(r.conditions, request, epoch) : traced(r, request, epoch, tracer.routes)) {
        matched = r;
        if (tracer !== undefined)
          for (let j = i + 1; j < routes.length; j++)
            tracer.routes.push({ rule: (routes[j] as CompiledRouteRule).info, outcome: 'not_evaluated', failures: [] });
        break;
      }
    }
    if (matched === undefined && routes.length > 0) return this.noMatch;

    // Action rules: all that match contribute, in order. One matching rule reuses its frozen list.
    let actions = NO_ACTIONS;
    let owned: FaultAction[] | undefined;
    for (const a of table.actions) {
      if (!(tracer === undefined ? allHold(a.conditions, request, epoch) : traced(a, request, epoch, tracer.actions)))
        continue;
      if (actions.length === 0) actions = a.actions;
      else {
        owned ??= [...actions];
        owned.push(...a.actions);
        actions = owned;
      }
    }

    if (matched === undefined) {
      return actions.length === 0
        ? this.noRules
        : this.decision('no_rules', undefined, this.allInstances, undefined, actions);
    }
    const roll = matched.weighted ? draw(rng) : undefined;
    const chosen = roll === undefined ? matched.sole : pickByBounds(matched.bounds, roll);
    const backend = matched.backends[chosen] as DecisionBackend;
    const slot = matched.hashSlots[chosen];
    let mirror: MirrorDecision | undefined = matched.mirror;
    if (mirror !== undefined && mirror.percentage < 100 && !(draw(rng) * 100 < mirror.percentage)) mirror = undefined;
    if (tracer !== undefined) tracer.choice = choiceOf(matched, roll, chosen);
    return {
      status: 'route',
      rule: matched.info,
      backend,
      hashKey: slot === undefined ? undefined : slot.get(request, epoch),
      timeoutMs: matched.timeoutMs,
      retries: matched.retries,
      rewritePath:
        matched.rewrite === undefined
          ? undefined
          : matched.rewrite.replacement + (request.path ?? '').slice(matched.rewrite.length),
      mirror,
      actions,
    };
  }

  private decision(
    status: Decision['status'],
    rule: RuleInfo | undefined,
    backend: DecisionBackend | undefined,
    hashKey: string | undefined,
    actions: readonly FaultAction[],
  ): Decision {
    // Same property order as the literal in run(): one object shape for every decision.
    return {
      status,
      rule,
      backend,
      hashKey,
      timeoutMs: this.defaults.timeoutMs,
      retries: this.defaults.retries,
      rewritePath: undefined,
      mirror: undefined,
      actions,
    };
  }
}

function allHold(conditions: readonly Condition[], request: RuleRequest, epoch: number): boolean {
  for (let i = 0; i < conditions.length; i++) if (!(conditions[i] as Condition).test(request, epoch)) return false;
  return true;
}

/** Tests every condition (not just up to the first failure) and records the outcome. */
function traced(
  rule: CompiledRouteRule | CompiledActionRule,
  request: RuleRequest,
  epoch: number,
  into: RuleTrace[],
): boolean {
  const failures = rule.placed
    .filter((p) => !p.condition.test(request, epoch))
    .map((p) => p.condition.failure(p.where, request, epoch));
  into.push({ rule: rule.info, outcome: failures.length === 0 ? 'matched' : 'not_matched', failures });
  return failures.length === 0;
}

function choiceOf(rule: CompiledRouteRule, roll: number | undefined, chosen: number): BackendChoice {
  return {
    backends: rule.backends.map((b, i) => ({
      name: b.name,
      tags: b.tags,
      weight: rule.rule.route?.backends[i]?.weight,
      share: b.share,
    })),
    adjustment: rule.weights.adjustment,
    roll,
    chosen,
  };
}
