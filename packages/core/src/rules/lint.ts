import { InvalidArgumentError } from '../errors/specific.js';
import { hasAllTags } from '../model/tags.js';
import { type CompiledActionRule, type CompiledRouteRule, compileRules } from './compiled-rule.js';
import type { RuleInfo } from './decision.js';
import { HASHING_LB_TYPES } from './lb-type.js';
import { parseRules } from './parse.js';
import { planRegex } from './regex-plan.js';
import { NO_RETRIES } from './retry.js';

/** How bad a finding is: `error` — the rules are invalid or ambiguous; `warning` — almost certainly a mistake; `info` — worth knowing. */
export type LintSeverity = 'error' | 'warning' | 'info';

/** Every kind of finding {@link lint} reports. */
export type LintCode =
  | 'invalid'
  | 'duplicate_id'
  | 'shadowed_rule'
  | 'equal_priority'
  | 'no_default_route'
  | 'zero_weight_backend'
  | 'starved_backend'
  | 'weights_normalised'
  | 'zero_probability_action'
  | 'hash_key_missing'
  | 'per_try_timeout_not_below_timeout'
  | 'cookie_regex_needs_space'
  | 'unknown_destination'
  | 'unknown_source'
  | 'unmatched_backend'
  | 'unmatched_mirror'
  | 'unmatched_action';

/** One problem or remark about a rule list. */
export interface LintFinding {
  readonly code: LintCode;
  readonly severity: LintSeverity;
  /** JSON path of the offending field, e.g. `rules[2].route.backends[0].weight`. */
  readonly path: string;
  readonly message: string;
  /** The rule concerned (absent for `invalid`). */
  readonly rule?: RuleInfo;
}

/** Options of {@link lint}. */
export interface LintOptions {
  /**
   * The known instances (anything with `service` and `tags`, e.g. `ServiceInstance`s). When
   * given, backends, mirrors and actions whose tags no instance of the destination carries, and
   * destinations without instances, are reported.
   */
  readonly instances?: Iterable<{ readonly service: string; readonly tags: readonly string[] }>;
}

/**
 * Checks rules for mistakes that validation cannot see: rules that can never apply, weights
 * and probabilities that do nothing, ambiguous ordering, tags no instance carries. Never throws:
 * invalid input is reported as `invalid` findings (one per validation issue).
 *
 * @param input - the same input as `compile`: a `{rules}` document or an array of rules.
 */
export function lint(input: unknown, options: LintOptions = {}): LintFinding[] {
  let rules: ReturnType<typeof parseRules>['rules'];
  try {
    rules = parseRules(input).rules;
  } catch (err) {
    if (!(err instanceof InvalidArgumentError)) throw err;
    return err.issues.map((i) => ({ code: 'invalid', severity: 'error', path: i.path, message: i.message }));
  }
  const compiled = compileRules(rules, { timeoutMs: 15_000, retries: NO_RETRIES, lbType: 'round_robin' });
  const out: LintFinding[] = [];
  const at = (r: RuleInfo, suffix = ''): string => `rules[${r.index}]${suffix}`;

  // Duplicate ids (the controller rejects them; a hand-written file may not).
  const firstById = new Map<string, RuleInfo>();
  for (const c of [...compiled.ordered].sort((a, b) => a.info.index - b.info.index)) {
    const id = c.info.id;
    if (id === undefined) continue;
    const first = firstById.get(id);
    if (first === undefined) firstById.set(id, c.info);
    else
      out.push({
        code: 'duplicate_id',
        severity: 'error',
        path: at(c.info, '.id'),
        message: `duplicate id ${JSON.stringify(id)} (also ${at(first)})`,
        rule: c.info,
      });
  }

  const instances = options.instances === undefined ? undefined : groupTags(options.instances);
  for (const [destination, table] of compiled.tables) {
    lintRouteOrder(table.routes, out, at);
    for (const r of table.routes) lintRoute(r, out, at);
    for (const a of table.actions) lintActions(a, out, at);
    if (instances !== undefined) lintAgainstInstances(destination, table.routes, table.actions, instances, out, at);
  }
  return out.sort((a, b) => compareFindings(a, b));
}

type At = (r: RuleInfo, suffix?: string) => string;

function lintRouteOrder(routes: readonly CompiledRouteRule[], out: LintFinding[], at: At): void {
  const keys = routes.map((r) => new Set(r.placed.map((p) => p.condition.key)));
  routes.forEach((r, j) => {
    // A rule whose conditions include all of an earlier rule's can only match when that rule does.
    for (let i = 0; i < j; i++) {
      const earlier = routes[i] as CompiledRouteRule;
      const need = keys[i] as Set<string>;
      const mine = keys[j] as Set<string>;
      if ([...need].every((k) => mine.has(k))) {
        const why = need.size === 0 ? 'catch-all rule' : 'rule';
        out.push({
          code: 'shadowed_rule',
          severity: 'warning',
          path: at(r.info),
          message: `never applies: the ${why} ${name(earlier.info)} comes first and matches every request this rule matches`,
          rule: r.info,
        });
        break;
      }
    }
  });
  const byPriority = new Map<number, CompiledRouteRule[]>();
  for (const r of routes) byPriority.set(r.info.priority, [...(byPriority.get(r.info.priority) ?? []), r]);
  for (const [priority, group] of byPriority) {
    if (group.length < 2) continue;
    const first = group[0] as CompiledRouteRule;
    out.push({
      code: 'equal_priority',
      severity: 'info',
      path: at(first.info, '.priority'),
      message: `${group.length} route rules of ${JSON.stringify(first.info.destination)} have priority ${priority}; they are tried by id, then input order: ${group.map((g) => name(g.info)).join(', ')}`,
      rule: first.info,
    });
  }
  if (routes.length > 0 && !routes.some((r) => r.placed.length === 0)) {
    const last = routes[routes.length - 1] as CompiledRouteRule;
    out.push({
      code: 'no_default_route',
      severity: 'info',
      path: at(last.info),
      message: `no route rule of ${JSON.stringify(last.info.destination)} matches every request; requests that match none are refused with 412`,
      rule: last.info,
    });
  }
}

function lintRoute(r: CompiledRouteRule, out: LintFinding[], at: At): void {
  const route = r.rule.route;
  if (route === undefined) return;
  const many = route.backends.length > 1;
  route.backends.forEach((b, i) => {
    if (b.weight === 0 && many)
      out.push({
        code: 'zero_weight_backend',
        severity: 'warning',
        path: at(r.info, `.route.backends[${i}].weight`),
        message: 'weight 0: this backend never receives traffic',
        rule: r.info,
      });
    else if (b.weight === undefined && many && (r.backends[i]?.share ?? 0) === 0)
      out.push({
        code: 'starved_backend',
        severity: 'warning',
        path: at(r.info, `.route.backends[${i}]`),
        message: `unweighted backend gets no traffic: the explicit weights already sum to ${round(r.weights.explicitSum)}`,
        rule: r.info,
      });
    const lb = b.lb_type;
    if (lb !== undefined && HASHING_LB_TYPES.has(lb) && b.hash_key === undefined)
      out.push({
        code: 'hash_key_missing',
        severity: 'warning',
        path: at(r.info, `.route.backends[${i}].lb_type`),
        message: `${lb} without hash_key: every request picks an instance at random`,
        rule: r.info,
      });
  });
  if (r.weights.adjustment !== 'none')
    out.push({
      code: 'weights_normalised',
      severity: r.weights.adjustment === 'scaled_down' ? 'warning' : 'info',
      path: at(r.info, '.route.backends'),
      message: `weights sum to ${round(r.weights.explicitSum)}; scaled ${r.weights.adjustment === 'scaled_down' ? 'down' : 'up'} to 1`,
      rule: r.info,
    });
  const perTry = r.retries.perTryTimeoutMs;
  if (r.retries.maxRetries > 0 && perTry !== undefined && perTry >= r.timeoutMs)
    out.push({
      code: 'per_try_timeout_not_below_timeout',
      severity: 'warning',
      path: at(r.info, '.route.retries.per_try_timeout'),
      message: `per-try timeout ${perTry} ms is not below the route timeout ${r.timeoutMs} ms, so no retry can happen after a try times out`,
      rule: r.info,
    });
  lintCookieRegex(r, out, at);
}

function lintActions(a: CompiledActionRule, out: LintFinding[], at: At): void {
  (a.rule.actions ?? []).forEach((action, i) => {
    if (action.probability === 0)
      out.push({
        code: 'zero_probability_action',
        severity: 'warning',
        path: at(a.info, `.actions[${i}].probability`),
        message: `probability 0: this ${action.action} action never applies`,
        rule: a.info,
      });
  });
  lintCookieRegex(a, out, at);
}

/**
 * Amalgam8's user-matching idiom `^(.*?;)?(user=jason)(;.*)?$` needs `user=jason` right after a
 * `;`, but browsers separate cookies with `; ` — so it only matches when the cookie comes first.
 */
function lintCookieRegex(r: CompiledRouteRule | CompiledActionRule, out: LintFinding[], at: At): void {
  for (const [name, spec] of Object.entries(r.rule.match?.headers ?? {})) {
    const pattern = typeof spec === 'string' ? spec : spec.regex;
    if (name.toLowerCase() !== 'cookie' || pattern === undefined) continue;
    const plan = planRegex(pattern, '');
    if (plan.kind === 'segment') {
      const eq = plan.literal.indexOf('=');
      const user = eq > 0 ? [plan.literal, plan.literal.slice(0, eq), plan.literal.slice(eq + 1)] : null;
      const hint =
        user === null
          ? 'match.cookies'
          : `match.cookies: {${JSON.stringify(user[1])}: {exact: ${JSON.stringify(user[2])}}}`;
      out.push({
        code: 'cookie_regex_needs_space',
        severity: 'info',
        path: at(r.info, `.match.headers.${name}`),
        message: `this regex does not match when the cookie is not the first one ("a=1; ${user?.[1] ?? 'x'}=…": browsers put a space after ';'); consider ${hint}`,
        rule: r.info,
      });
    }
  }
}

function lintAgainstInstances(
  destination: string,
  routes: readonly CompiledRouteRule[],
  actions: readonly CompiledActionRule[],
  instances: ReadonlyMap<string, (readonly string[])[]>,
  out: LintFinding[],
  at: At,
): void {
  const tagSets = instances.get(destination);
  const first = (routes[0] ?? actions[0]) as CompiledRouteRule | CompiledActionRule;
  if (tagSets === undefined) {
    out.push({
      code: 'unknown_destination',
      severity: 'warning',
      path: at(first.info, '.destination'),
      message: `no instance of ${JSON.stringify(destination)} is known`,
      rule: first.info,
    });
    return;
  }
  const carried = (tags: readonly string[]): boolean => tagSets.some((t) => hasAllTags(t, tags));
  for (const r of [...routes, ...actions]) {
    const source = r.rule.match?.source?.name;
    if (source !== undefined && !instances.has(source))
      out.push({
        code: 'unknown_source',
        severity: 'info',
        path: at(r.info, '.match.source.name'),
        message: `no instance of source ${JSON.stringify(source)} is known`,
        rule: r.info,
      });
  }
  for (const r of routes) {
    r.backends.forEach((b, i) => {
      if (b.share > 0 && !carried(b.tags))
        out.push({
          code: 'unmatched_backend',
          severity: 'warning',
          path: at(r.info, `.route.backends[${i}].tags`),
          message: `no instance of ${JSON.stringify(destination)} carries ${b.tags.join(', ')}; its share (${round(b.share)}) of traffic would fail with 503`,
          rule: r.info,
        });
    });
    if (r.mirror !== undefined && !carried(r.mirror.tags))
      out.push({
        code: 'unmatched_mirror',
        severity: 'warning',
        path: at(r.info, '.route.mirror.tags'),
        message: `no instance of ${JSON.stringify(destination)} carries ${r.mirror.tags.join(', ')}`,
        rule: r.info,
      });
  }
  for (const a of actions)
    a.actions.forEach((f, i) => {
      if (!carried(f.tags))
        out.push({
          code: 'unmatched_action',
          severity: 'warning',
          path: at(a.info, `.actions[${i}].tags`),
          message: `no instance of ${JSON.stringify(destination)} carries ${f.tags.join(', ')}; this ${f.kind} action never applies`,
          rule: a.info,
        });
    });
}

function groupTags(
  instances: Iterable<{ readonly service: string; readonly tags: readonly string[] }>,
): Map<string, (readonly string[])[]> {
  const m = new Map<string, (readonly string[])[]>();
  for (const i of instances) {
    const list = m.get(i.service);
    if (list === undefined) m.set(i.service, [i.tags]);
    else list.push(i.tags);
  }
  return m;
}

function name(r: RuleInfo): string {
  return r.id === undefined ? `rules[${r.index}]` : `${JSON.stringify(r.id)} (rules[${r.index}])`;
}

function round(x: number): string {
  return String(Math.round(x * 10_000) / 10_000);
}

const SEVERITY_ORDER: Readonly<Record<LintSeverity, number>> = { error: 0, warning: 1, info: 2 };

function compareFindings(a: LintFinding, b: LintFinding): number {
  return (
    SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] ||
    (a.rule?.index ?? -1) - (b.rule?.index ?? -1) ||
    (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)
  );
}
