#!/usr/bin/env node
// `npm test`: everything CI checks, in the order that fails fastest. Runs under the Node 24 that
// the `node` devDependency puts first on PATH inside npm scripts; the suite then runs again on
// Node 22 (the oldest supported line), fetched the same way.
import { spawnSync } from 'node:child_process';

const steps = [
  ['lint', 'npx', ['biome', 'ci', '.']],
  ['typecheck', 'npm', ['run', '-s', 'typecheck']],
  ['json schemas are current', 'npm', ['run', '-s', 'schemas:check']],
  ['build (ESM + CJS + d.ts)', 'npm', ['run', '-s', 'build']],
  ['packages load as ESM and CJS', 'node', ['scripts/check-packages.mjs']],
  ['tarballs install and work in a fresh project', 'node', ['scripts/check-tarballs.mjs']],
  ['README snippets compile', 'node', ['scripts/check-snippets.mjs']],
  ['api docs (no warnings)', 'npm', ['run', '-s', 'docs']],
  ['api docs in a browser', 'node', ['scripts/check-api-docs-browser.mjs']],
  [`tests on Node ${process.versions.node}`, 'npm', ['run', '-s', 'test:unit']],
  ['tests on Node 22', 'npm', ['run', '-s', 'test:node22']],
];

const only = process.env.WEFT_TEST_STEPS?.split(',');
for (const [name, cmd, args] of steps) {
  if (only && !only.some((o) => name.startsWith(o))) continue;
  const started = Date.now();
  console.log(`\n▶ ${name}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  if (r.status !== 0) {
    console.error(`\n✗ ${name} failed after ${secs}s`);
    process.exit(r.status ?? 1);
  }
  console.log(`✓ ${name} (${secs}s)`);
}
console.log('\nall checks passed');
