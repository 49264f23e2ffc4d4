import { styleText } from 'node:util';
import type { RecipeReport } from '../../recipes/index.js';
import { formatMs } from '../../recipes/index.js';
import { renderTable } from './table.js';

const paint = (color: boolean, style: 'green' | 'red' | 'yellow', text: string): string =>
  color ? styleText(style, text, { validateStream: false }) : text;

/** The load in one line: `50 requests to <url> in 5.01s: 200 ×38, 503 ×12 · p50 12ms, p99 7.01s`. */
function describeLoad(report: RecipeReport): string | undefined {
  const load = report.load;
  if (load === undefined) return undefined;
  const statuses = Object.entries(load.statuses)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([status, n]) => `${status} ×${n}`)
    .join(', ');
  return `load: ${load.requests} requests to ${load.url} in ${formatMs(load.durationMs)}: ${statuses} · p50 ${formatMs(load.p50Ms)}, p99 ${formatMs(load.p99Ms)}, max ${formatMs(load.maxMs)}${load.late > 0 ? ` · ${load.late} sent late (--concurrency reached)` : ''}`;
}

/**
 * A run's report for people: one row per check (its verdict and why), then the faults, the
 * load, where the records came from, what is missing, and the cleanup.
 */
export function renderRecipeReport(report: RecipeReport, color: boolean): string {
  const rows = report.checks.map((c) => [
    c.name,
    c.subject,
    String(c.records),
    c.passed ? paint(color, 'green', 'PASS') : paint(color, 'red', 'FAIL'),
    c.message,
  ]);
  const failed = report.checks.filter((c) => !c.passed).length;
  const lines: string[] = [];
  lines.push(renderTable(['check', 'calls', 'records', 'result', 'detail'], rows, color).trimEnd());
  if (report.checks.length === 0) lines.push('(no checks)');
  lines.push('');
  for (const f of report.faults) lines.push(`fault: ${f}`);
  const load = describeLoad(report);
  if (load !== undefined) lines.push(load);
  const proxies = report.proxies
    .map(
      (p) =>
        `${p.service ?? p.proxy} ${p.error === undefined ? `${p.records}` : paint(color, 'red', `unreachable: ${p.error}`)}`,
    )
    .join(', ');
  lines.push(
    `records: ${report.records} from ${report.proxies.length} prox${report.proxies.length === 1 ? 'y' : 'ies'}${proxies === '' ? '' : ` (${proxies})`}`,
  );
  for (const m of report.missing) lines.push(paint(color, 'yellow', `missing: ${m}`));
  for (const n of report.notes) lines.push(`note: ${n}`);
  lines.push(
    `rules: ${report.rules.added} added, ${report.rules.left === 0 ? 'all removed' : paint(color, 'red', `${report.rules.left} left (weft rule-delete --tag ${report.runId})`)}`,
  );
  const verdict =
    report.checks.length === 0
      ? 'no checks'
      : failed === 0
        ? paint(color, 'green', `all ${report.checks.length} checks passed`)
        : paint(color, 'red', `${failed} of ${report.checks.length} checks failed`);
  lines.push(`recipe ${report.runId}: ${verdict} (${formatMs(report.durationMs)})`);
  return `${lines.join('\n')}\n`;
}
