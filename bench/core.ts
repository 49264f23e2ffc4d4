/**
 * `npm run bench`: the in-process suites. Each suite prints its table and writes
 * `bench/results/<suite>.json` (format: ../shared/BENCHMARKS.md). `npm run bench -- rules policies`
 * runs only the named suites.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Report } from './lib/results.js';

/** A suite is a file in `bench/suites/` that exports `suite`. Order: file name. */
export interface Suite {
  name: string;
  run(report: Report): Promise<void> | void;
}

async function loadSuites(): Promise<Suite[]> {
  const dir = join(dirname(fileURLToPath(import.meta.url)), 'suites');
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.ts'))
    .sort();
  const suites: Suite[] = [];
  for (const f of files) {
    const mod = (await import(pathToFileURL(join(dir, f)).href)) as { suite?: Suite };
    if (mod.suite) suites.push(mod.suite);
  }
  return suites;
}

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  console.log(`Weft benchmarks on ${process.version}\n`);
  // One results file per suite, so running one suite never touches another's figures.
  for (const suite of await loadSuites()) {
    if (only.length > 0 && !only.includes(suite.name)) continue;
    console.log(`${suite.name}`);
    const report = new Report(suite.name);
    await suite.run(report);
    console.log(`  → ${report.write()}\n`);
  }
}

await main();
