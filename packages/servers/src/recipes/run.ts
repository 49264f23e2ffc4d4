import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { type CheckResult, type PreparedCheck, prepareCheck } from './checks.js';
import { type CompiledScenarios, compileScenarios, RECIPE_LOG_KEY } from './compile.js';
import { formatRef, type RecipeInstance } from './endpoint.js';
import { type LoadProgress, type LoadResult, type LoadSpec, runLoad } from './load.js';
import {
  type AccessLogSource,
  type Collected,
  collectRecords,
  httpAccessLogSource,
  onEdge,
  type ProxyReading,
} from './records.js';
import type { RecipeRulesApi } from './rules-api.js';
import type { ChecksFile, ScenariosFile, TopologyFile } from './schemas.js';
import { Topology } from './topology.js';

/** A recipe: Gremlin's three files, parsed (see `readRecipeFile` / `parseRecipePart`). */
export interface Recipe {
  readonly topology: TopologyFile;
  readonly scenarios: ScenariosFile;
  readonly checks: ChecksFile;
  /** Names the scenarios in errors (`scenarios file gremlins.json`). */
  readonly scenariosWhere?: string;
}

/** How to run a recipe. */
export interface RunRecipeOptions {
  /** The rules controller. */
  readonly rules: RecipeRulesApi;
  /**
   * Where the proxies' access-log records are read: sidecars' admin URLs, or in-process sources.
   * The topology's `service_proxies` are added (as admin URLs).
   */
  readonly proxies?: readonly (string | AccessLogSource)[];
  /** The registry's instances: resolve `reviews:v2` to its tags, and the instance behind each record. */
  readonly instances?: readonly RecipeInstance[];
  /** The load to send; undefined to send none (`sendLoad` or someone else does). */
  readonly load?: LoadSpec;
  /** Sends the load another way (a script); called with the run id and the header to send it in. */
  readonly sendLoad?: (runId: string, header: string) => Promise<void>;
  /** The header that scopes the run's rules: its value must start with the run id (default `X-Request-ID`). */
  readonly header?: string;
  /** The run id (default `recipe-<12 hex>`): tags the rules, prefixes the request ids. */
  readonly runId?: string;
  /** The rules' priority (default 1000). */
  readonly priority?: number;
  /** Compile `*_responses` scenarios as request faults instead of refusing them. */
  readonly responsesAsRequests?: boolean;
  /** How long to wait for the records the checks need after the load (default 30 s). */
  readonly waitMs?: number;
  /** Records must stop coming for this long before the checks are judged (default 1 s). */
  readonly settleMs?: number;
  /** How long to wait for the proxies to run with the run's rules (default 10 s). */
  readonly rulesWaitMs?: number;
  /** Aborts the run: the load stops, the rules are removed, and the run rejects with {@link RecipeInterruptedError}. */
  readonly signal?: AbortSignal;
  readonly onEvent?: (event: RecipeEvent) => void;
}

/** What a run reports as it goes (for a CLI's progress output). */
export type RecipeEvent =
  | { readonly type: 'compiled'; readonly compiled: CompiledScenarios }
  | { readonly type: 'rules-added'; readonly ids: readonly string[]; readonly revision: number | undefined }
  | { readonly type: 'rules-propagated'; readonly proxies: number; readonly behind: readonly string[] }
  | { readonly type: 'load-progress'; readonly progress: LoadProgress }
  | { readonly type: 'load-done'; readonly load: LoadSummary }
  | { readonly type: 'waiting'; readonly missing: readonly string[] }
  | { readonly type: 'rules-removed'; readonly left: number };

/** The load as the report shows it. */
export interface LoadSummary {
  readonly url: string;
  readonly requests: number;
  /** Count per status (`"200"`, `"503"`; `"error"` for no response). */
  readonly statuses: Readonly<Record<string, number>>;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Requests sent late because `concurrency` were in flight. */
  readonly late: number;
  readonly durationMs: number;
}

/** The outcome of a run. */
export interface RecipeReport {
  readonly runId: string;
  readonly header: string;
  /** Every check passed. */
  readonly passed: boolean;
  readonly checks: readonly CheckResult[];
  readonly faults: readonly string[];
  readonly load: LoadSummary | undefined;
  /** Records the checker waited for in vain, said exactly (empty when all came). */
  readonly missing: readonly string[];
  readonly proxies: readonly ProxyReading[];
  readonly records: number;
  readonly rules: { readonly added: number; readonly left: number };
  readonly notes: readonly string[];
  readonly startedAt: string;
  readonly durationMs: number;
}

/** The run was interrupted (its `signal` aborted); its rules were removed first. */
export class RecipeInterruptedError extends Error {
  readonly code = 'WEFT_ERR_RECIPE_INTERRUPTED';
  constructor(
    readonly runId: string,
    /** Rules of the run still in the controller after cleanup (0 unless removal failed). */
    readonly left: number,
    readonly cleanupError: string | undefined,
  ) {
    super(
      cleanupError === undefined
        ? `interrupted: run ${runId} stopped and its rules were removed`
        : `interrupted: run ${runId} stopped, but removing its rules failed (${cleanupError}); remove them with weft rule-delete --tag ${runId}`,
    );
    this.name = 'RecipeInterruptedError';
  }
}

/** A new run id: `recipe-` and 12 hex digits. */
export const newRunId = (): string => `recipe-${randomBytes(6).toString('hex')}`;

const percentile = (sorted: readonly number[], p: number): number =>
  sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number);

function summarize(spec: LoadSpec, result: LoadResult): LoadSummary {
  const statuses: Record<string, number> = {};
  for (const o of result.outcomes) {
    const key = o.status === 0 ? 'error' : String(o.status);
    statuses[key] = (statuses[key] ?? 0) + 1;
  }
  const latencies = result.outcomes.map((o) => o.latencyMs).sort((a, b) => a - b);
  return {
    url: spec.url,
    requests: result.outcomes.length,
    statuses,
    p50Ms: Math.round(percentile(latencies, 50)),
    p99Ms: Math.round(percentile(latencies, 99)),
    maxMs: Math.round(latencies.at(-1) ?? 0),
    late: result.late,
    durationMs: result.endedAt - result.startedAt,
  };
}

/**
 * Runs a Gremlin recipe against a live mesh: compiles its scenarios into action rules scoped to
 * the run (see `compileScenarios`), adds them, waits until the proxies run with them, sends the
 * load, then reads the proxies' own access-log records of the run and judges the checks — and
 * removes every rule it added, whatever happens (an error, a failed check, `signal`).
 *
 * The checker does not guess how long logs take: it waits until every request the load sent
 * has its record at the entry proxy, every check has records of the calls it judges, and no
 * new record has come for `settleMs` — or until `waitMs` has passed, and then it says exactly
 * which records are missing (and checks without records fail saying so).
 *
 * @example
 * ```ts
 * import { httpRulesApi, readRecipeFile, runRecipe } from '@weft/servers';
 *
 * const recipe = {
 *   topology: await readRecipeFile('topology', 'topology.json'),
 *   scenarios: await readRecipeFile('scenarios', 'gremlins.json'),
 *   checks: await readRecipeFile('checks', 'checks.json'),
 * };
 * const report = await runRecipe(recipe, {
 *   rules: httpRulesApi({ url: 'http://127.0.0.1:8080' }),
 *   proxies: ['http://127.0.0.1:8082'],
 *   load: { url: 'http://127.0.0.1:6379/productpage/', rate: 10, durationMs: 5000, concurrency: 10, timeoutMs: 30_000 },
 * });
 * if (!report.passed) console.log(report.checks.filter((c) => !c.passed));
 * ```
 */
export async function runRecipe(recipe: Recipe, options: RunRecipeOptions): Promise<RecipeReport> {
  const runId = options.runId ?? newRunId();
  const header = options.header ?? 'X-Request-ID';
  const instances = options.instances ?? [];
  const started = Date.now();
  const since = started - 60_000;
  const emit = options.onEvent ?? (() => {});
  const signal = options.signal;

  // Everything that can be refused is refused before anything changes.
  const topology = new Topology(recipe.topology, instances);
  const compiled = compileScenarios(recipe.scenarios, topology, {
    runId,
    header,
    instances,
    responses: options.responsesAsRequests === true ? 'as-requests' : 'reject',
    ...(options.priority === undefined ? {} : { priority: options.priority }),
    ...(recipe.scenariosWhere === undefined ? {} : { where: recipe.scenariosWhere }),
  });
  const checks = recipe.checks.checks.map((c) => prepareCheck(c, instances));
  const sources = [...(options.proxies ?? []), ...topology.proxies].map((p) =>
    typeof p === 'string' ? httpAccessLogSource(p) : p,
  );
  const notes = [...compiled.notes];
  if (sources.length === 0)
    notes.push('no proxy to read access logs from: give the sidecars’ admin URLs (--proxy) or service_proxies');
  emit({ type: 'compiled', compiled });

  let added = 0;
  let interrupted = false;
  let load: LoadSummary | undefined;
  let collected: Collected = { records: [], proxies: [] };
  let missing: string[] = [];
  let results: CheckResult[] = [];
  try {
    signal?.throwIfAborted();
    const answer = await options.rules.add(compiled.rules);
    added = compiled.rules.length;
    emit({ type: 'rules-added', ids: answer.ids, revision: answer.revision });
    await waitForRules(sources, runId, answer.revision, options.rulesWaitMs ?? 10_000, signal, emit);

    // The request ids of the load we sent ourselves (none when the caller sends it).
    let sent: readonly string[] = [];
    if (options.load !== undefined) {
      const spec: LoadSpec = { ...options.load, headers: { ...options.load.headers, ...scopeHeader(header, runId) } };
      const result = await runLoad(spec, (n) => `${runId}-${n}`, {
        ...(signal === undefined ? {} : { signal }),
        onProgress: (progress) => emit({ type: 'load-progress', progress }),
      });
      signal?.throwIfAborted();
      load = summarize(spec, result);
      emit({ type: 'load-done', load });
      sent = result.outcomes.map((o) => o.requestId);
    } else {
      await options.sendLoad?.(runId, header);
      signal?.throwIfAborted();
    }
    ({ collected, missing } = await waitForRecords(
      sources,
      runId,
      since,
      instances,
      topology,
      checks,
      sent,
      options,
      emit,
    ));
    results = checks.map((c) => c.judge(collected.records));
  } catch (err) {
    if (!signal?.aborted) throw await withCleanup(err, options.rules, runId, added, emit);
    interrupted = true;
  }
  const cleanup = await removeRules(options.rules, runId, added, emit);
  if (interrupted) throw new RecipeInterruptedError(runId, cleanup.left, cleanup.error);
  if (cleanup.error !== undefined)
    notes.push(`removing the run's rules failed (${cleanup.error}): remove them with weft rule-delete --tag ${runId}`);
  for (const p of collected.proxies)
    if (p.overflowed)
      notes.push(`${p.proxy}: its ring of recent access-log records overflowed during the run; some records are lost`);
  return {
    runId,
    header,
    passed: results.every((r) => r.passed),
    checks: results,
    faults: compiled.faults,
    load,
    missing,
    proxies: collected.proxies,
    records: collected.records.length,
    rules: { added, left: cleanup.left },
    notes,
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
  };
}

/** The header that scopes the run: `X-Request-ID` is set per request by the load (`<run id>-<n>`). */
function scopeHeader(header: string, runId: string): Record<string, string> {
  return header.toLowerCase() === 'x-request-id' ? {} : { [header]: runId };
}

/** Removes the rules of a failed run, then returns the error to throw (cleanup trouble added to it). */
async function withCleanup(
  err: unknown,
  rules: RecipeRulesApi,
  runId: string,
  added: number,
  emit: (e: RecipeEvent) => void,
): Promise<unknown> {
  const cleanup = await removeRules(rules, runId, added, emit);
  if (cleanup.error !== undefined && err instanceof Error)
    err.message += `; removing the run's rules failed too (${cleanup.error}): remove them with weft rule-delete --tag ${runId}`;
  return err;
}

/** Deletes every rule tagged with the run id (even those whose POST answer was lost), and counts what is left. */
async function removeRules(
  rules: RecipeRulesApi,
  runId: string,
  added: number,
  emit: (e: RecipeEvent) => void,
): Promise<{ left: number; error: string | undefined }> {
  // Tried even when the POST seemed to fail: it may have reached the controller.
  try {
    await rules.removeTagged(runId);
    const left = (await rules.listTagged(runId)).length;
    emit({ type: 'rules-removed', left });
    return { left, error: left === 0 ? undefined : `${left} rules still tagged ${runId}` };
  } catch (err) {
    return { left: added, error: (err as Error).message };
  }
}

/** Waits until every proxy that reports its rules revision runs with the run's rules (or the time is up). */
async function waitForRules(
  sources: readonly AccessLogSource[],
  runId: string,
  revision: number | undefined,
  waitMs: number,
  signal: AbortSignal | undefined,
  emit: (e: RecipeEvent) => void,
): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const behind: string[] = [];
    await Promise.all(
      sources.map(async (s) => {
        try {
          const at =
            s.rulesRevision === undefined
              ? (await s.read({ requestIdPrefix: runId, since: Date.now() })).rules_revision
              : await s.rulesRevision();
          if (revision !== undefined && typeof at === 'number' && at < revision) behind.push(s.name);
        } catch {
          // An unreachable proxy is reported with the records; it cannot hold the run up here.
        }
      }),
    );
    if (behind.length === 0 || Date.now() > deadline) {
      emit({ type: 'rules-propagated', proxies: sources.length, behind });
      return;
    }
    await sleep(50, undefined, signal === undefined ? {} : { signal });
  }
}

/** What the checker still waits for, said exactly. */
function missingOf(
  collected: Collected,
  topology: Topology,
  checks: readonly PreparedCheck[],
  sent: readonly string[],
): string[] {
  const missing: string[] = [];
  const records = collected.records;
  const roots = topology.roots();
  const rootNames = new Set(roots.map((r) => r.name));
  // The entry proxy logs each request as its response goes back: once it is among the sources
  // (a record of it has come), every request the load sent must have its record there.
  const atEntry = new Set(records.filter((r) => rootNames.has(r.src.name)).map((r) => r.requestId));
  if (atEntry.size > 0) {
    const without = sent.filter((id) => !atEntry.has(id));
    if (without.length > 0)
      missing.push(
        `${without.length} of ${sent.length} requests have no record at the entry (${roots.map(formatRef).join(', ')}): ${without.slice(0, 5).join(', ')}${without.length > 5 ? ', …' : ''}`,
      );
  }
  const said = new Set<string>();
  for (const check of checks)
    for (const need of check.needs) {
      if (onEdge(records, need.source, need.dest).length > 0) continue;
      const what = `${need.source === undefined ? '*' : formatRef(need.source)} → ${need.dest === undefined ? '*' : formatRef(need.dest)}`;
      if (said.has(what)) continue;
      said.add(what);
      missing.push(`no record of ${what} (needed by ${check.name})`);
    }
  return missing;
}

async function waitForRecords(
  sources: readonly AccessLogSource[],
  runId: string,
  since: number,
  instances: readonly RecipeInstance[],
  topology: Topology,
  checks: readonly PreparedCheck[],
  sent: readonly string[],
  options: RunRecipeOptions,
  emit: (e: RecipeEvent) => void,
): Promise<{ collected: Collected; missing: string[] }> {
  const deadline = Date.now() + (options.waitMs ?? 30_000);
  const settleMs = options.settleMs ?? 1000;
  let lastCount = -1;
  let lastChange = Date.now();
  let lastSaid = '';
  for (;;) {
    const roots = topology.roots();
    const entry = roots.length === 1 ? roots[0] : undefined;
    const collected = await collectRecords(sources, runId, RECIPE_LOG_KEY, since, instances, entry);
    const missing = missingOf(collected, topology, checks, sent);
    if (collected.records.length !== lastCount) {
      lastCount = collected.records.length;
      lastChange = Date.now();
    }
    const settled = Date.now() - lastChange >= settleMs;
    if ((missing.length === 0 && settled) || Date.now() > deadline) {
      const unreachable = collected.proxies.filter((p) => p.error !== undefined);
      if (missing.length > 0 && unreachable.length > 0)
        missing.push(`could not read ${unreachable.map((p) => `${p.proxy} (${p.error})`).join(', ')}`);
      return { collected, missing };
    }
    const said = missing.join('\n');
    if (said !== lastSaid && missing.length > 0) emit({ type: 'waiting', missing });
    lastSaid = said;
    await sleep(200, undefined, options.signal === undefined ? {} : { signal: options.signal });
  }
}
