/**
 * `npm run bench`: the in-process suites. Each suite prints its table and writes
 * `bench/results/<suite>.json` (format: ../shared/BENCHMARKS.md).
 */
import { Report } from './lib/results.js';

interface Suite {
  name: string;
  run(report: Report): Promise<void> | void;
}

const suites: Suite[] = [];
// Suites register themselves here as they land (balancers, registry, watch, rules, policies).

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const report = new Report('core');
  console.log(`Weft core benchmarks on ${process.version}\n`);
  for (const suite of suites) {
    if (only.length > 0 && !only.includes(suite.name)) continue;
    console.log(`${suite.name}`);
    await suite.run(report);
  }
  console.log(`\nwrote ${report.write()}`);
}

await main();
