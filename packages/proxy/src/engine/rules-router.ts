import {
  type CompileOptions,
  compile,
  type Decision,
  faultsForAttempt,
  NO_RETRIES,
  type RuleRequest,
  type RuleSet,
} from '@weft/core';
import { type RetryPlan, routeRetryPlan } from './retry-plan.js';
import { type AttemptFault, RESET_FAULT, type RoutePlan, type RouteRequest, type Router } from './route.js';

/** Options of {@link rulesRouter}. */
export interface RulesRouterOptions extends CompileOptions {
  /** Random source for weighted choices and fault probabilities (tests pass a seeded one). Default `Math.random`. */
  rng?: () => number;
  /**
   * Cap of an upstream's `Retry-After` on the rules' retries (core's `maxRetryAfterMs`): a 503
   * with `Retry-After: 1` is retried after a second, one with `Retry-After: 3600` after this
   * (or not at all when that outlasts the route's timeout). Default 30 000 ms.
   */
  maxRetryAfterMs?: number;
}

/** A {@link Router} whose rules can be replaced at run time (a controller pushing a new revision). */
export interface RulesRouter extends Router {
  /** The rules in force. */
  readonly ruleSet: RuleSet;
  /** Replaces the rules (a compiled set, or rules to compile); in-flight calls keep their decision. */
  update(rules: RuleSet | unknown): void;
}

const NO_TAGS: readonly string[] = Object.freeze([]);

function isRuleSet(x: unknown): x is RuleSet {
  return typeof x === 'object' && x !== null && typeof (x as RuleSet).evaluate === 'function';
}

/**
 * Routes with Weft's rule engine (Amalgam8's `/v1/rules` model): route rules choose the backend
 * (weighted, by headers, cookies, source), its load-balancing policy, resilience settings,
 * timeout, retries, path rewrite and mirror; action rules inject delays and aborts, rolled for every attempt against the tags of
 * the instance the attempt goes to, so retries can recover from an injected abort.
 *
 * ```ts
 * const router = rulesRouter([{ destination: 'reviews', route: { backends: [{ tags: ['version=v1'] }] } }]);
 * ```
 *
 * @param rules - a compiled `RuleSet`, Amalgam8's `{rules: [...]}` document or an array of rules.
 * @throws InvalidArgumentError naming every invalid rule field.
 */
export function rulesRouter(rules: RuleSet | unknown, options: RulesRouterOptions = {}): RulesRouter {
  const rng = options.rng ?? Math.random;
  let ruleSet = isRuleSet(rules) ? rules : compile(rules, options);
  let destinations = new Set(ruleSet.destinations);
  // Retry plans are shared by every decision of a route (settings objects are frozen per rule).
  const plans = new WeakMap<object, RetryPlan | undefined>();
  const retryPlan = (d: Decision): RetryPlan | undefined => {
    const r = d.retries;
    if (plans.has(r)) return plans.get(r);
    // Core hands out its NO_RETRIES object itself when a route says nothing about retries (and
    // no `defaultRetries` was compiled in): the agent's default applies then. Anything else was
    // configured, and an explicit `http_req_retries: 0` / `retries: {attempts: 0}` means none.
    const plan = r !== NO_RETRIES ? routeRetryPlan(r, options.maxRetryAfterMs) : undefined;
    plans.set(r, plan);
    return plan;
  };
  let planCache = new WeakMap<object, RoutePlan>();
  // The same with the route's mirror (for the requests drawn into its percentage).
  let mirrorPlanCache = new WeakMap<object, RoutePlan>();
  const buildPlan = (d: Decision): RoutePlan => {
    const backend = d.backend;
    const retry = retryPlan(d);
    return Object.freeze({
      backendTags: backend?.tags ?? NO_TAGS,
      ...(d.rule?.id === undefined ? {} : { ruleId: d.rule.id }),
      ...(backend?.name === undefined ? {} : { backendName: backend.name }),
      ...(backend === undefined || d.status === 'no_rules' ? {} : { lbPolicy: backend.lbType }),
      ...(backend?.resilience === undefined ? {} : { resilience: backend.resilience }),
      ...(backend?.rateLimit === undefined ? {} : { rateLimit: backend.rateLimit }),
      ...(d.hashKey === undefined ? {} : { hashKey: d.hashKey }),
      ...(d.status === 'route' ? { timeoutMs: d.timeoutMs } : {}),
      ...(retry === undefined ? {} : { retry }),
      ...(d.rewritePath === undefined ? {} : { path: d.rewritePath }),
      // Present only when this request was drawn into the mirror's percentage.
      ...(d.mirror === undefined ? {} : { mirror: d.mirror }),
      ...(d.actions.length === 0
        ? {}
        : {
            fault: (_attempt: number, tags: readonly string[]): AttemptFault | undefined => {
              const f = faultsForAttempt(d, tags, rng);
              if (f.delay === undefined && f.abort === undefined && f.traces.length === 0) return undefined;
              return {
                ...(f.delayMs > 0 ? { delayMs: f.delayMs } : {}),
                ...(f.abort === undefined ? {} : { abort: f.abort.reset ? RESET_FAULT : (f.abort.status ?? 503) }),
                ...(f.traces.length === 0 ? {} : { traces: f.traces }),
              };
            },
          }),
    });
  };
  const request = (req: RouteRequest): RuleRequest => ({
    destination: req.service,
    method: req.method,
    path: req.path,
    headers: req.headers,
    source: req.source,
  });
  let version = 0;
  return {
    get ruleSet() {
      return ruleSet;
    },
    get version() {
      return version;
    },
    update(next) {
      version++;
      ruleSet = isRuleSet(next) ? next : compile(next, options);
      destinations = new Set(ruleSet.destinations);
      planCache = new WeakMap();
      mirrorPlanCache = new WeakMap();
    },
    has: (service) => destinations.has(service),
    services: () => ruleSet.destinations,
    route(req) {
      const d = ruleSet.evaluate(request(req), rng);
      if (d.status === 'no_match')
        return { failure: 'no-route', message: `no route rule of "${req.service}" matches the request` };
      // Decisions without per-request parts share one plan per backend (frozen per rule).
      const backend = d.backend;
      const shared =
        backend !== undefined && d.actions.length === 0 && d.hashKey === undefined && d.rewritePath === undefined;
      const cache = d.mirror === undefined ? planCache : mirrorPlanCache;
      if (shared) {
        const hit = cache.get(backend);
        if (hit !== undefined) return hit;
      }
      const plan = buildPlan(d);
      if (shared) cache.set(backend, plan);
      return plan;
    },
    explain(req) {
      return ruleSet.explain(request(req), rng);
    },
  };
}
