import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One figure, in the format of BENCHMARKS.md. Extra fields (baseline, samples, p50…) are welcome. */
export interface BenchResult {
  /** Stable dotted name, e.g. `pick_ns.round_robin.1000`. */
  name: string;
  value: number;
  unit: string;
  /** The target from BENCHMARKS.md / the issue, as text (`<= 50`), when there is one. */
  target?: string;
  [extra: string]: unknown;
}

/** Collects a suite's results, prints them as a table and writes `bench/results/<suite>.json`. */
export class Report {
  readonly results: BenchResult[] = [];
  constructor(readonly suite: string) {}

  add(result: BenchResult): void {
    this.results.push(result);
    const target = result.target ? `  (target ${result.target}${meets(result) ? ', met' : ', NOT met'})` : '';
    console.log(`  ${result.name.padEnd(44)} ${format(result.value).padStart(14)} ${result.unit}${target}`);
  }

  /** Writes `bench/results/<suite>.json` and returns its path. */
  write(): string {
    const here = dirname(fileURLToPath(import.meta.url));
    const file = join(here, '..', 'results', `${this.suite}.json`);
    mkdirSync(dirname(file), { recursive: true });
    const cpu = cpus()[0];
    const body = {
      suite: this.suite,
      date: new Date().toISOString(),
      machine: {
        node: process.version,
        cpus: cpus().length,
        model: cpu?.model ?? 'unknown',
        platform: process.platform,
      },
      results: this.results,
    };
    writeFileSync(file, `${JSON.stringify(body, null, 2)}\n`);
    return file;
  }
}

function format(v: number): string {
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
  return v.toFixed(v >= 100 ? 1 : 2);
}

/** Whether a result meets a `<= n` / `>= n` target. */
export function meets(result: BenchResult): boolean {
  const m = /^(<=|>=)\s*([\d.]+)/.exec(result.target ?? '');
  if (!m) return true;
  const bound = Number(m[2]);
  return m[1] === '<=' ? result.value <= bound : result.value >= bound;
}
