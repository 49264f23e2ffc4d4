import { spawn } from 'node:child_process';
import { isAbsolute, resolve } from 'node:path';
import { InvalidArgumentError } from '@weft/core';
import { parseDuration } from '../../config/duration.js';
import {
  controlPlaneAccessLogSource,
  type LoadSpec,
  newRunId,
  RecipeInterruptedError,
  type RecipeReport,
  type RecipeRulesApi,
  readRecipeFile,
  runRecipe,
} from '../../recipes/index.js';
import type { Command } from '../command.js';
import { type OpContext, opCommand } from './command.js';
import { listFlag, OUTPUT_FLAGS, stringFlag } from './common-flags.js';
import { EXIT, OpsError, UsageError } from './errors.js';
import type { FlagSpec } from './flags.js';
import { outputFormat, serialize } from './output.js';
import { ProgressBar } from './recipe-progress.js';
import { renderRecipeReport } from './recipe-report.js';
import { listInstances } from './versions.js';

/**
 * A check failed: exit 5, the code the CLI gives a run its own thresholds judged a failure
 * (`traffic-step --watch` aborting a canary), distinct from errors (1) and bad input (2).
 */
export const CHECKS_FAILED = EXIT.aborted;

const FLAGS: readonly FlagSpec[] = [
  {
    name: 'topology',
    short: 't',
    type: 'string',
    placeholder: '<file>',
    description: 'The application’s topology: services and who calls whom (JSON or YAML; required)',
  },
  {
    name: 'scenarios',
    short: 's',
    type: 'string',
    placeholder: '<file>',
    description: 'The failures to inject: {"gremlins": [...]} (JSON or YAML; required)',
  },
  {
    name: 'checks',
    short: 'c',
    type: 'string',
    placeholder: '<file>',
    description: 'What must hold meanwhile: {"checks": [...]} (JSON or YAML; required)',
  },
  {
    name: 'load-url',
    type: 'string',
    placeholder: '<url>',
    description:
      'Send the load to this URL: the entry of the application, e.g. the gateway’s http://127.0.0.1:6379/productpage/',
  },
  { name: 'rate', type: 'string', placeholder: '<n>', description: 'Requests per second (default 10)' },
  {
    name: 'duration',
    type: 'string',
    placeholder: '<duration>',
    description: 'How long to send the load (default 5s)',
  },
  {
    name: 'concurrency',
    type: 'string',
    placeholder: '<n>',
    description: 'At most this many requests in flight (default 10)',
  },
  {
    name: 'request-timeout',
    type: 'string',
    placeholder: '<duration>',
    description: 'Give up on a request of the load after this long (default 30s)',
  },
  {
    name: 'load-header',
    type: 'string',
    multiple: true,
    placeholder: '<Name: value>',
    description: "A header every request of the load carries, e.g. 'Cookie: user=jason' for the rules that route on it",
  },
  {
    name: 'run-load-script',
    type: 'string',
    placeholder: '<command>',
    description:
      'Send the load with this command instead (a8ctl); it gets WEFT_RECIPE_ID and WEFT_RECIPE_HEADER and must send the header with a value starting with the run id',
  },
  {
    name: 'proxy',
    type: 'string',
    multiple: true,
    placeholder: '<admin url>',
    description:
      'A sidecar’s (or gateway’s) admin URL to read access-log records from, e.g. http://127.0.0.1:8082; every proxy on the way (the topology’s service_proxies are added)',
  },
  {
    name: 'records',
    type: 'string',
    placeholder: '<from>',
    description:
      'Where the access-log records are read: control-plane (what the sidecars stream to it), proxies (each --proxy’s admin listener), or auto (default: the control plane unless --proxy or service_proxies name the proxies)',
  },
  {
    name: 'header',
    type: 'string',
    placeholder: '<name>',
    description:
      'The header that scopes the run’s faults: only requests whose value starts with the run id are affected (default X-Request-ID, which the proxies log and apps forward)',
  },
  {
    name: 'wait',
    type: 'string',
    placeholder: '<duration>',
    description: 'How long to wait for the records the checks need after the load (default 30s)',
  },
  {
    name: 'settle',
    type: 'string',
    placeholder: '<duration>',
    description: 'Records must stop coming for this long before the checks are judged (default 1s)',
  },
  {
    name: 'responses-as-requests',
    type: 'boolean',
    description:
      'Compile delay_responses and abort_responses as request faults, as a8ctl did (Weft cannot fault a response)',
  },
  {
    name: 'priority',
    type: 'string',
    placeholder: '<integer>',
    description: 'The priority of the run’s rules (default 1000: above the application’s own action rules)',
  },
  {
    name: 'run-id',
    type: 'string',
    placeholder: '<id>',
    description: 'The run’s id (default recipe-<12 hex>): tags its rules and prefixes its request ids',
  },
  // a8ctl's --pattern narrowed the requests its rules touched; the run id does that here.
  { name: 'pattern', type: 'string', description: '', hidden: true },
  ...OUTPUT_FLAGS,
];

function positive(values: Readonly<Record<string, unknown>>, name: string, fallback: number, integer: boolean): number {
  const text = stringFlag(values, name);
  if (text === undefined) return fallback;
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n <= 0 || (integer && !Number.isSafeInteger(n)))
    throw new UsageError(`--${name} takes a ${integer ? 'whole ' : ''}number above 0 (got '${text}')`);
  return n;
}

function duration(values: Readonly<Record<string, unknown>>, name: string, fallback: number): number {
  const text = stringFlag(values, name);
  if (text === undefined) return fallback;
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0)
    throw new UsageError(`--${name} takes a duration with a unit: 500ms, 30s, 1m (got '${text}')`);
  return ms;
}

/** `--load-header 'Cookie: user=jason'`, each `Name: value`. */
function loadHeaders(texts: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const text of texts) {
    const colon = text.indexOf(':');
    if (colon <= 0) throw new UsageError(`--load-header must be 'Name: value' (got '${text}')`);
    headers[text.slice(0, colon).trim().toLowerCase()] = text.slice(colon + 1).trim();
  }
  return headers;
}

/** An invalid recipe file: every issue on its own line, each naming the field. */
function recipeUsageError(err: InvalidArgumentError): UsageError {
  const heading = err.message.split(':')[0] ?? err.message;
  return new UsageError(
    `${heading}:\n${err.issues.map((i) => `  ${i.path === '' ? '' : `${i.path}: `}${i.message}`).join('\n')}`,
  );
}

/** The controller, through the CLI's client (its failover, credentials and messages). */
function rulesApi(op: OpContext): RecipeRulesApi {
  return {
    async add(rules) {
      const answer = await op.controller.request('POST', '/v1/rules', { body: { rules } });
      const ids = (answer.body as { ids?: unknown } | undefined)?.ids;
      return { ids: Array.isArray(ids) ? ids.map(String) : [], revision: answer.revision };
    },
    async removeTagged(tag) {
      await op.controller.request('DELETE', '/v1/rules', { query: { tag }, accept: [404] });
    },
    async listTagged(tag) {
      const answer = await op.controller.get('/v1/rules', { query: { tag } });
      const rules = (answer.body as { rules?: unknown } | undefined)?.rules;
      return Array.isArray(rules) ? rules : [];
    },
  };
}

/** a8ctl's --run-load-script: a shell command, the run id and header in its environment. */
function loadScript(op: OpContext, command: string): (runId: string, header: string) => Promise<void> {
  return (runId, header) =>
    new Promise((done, fail) => {
      op.note(`sending the load with: ${command}`);
      const child = spawn(command, {
        shell: true,
        cwd: op.cli.cwd,
        env: { ...op.cli.env, WEFT_RECIPE_ID: runId, WEFT_RECIPE_HEADER: header },
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      child.on('error', (err) => fail(new OpsError(`--run-load-script failed to start: ${err.message}`, EXIT.runtime)));
      child.on('close', (code, signal) =>
        code === 0
          ? done()
          : fail(new OpsError(`--run-load-script exited with ${signal ?? code}: no checks were judged`, EXIT.runtime)),
      );
    });
}

/** `weft recipe-run`: a Gremlin resilience recipe against the running mesh. */
export const recipeRunCommand: Command = opCommand({
  name: 'recipe-run',
  summary: 'run a resilience recipe: inject faults, send load, check the proxies’ logs (a8ctl)',
  usage:
    '-t <topology> -s <scenarios> -c <checks> (--load-url <url> | --run-load-script <command>) [--proxy <admin url>…]',
  description: [
    "Runs an Amalgam8/Gremlin recipe, its files unchanged (JSON, or the same in YAML). The scenarios become action rules tagged with the run's id and matching only requests whose header (--header, default X-Request-ID) starts with that id, so only the test's requests are affected; omitted sources and destinations expand over the topology. Every other edge of the topology gets a trace rule, so its calls are logged for the run too.",
    "Then the load goes to --load-url (--rate, --duration, --concurrency; a progress bar on a terminal), each request with X-Request-ID <run id>-<n>. The checks are judged on the proxies' own access-log records of the run, read from the control plane the sidecars stream them to, or from each sidecar's admin listener when --proxy names them (--records): the checker waits until every request has its record at the entry, every check has records, and no new one has come for --settle, up to --wait — then it says exactly which are missing.",
    'Every rule the run added is removed at the end, also when a check fails, the run fails, or Ctrl-C interrupts it (a second Ctrl-C leaves at once: then remove them with weft rule-delete --tag <run id>). Exit 0 when every check passed, 5 when one failed, 2 for an invalid recipe, 1 when the run could not be made, 130 when interrupted.',
  ],
  examples: [
    [
      'weft recipe-run -t topology.json -s gremlins.json -c checks.json --load-url http://127.0.0.1:6379/productpage/',
      'bookinfo: the 7 s delay and its checks, over the records the sidecars stream to the control plane',
    ],
    [
      'weft recipe-run -t topology.json -s gremlins.json -c checks.json --load-url http://127.0.0.1:6379/productpage/ --proxy http://127.0.0.1:8082 --proxy http://127.0.0.1:8083',
      'the same, reading each sidecar’s admin listener',
    ],
    [
      'weft recipe-run -t t.yaml -s s.yaml -c c.yaml --load-url http://gw:6379/web/ --proxy http://gw:8082 -o json',
      'the verdicts as JSON, for CI',
    ],
  ],
  flags: FLAGS,
  remote: true,
  async run(op) {
    if (op.args.positionals.length > 0) throw new UsageError(`unexpected argument '${op.args.positionals[0]}'`);
    const v = op.args.values;
    const format = outputFormat(v, 'table');
    if (stringFlag(v, 'pattern') !== undefined)
      op.note("note: --pattern is ignored: the run's rules match requests whose header starts with the run id");
    const file = (name: 'topology' | 'scenarios' | 'checks'): string => {
      const path = stringFlag(v, name);
      if (path === undefined) throw new UsageError(`--${name} <file> is required`);
      return isAbsolute(path) ? path : resolve(op.cli.cwd, path);
    };
    const paths = { topology: file('topology'), scenarios: file('scenarios'), checks: file('checks') };
    const loadUrl = stringFlag(v, 'load-url');
    const script = stringFlag(v, 'run-load-script');
    if (loadUrl === undefined && script === undefined)
      throw new UsageError('give --load-url <url> (the entry of the application) or --run-load-script <command>');
    if (loadUrl !== undefined && script !== undefined)
      throw new UsageError('give --load-url or --run-load-script, not both');
    if (loadUrl !== undefined && !URL.canParse(loadUrl))
      throw new UsageError(`--load-url takes a URL (got '${loadUrl}')`);
    const proxies = listFlag(v, 'proxy');
    for (const p of proxies)
      if (!URL.canParse(/^[a-z]+:\/\//i.test(p) ? p : `http://${p}`))
        throw new UsageError(`--proxy takes a URL (got '${p}')`);
    const priorityText = stringFlag(v, 'priority');
    const priority = priorityText === undefined ? undefined : Number(priorityText);
    if (priority !== undefined && !Number.isSafeInteger(priority))
      throw new UsageError(`--priority must be an integer (got '${priorityText}')`);
    const load: LoadSpec | undefined =
      loadUrl === undefined
        ? undefined
        : {
            url: loadUrl,
            rate: positive(v, 'rate', 10, false),
            durationMs: duration(v, 'duration', 5000),
            concurrency: positive(v, 'concurrency', 10, true),
            timeoutMs: duration(v, 'request-timeout', 30_000),
            headers: loadHeaders(listFlag(v, 'load-header')),
          };

    let recipe: Awaited<ReturnType<typeof readRecipe>>;
    try {
      recipe = await readRecipe(paths);
    } catch (err) {
      if (err instanceof InvalidArgumentError) throw recipeUsageError(err);
      throw err;
    }
    const instances = await listInstances(op.registry);
    const fromControlPlane = readsControlPlane(stringFlag(v, 'records'), proxies, recipe.topology);
    if (fromControlPlane) {
      op.note(`reading the access-log records the proxies stream to the control plane (${op.controller.url})`);
      // Its records are every proxy's: reading the proxies too would count each call twice.
      recipe = {
        ...recipe,
        topology: { ...recipe.topology, services: recipe.topology.services.map(({ service_proxies: _, ...s }) => s) },
      };
    }

    const interrupt = new AbortController();
    let interrupts = 0;
    const runId = stringFlag(v, 'run-id') ?? newRunId();
    const removeHandler = op.cli.onSignal(() => {
      interrupts++;
      if (interrupts === 1) {
        op.note(
          `\ninterrupted: removing the run's rules (Ctrl-C again to leave now, then weft rule-delete --tag ${runId})`,
        );
        interrupt.abort();
      } else process.exit(EXIT.interrupted);
    });
    const bar = new ProgressBar(process.stderr);
    let waited = false;
    try {
      const report = await runRecipe(recipe, {
        rules: rulesApi(op),
        proxies: fromControlPlane
          ? [
              controlPlaneAccessLogSource(
                `control plane ${op.controller.url}`,
                async (path, query) => (await op.controller.get(path, { query })).body,
              ),
            ]
          : proxies,
        instances,
        header: stringFlag(v, 'header') ?? 'X-Request-ID',
        waitMs: duration(v, 'wait', 30_000),
        settleMs: duration(v, 'settle', 1000),
        responsesAsRequests: v['responses-as-requests'] === true,
        signal: interrupt.signal,
        ...(load === undefined ? {} : { load }),
        ...(script === undefined ? {} : { sendLoad: loadScript(op, script) }),
        ...(priority === undefined ? {} : { priority }),
        runId,
        onEvent(event) {
          switch (event.type) {
            case 'compiled':
              for (const n of event.compiled.notes) op.note(`note: ${n}`);
              return;
            case 'rules-added':
              return;
            case 'rules-propagated':
              if (event.behind.length > 0)
                op.note(`these proxies still run older rules: ${event.behind.join(', ')}; going on`);
              return;
            case 'load-progress':
              bar.update(event.progress);
              return;
            case 'load-done':
              bar.done();
              return;
            case 'waiting':
              // Once, and only for a person watching: a CI log gets the verdicts, not the wait.
              if (!waited && process.stderr.isTTY === true)
                op.note(
                  `waiting for the proxies' records (up to ${stringFlag(v, 'wait') ?? '30s'}): ${event.missing[0]}`,
                );
              waited = true;
              return;
            case 'rules-removed':
              return;
          }
        },
      });
      await publishRun(op, report);
      if (format === 'table') op.out(renderRecipeReport(report, op.color));
      else op.out(await serialize(report, format));
      return report.passed ? EXIT.ok : CHECKS_FAILED;
    } catch (err) {
      bar.done();
      if (err instanceof RecipeInterruptedError) {
        op.note(err.message);
        return EXIT.interrupted;
      }
      if (err instanceof InvalidArgumentError) throw recipeUsageError(err);
      throw err;
    } finally {
      removeHandler();
    }
  },
});

/**
 * Whether the run reads the records the proxies stream to the control plane: `--records
 * control-plane`, or `auto` when no proxy is named (`--proxy`, the topology's `service_proxies`).
 */
function readsControlPlane(
  mode: string | undefined,
  proxies: readonly string[],
  topology: { readonly services: readonly { readonly service_proxies?: readonly string[] | undefined }[] },
): boolean {
  if (mode !== undefined && !['auto', 'control-plane', 'proxies'].includes(mode))
    throw new UsageError(`--records takes auto, control-plane or proxies (got '${mode}')`);
  if (mode === 'control-plane') return true;
  if (mode === 'proxies') return false;
  return proxies.length === 0 && topology.services.every((s) => (s.service_proxies ?? []).length === 0);
}

/** Posts the report to the control plane's recent runs (the dashboard lists them); a failure is only a note. */
async function publishRun(op: OpContext, report: RecipeReport): Promise<void> {
  try {
    const answer = await op.controller.request('POST', '/v1/recipes/runs', { body: report, accept: [404, 405] });
    if (answer.status >= 400) op.note('note: the controller keeps no recipe runs (no /v1/recipes/runs): not published');
  } catch (err) {
    op.note(`note: publishing the run to the controller failed: ${(err as Error).message}`);
  }
}

/** Reads the three files; the scenarios' name is kept for compile errors. */
async function readRecipe(paths: { topology: string; scenarios: string; checks: string }) {
  const [topology, scenarios, checks] = await Promise.all([
    readRecipeFile('topology', paths.topology),
    readRecipeFile('scenarios', paths.scenarios),
    readRecipeFile('checks', paths.checks),
  ]);
  return {
    topology,
    scenarios,
    checks,
    scenariosWhere: `scenarios file ${paths.scenarios}`,
  };
}
