import { compile as compileRules, InvalidArgumentError, type ValidationIssue } from '@weft/core';
import { formatMs } from './duration.js';
import { formatRef, type RecipeInstance, type ServiceRef } from './endpoint.js';
import type { Gremlin, ScenariosFile } from './schemas.js';
import type { Edge, Topology } from './topology.js';

/** The access-log field every record of a run is tagged with (Gremlin's name), its value the run id. */
export const RECIPE_LOG_KEY = 'gremlin_recipe_id';

/** An action rule as the controller takes it (`POST /v1/rules`). */
export interface RecipeRule {
  destination: string;
  priority: number;
  tags: string[];
  match: {
    source: { name: string; tags?: string[] };
    headers: Record<string, { prefix: string }>;
  };
  actions: Record<string, unknown>[];
}

/** How scenarios compile. */
export interface CompileOptions {
  /** Tags every rule (so the run's rules can be found and removed) and scopes them: see `header`. */
  readonly runId: string;
  /** The header whose value must start with the run id for a rule to act (default `X-Request-ID`). */
  readonly header?: string;
  /** The rules' priority: above the application's own action rules, so the run's faults apply first (default 1000). */
  readonly priority?: number;
  /**
   * `delay_responses` / `abort_responses`: Weft injects faults before a request is forwarded, not
   * on its response, so by default they fail validation; `as-requests` compiles them as the
   * request faults a8ctl's Amalgam8 generator made of them (the destination never sees the call).
   */
  readonly responses?: 'reject' | 'as-requests';
  /** The registry's instances, to resolve `reviews:v2` to `version=v2` when that is what instances carry. */
  readonly instances?: readonly RecipeInstance[];
  /** Names the scenarios in errors (`scenarios file gremlins.json`). */
  readonly where?: string;
}

/** The rules of a run, and what the compiler wants said about the input (ignored fields). */
export interface CompiledScenarios {
  readonly rules: RecipeRule[];
  /** One line per edge with a fault: `reviews:version=v2 → ratings:version=v1: delay 7s (p 1)`. */
  readonly faults: string[];
  readonly notes: string[];
}

interface Fault {
  readonly source: ServiceRef;
  readonly dest: ServiceRef;
  readonly delay?: { readonly ms: number; readonly probability: number };
  readonly abort?: { readonly code: number; readonly probability: number };
}

const IGNORED_FIELDS = ['bodypattern', 'mangleprobability', 'searchstring', 'replacestring'] as const;
const DISTRIBUTIONS = ['delaydistribution', 'abortdistribution', 'mangledistribution'] as const;

/**
 * Compiles Gremlin scenarios into controller action rules, as Amalgam8's failure generator did —
 * one rule per faulty edge, omitted sources (or destinations) expanded over the topology's
 * callers (or callees), and a trace-only rule on every other edge — but scoped tighter: every
 * rule matches only requests whose `header` starts with the run id, carries the run id as a tag,
 * and tags the access-log records it touches with `gremlin_recipe_id: <run id>`.
 *
 * Throws an `InvalidArgumentError` naming each scenario that cannot be compiled (an unknown
 * service, a kind Weft cannot express, a status the proxy cannot send).
 */
export function compileScenarios(
  scenarios: ScenariosFile,
  topology: Topology,
  options: CompileOptions,
): CompiledScenarios {
  const where = options.where ?? 'scenarios';
  const instances = options.instances ?? [];
  const issues: ValidationIssue[] = [];
  const notes = new Set<string>();
  const faults: Fault[] = [];

  scenarios.gremlins.forEach((g, i) => {
    const at = `gremlins[${i}]`;
    const problem = (field: string, message: string): void => {
      issues.push({ path: field === '' ? at : `${at}.${field}`, message });
    };
    const lookup = (field: 'source' | 'dest'): ServiceRef | undefined | null => {
      const text = g[field];
      if (text === undefined || text === '') return undefined;
      const ref = topology.find(text, instances);
      if (ref === undefined) {
        problem(field, `${text} is not a service of the topology (${topology.services.map((s) => s.text).join(', ')})`);
        return null;
      }
      return ref;
    };
    const source = lookup('source');
    const dest = lookup('dest');
    if (source === null || dest === null) return;
    noteIgnored(g, notes);

    const kind = g.scenario;
    if ((kind === 'delay_responses' || kind === 'abort_responses') && options.responses !== 'as-requests') {
      problem(
        'scenario',
        `${kind} cannot be expressed: Weft's rule engine injects delays and aborts before a request is forwarded, not on its response; use ${kind.replace('responses', 'requests')}, or run with --responses-as-requests to compile it as a request fault (as a8ctl did on Amalgam8)`,
      );
      return;
    }
    const abortCode = (fallback: number): number | undefined => {
      const code = g.errorcode === undefined || g.errorcode === 0 ? fallback : g.errorcode;
      if ((code >= 100 && code <= 599) || (code >= -5 && code <= -1)) return code;
      problem('errorcode', `must be an HTTP status 100..599, or -1 to reset the connection (got ${code})`);
      return undefined;
    };
    const pairs = (src: ServiceRef | undefined, dst: ServiceRef | undefined, field: string): Edge[] | undefined => {
      if (src === undefined && dst === undefined) {
        problem(field, 'give a source, a dest or both');
        return undefined;
      }
      const sources = src !== undefined ? [src] : topology.dependents(dst as ServiceRef);
      const dests = dst !== undefined ? [dst] : topology.dependencies(src as ServiceRef);
      const list = sources.flatMap((s) => dests.map((d) => ({ source: s, dest: d })));
      if (list.length === 0)
        problem(
          field,
          src === undefined
            ? `no service of the topology calls ${(dst as ServiceRef).text}: give a source`
            : `${(src as ServiceRef).text} calls no service in the topology: give a dest`,
        );
      return list.length === 0 ? undefined : list;
    };

    switch (kind) {
      case 'delay_requests':
      case 'delay_responses': {
        const edges = pairs(source, dest, 'source');
        for (const e of edges ?? [])
          faults.push({ ...e, delay: { ms: g.delaytime ?? 1000, probability: g.delayprobability ?? 1 } });
        return;
      }
      case 'abort_requests':
      case 'abort_responses': {
        const code = abortCode(-1);
        const edges = pairs(source, dest, 'source');
        if (code !== undefined)
          for (const e of edges ?? []) faults.push({ ...e, abort: { code, probability: g.abortprobability ?? 1 } });
        return;
      }
      case 'crash_service': {
        if (dest === undefined) {
          problem('dest', 'crash_service needs the service to crash (dest)');
          return;
        }
        const code = abortCode(-1);
        const edges = pairs(undefined, dest, 'dest');
        if (code !== undefined)
          for (const e of edges ?? []) faults.push({ ...e, abort: { code, probability: g.abortprobability ?? 1 } });
        return;
      }
      case 'partition_services': {
        if (source === undefined || dest === undefined) {
          problem('', 'partition_services needs both source and dest');
          return;
        }
        if (!topology.dependencies(source).includes(dest)) {
          problem('dest', `${source.text} does not call ${dest.text} in the topology: nothing to partition`);
          return;
        }
        const code = abortCode(-1);
        if (code === undefined) return;
        faults.push({ source, dest, abort: { code, probability: g.srcprobability ?? 1 } });
        faults.push({ source: dest, dest: source, abort: { code, probability: g.dstprobability ?? 1 } });
        return;
      }
      case 'overload_service': {
        if (dest === undefined) {
          problem('dest', 'overload_service needs the service to overload (dest)');
          return;
        }
        const code = abortCode(503);
        const edges = pairs(source, dest, 'source');
        if (code !== undefined)
          for (const e of edges ?? [])
            faults.push({
              ...e,
              delay: { ms: g.delaytime ?? 10_000, probability: g.delayprobability ?? 0.5 },
              abort: { code, probability: g.abortprobability ?? 0.5 },
            });
        return;
      }
    }
  });
  if (scenarios.gremlins.some((g) => g.headerpattern !== undefined))
    notes.add(
      `headerpattern is ignored: every rule of the run matches requests whose ${options.header ?? 'X-Request-ID'} starts with the run id (as a8ctl's --header/--pattern replaced it)`,
    );
  if (issues.length > 0) throw new InvalidArgumentError(where, issues);

  const rules = [
    ...faults.map((f) => ruleFor(f, options)),
    // Gremlin's log rules: the calls on every other edge are tagged too, so checks can read them.
    ...topology.edges
      .filter((e) => !faults.some((f) => f.source === e.source && f.dest === e.dest))
      .map((e) => ruleFor(e, options)),
  ];
  // The controller would refuse an invalid rule; say so now, before anything is applied.
  compileRules({ rules });
  return { rules, faults: faults.map(describeFault), notes: [...notes] };
}

function noteIgnored(g: Gremlin, notes: Set<string>): void {
  for (const field of DISTRIBUTIONS) {
    const value = (g as Record<string, unknown>)[field];
    if (value !== undefined && value !== 'uniform')
      notes.add(
        `${field} ${JSON.stringify(value)} is not supported: faults apply with their probability, delays are fixed`,
      );
  }
  for (const field of IGNORED_FIELDS)
    if ((g as Record<string, unknown>)[field] !== undefined && (g as Record<string, unknown>)[field] !== '*')
      notes.add(`${field} is ignored (Gremlin ignored it too)`);
}

function ruleFor(f: Fault, options: CompileOptions): RecipeRule {
  const destTags = f.dest.tags.length === 0 ? {} : { tags: [...f.dest.tags] };
  const actions: Record<string, unknown>[] = [
    { action: 'trace', log_key: RECIPE_LOG_KEY, log_value: options.runId, ...destTags },
  ];
  if (f.delay !== undefined)
    actions.push({
      action: 'delay',
      duration: f.delay.ms / 1000,
      probability: f.delay.probability,
      ...destTags,
    });
  if (f.abort !== undefined)
    actions.push({ action: 'abort', return_code: f.abort.code, probability: f.abort.probability, ...destTags });
  return {
    destination: f.dest.name,
    priority: options.priority ?? 1000,
    tags: [options.runId],
    match: {
      source: { name: f.source.name, ...(f.source.tags.length === 0 ? {} : { tags: [...f.source.tags] }) },
      headers: { [options.header ?? 'X-Request-ID']: { prefix: options.runId } },
    },
    actions,
  };
}

function describeFault(f: Fault): string {
  const parts: string[] = [];
  if (f.delay !== undefined) parts.push(`delay ${formatMs(f.delay.ms)} (p ${f.delay.probability})`);
  if (f.abort !== undefined)
    parts.push(`${f.abort.code < 0 ? 'reset' : `abort ${f.abort.code}`} (p ${f.abort.probability})`);
  return `${formatRef(f.source)} → ${formatRef(f.dest)}: ${parts.join(', ')}`;
}
