import type { LbPolicy } from '../balancers/registry.js';
import type { ActionInput } from './action-schema.js';
import { type Condition, ConditionTable, type PlacedCondition } from './conditions.js';
import type { DecisionBackend, FaultAction, HashKeySource, MirrorDecision, RuleInfo } from './decision.js';
import { durationToMs } from './duration.js';
import { HASHING_LB_TYPES } from './lb-type.js';
import { compareRules } from './order.js';
import { toRateLimitSettings } from './rate-limit.js';
import { toBackendResilience } from './resilience.js';
import { type RetrySettings, toRetrySettings } from './retry.js';
import type { HashKeyInput } from './route-schema.js';
import type { Rule } from './rule-schema.js';
import { type RequestSlot, SlotTable } from './slots.js';
import { cumulativeBounds, planWeights, type WeightPlan } from './weights.js';

/** Settings a rule falls back to when it does not say. */
export interface RuleDefaults {
  readonly timeoutMs: number;
  readonly retries: RetrySettings;
  readonly lbType: LbPolicy;
}

interface CompiledBase {
  readonly info: RuleInfo;
  /** The validated rule as written. */
  readonly rule: Rule;
  /** Conditions cheapest first, for testing. */
  readonly conditions: readonly Condition[];
  /** Conditions in declaration order, for explaining. */
  readonly placed: readonly PlacedCondition[];
}

/** A route rule, ready to evaluate. */
export interface CompiledRouteRule extends CompiledBase {
  readonly backends: readonly DecisionBackend[];
  /** Per backend: the slot its hash key is read from. */
  readonly hashSlots: readonly (RequestSlot | undefined)[];
  readonly weights: WeightPlan;
  readonly bounds: Float64Array;
  /** More than one backend receives traffic, so a draw is needed. */
  readonly weighted: boolean;
  /** When not `weighted`: the index of the one backend that receives traffic. */
  readonly sole: number;
  readonly timeoutMs: number;
  readonly retries: RetrySettings;
  /** Prefix rewrite: replace the first `length` characters of the path by `replacement`. */
  readonly rewrite: { readonly length: number; readonly replacement: string } | undefined;
  readonly mirror: MirrorDecision | undefined;
}

/** An action rule, ready to evaluate. */
export interface CompiledActionRule extends CompiledBase {
  readonly actions: readonly FaultAction[];
}

/** The rules of one destination, in evaluation order. */
export interface DestinationTable {
  readonly routes: readonly CompiledRouteRule[];
  readonly actions: readonly CompiledActionRule[];
}

/** Everything a rule set needs, built once per compile. */
export interface CompiledRules {
  readonly tables: ReadonlyMap<string, DestinationTable>;
  /** All rules in evaluation order. */
  readonly ordered: readonly (CompiledRouteRule | CompiledActionRule)[];
}

/** Compiles validated rules: conditions, regexes, weights and settings are all resolved here, once. */
export function compileRules(rules: readonly Rule[], defaults: RuleDefaults): CompiledRules {
  const conditions = new ConditionTable(new SlotTable());
  const compiled = rules.map((rule, index) => compileRule(rule, index, conditions, defaults));
  compiled.sort((a, b) => compareRules(a.info, b.info));
  const tables = new Map<string, { routes: CompiledRouteRule[]; actions: CompiledActionRule[] }>();
  for (const c of compiled) {
    let t = tables.get(c.info.destination);
    if (t === undefined) {
      t = { routes: [], actions: [] };
      tables.set(c.info.destination, t);
    }
    if ('actions' in c) t.actions.push(c);
    else t.routes.push(c);
  }
  return { tables, ordered: compiled };
}

function compileRule(
  rule: Rule,
  index: number,
  table: ConditionTable,
  defaults: RuleDefaults,
): CompiledRouteRule | CompiledActionRule {
  const info: RuleInfo = Object.freeze({
    id: rule.id,
    index,
    priority: rule.priority ?? 0,
    destination: rule.destination,
    kind: rule.route === undefined ? 'actions' : 'route',
    tags: Object.freeze([...(rule.tags ?? [])]),
  });
  const placed = table.compile(rule.match, rule.route?.uri);
  const conditions = placed.map((p) => p.condition).sort((a, b) => a.cost - b.cost);
  const base = { info, rule, conditions, placed };
  if (rule.route === undefined)
    return { ...base, actions: Object.freeze((rule.actions ?? []).map((a) => toFault(a, info))) };

  const route = rule.route;
  const weights = planWeights(route.backends.map((b) => b.weight));
  const backends: DecisionBackend[] = [];
  const hashSlots: (RequestSlot | undefined)[] = [];
  route.backends.forEach((b, i) => {
    const lbType = b.lb_type ?? defaults.lbType;
    const hashKeySource =
      HASHING_LB_TYPES.has(lbType) && b.hash_key !== undefined ? toHashKeySource(b.hash_key) : undefined;
    backends.push(
      Object.freeze({
        name: b.name,
        tags: Object.freeze([...(b.tags ?? [])]),
        share: weights.shares[i] ?? 0,
        index: i,
        lbType,
        hashKeySource,
        resilience: b.resilience === undefined ? undefined : toBackendResilience(b.resilience),
        rateLimit:
          b.rate_limit === undefined
            ? undefined
            : toRateLimitSettings(b.rate_limit, `${rule.destination}/${rule.id ?? `#${index}`}/${i}`),
      }),
    );
    hashSlots.push(hashKeySource === undefined ? undefined : slotFor(table, hashKeySource));
  });
  const receiving = weights.shares.filter((s) => s > 0).length;
  return {
    ...base,
    backends,
    hashSlots,
    weights,
    bounds: cumulativeBounds(weights.shares),
    weighted: receiving > 1,
    sole: Math.max(
      0,
      weights.shares.findIndex((s) => s > 0),
    ),
    timeoutMs: route.http_req_timeout === undefined ? defaults.timeoutMs : durationToMs(route.http_req_timeout),
    retries: toRetrySettings(route.http_req_retries, route.retries) ?? defaults.retries,
    rewrite: rewriteOf(rule),
    mirror:
      route.mirror === undefined
        ? undefined
        : Object.freeze({ tags: Object.freeze([...route.mirror.tags]), percentage: route.mirror.percentage ?? 100 }),
  };
}

function toHashKeySource(k: HashKeyInput): HashKeySource {
  if (k.header !== undefined) return Object.freeze({ kind: 'header', name: k.header.toLowerCase() });
  if (k.cookie !== undefined) return Object.freeze({ kind: 'cookie', name: k.cookie });
  if (k.query !== undefined) return Object.freeze({ kind: 'query', name: k.query });
  return Object.freeze({ kind: 'source_ip', name: '' });
}

function slotFor(table: ConditionTable, k: HashKeySource): RequestSlot {
  switch (k.kind) {
    case 'header':
      return table.slots.header(k.name);
    case 'cookie':
      return table.slots.cookie(k.name);
    case 'query':
      return table.slots.query(k.name);
    case 'source_ip':
      return table.slots.sourceIp();
  }
}

/** The prefix a rewrite replaces: `uri.prefix`, `uri.path`, `match.path.prefix` or `match.path.exact`, first found. */
function rewriteOf(rule: Rule): CompiledRouteRule['rewrite'] {
  const uri = rule.route?.uri;
  if (uri?.prefix_rewrite === undefined) return undefined;
  const prefix = uri.prefix ?? uri.path ?? rule.match?.path?.prefix ?? rule.match?.path?.exact;
  // Validation guarantees a prefix; guard anyway rather than rewrite from a wrong offset.
  if (prefix === undefined) return undefined;
  return Object.freeze({ length: prefix.length, replacement: uri.prefix_rewrite });
}

function toFault(a: ActionInput, rule: RuleInfo): FaultAction {
  const common = { rule, probability: a.probability ?? 1, tags: Object.freeze([...(a.tags ?? [])]) };
  switch (a.action) {
    case 'delay':
      return Object.freeze({ kind: 'delay', ...common, delayMs: durationToMs(a.duration) });
    case 'abort': {
      const reset = a.return_code < 0;
      return Object.freeze({
        kind: 'abort',
        ...common,
        returnCode: a.return_code,
        reset,
        status: reset ? undefined : a.return_code,
      });
    }
    case 'trace':
      return Object.freeze({ kind: 'trace', ...common, key: a.log_key ?? 'trace', value: a.log_value });
  }
}
