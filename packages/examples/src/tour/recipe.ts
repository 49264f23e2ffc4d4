/**
 * The tour's resilience recipe, Gremlin's way: ratings "crashes" for the recipe's requests only
 * (`crash_service`: every call to it reset), and the checks say whether bookinfo degrades
 * gracefully — reviews v3 still answers productpage, and the page is not held up. Run with
 * `runRecipe`, the library behind `weft recipe-run`, over the proxies' own access-log records:
 * the Node services on MeshAgent serve theirs at `/debug/access-log` (`serveAccessLog`), the
 * gateway's are read in this process.
 */
import { formatMs, httpRulesApi, parseRecipePart, type RecipeInstance, runRecipe } from '@weft/servers';
import { say } from '../mesh/script.js';
import type { NodeBookinfo } from './node-bookinfo.js';

const topology = parseRecipePart('topology', {
  services: [
    { name: 'gateway:version=none' },
    { name: 'productpage:version=v1' },
    { name: 'details:version=v1' },
    { name: 'reviews:version=v3' },
    { name: 'ratings:version=v1' },
  ],
  dependencies: {
    'gateway:version=none': ['productpage:version=v1'],
    'productpage:version=v1': ['details:version=v1', 'reviews:version=v3'],
    'reviews:version=v3': ['ratings:version=v1'],
  },
});
const scenarios = parseRecipePart('scenarios', {
  gremlins: [{ scenario: 'crash_service', dest: 'ratings:version=v1' }],
});
const checks = parseRecipePart('checks', {
  checks: [
    // The fault is in place: no call from reviews v3 to ratings gets an answer (0: reset)…
    { name: 'http_status', source: 'reviews:version=v3', dest: 'ratings:version=v1', status: 0 },
    // …yet reviews v3 answers productpage…
    { name: 'http_status', source: 'productpage:version=v1', dest: 'reviews:version=v3', status: 200 },
    // …and the page does not wait for a timeout to find out.
    { name: 'bounded_response_time', source: 'gateway:none', dest: 'productpage:version=v1', max_latency: '1s' },
  ],
});

/** The recipe as a person reads it. */
export const TOUR_RECIPE_TEXT = [
  'topology:  gateway → productpage:v1 → details:v1, reviews:v3 → ratings:v1',
  'scenario:  crash_service ratings:v1   (every call to it reset, for the recipe’s requests only)',
  'checks:    http_status reviews:v3 → ratings:v1 = 0 (no answer: the fault);  http_status productpage:v1 → reviews:v3 = 200;',
  '           bounded_response_time gateway → productpage:v1 ≤ 1s',
  'load:      10 page loads in half a second, as user jason (routed to reviews v3)',
];

/**
 * Runs the recipe against the tour's bookinfo (jason routed to reviews v3) and prints its verdicts,
 * one line each. Resolves with whether every check passed; the recipe's rules are removed either way.
 */
export async function runTourRecipe(controlPlane: string, bookinfo: NodeBookinfo): Promise<boolean> {
  const res = await fetch(`${controlPlane}/api/v1/instances`);
  const { instances } = (await res.json()) as { instances: RecipeInstance[] };
  const report = await runRecipe(
    { topology, scenarios, checks },
    {
      rules: httpRulesApi({ url: controlPlane }),
      proxies: bookinfo.accessLogs,
      instances,
      load: {
        url: bookinfo.productApi,
        rate: 20,
        durationMs: 500,
        concurrency: 5,
        timeoutMs: 10_000,
        headers: { Cookie: 'user=jason' },
      },
      // Every record is in memory already: no need to wait long for stragglers.
      settleMs: 200,
      waitMs: 10_000,
    },
  );
  for (const f of report.faults) say(`   fault: ${f}`);
  if (report.load !== undefined) {
    const statuses = Object.entries(report.load.statuses)
      .map(([status, n]) => `${status} ×${n}`)
      .join(', ');
    say(
      `   load: ${report.load.requests} pages, ${statuses}, p99 ${formatMs(report.load.p99Ms)}   (request ids ${report.runId}-<n>)`,
    );
  }
  for (const c of report.checks)
    say(`   ${c.passed ? 'PASS' : 'FAIL'}  ${`${c.name} ${c.subject}`.padEnd(58)} ${c.records} calls: ${c.message}`);
  for (const m of report.missing) say(`   missing: ${m}`);
  say(
    `   records: ${report.records} from ${report.proxies.map((p) => `${p.service ?? p.proxy} ${p.records}`).join(', ')}`,
  );
  say(
    `   recipe ${report.runId}: ${report.passed ? 'every check passed' : 'a check failed'}; its ${report.rules.added} rules ${report.rules.left === 0 ? 'removed' : `NOT removed (${report.rules.left} left)`} (${formatMs(report.durationMs)})`,
  );
  return report.passed;
}
