#!/usr/bin/env node
// What a user gets from npm, checked on every push: packs each publishable workspace package
// (after `npm run build`), installs the tarballs into a fresh project outside the repository —
// without optional peer dependencies — and there:
//   - loads every entry point as ESM and as CommonJS on this Node.js (24 under `npm test`) and on
//     Node 22, plus each package's own checks (scripts/check-tarballs/load.mjs);
//   - on Node 20, older than the packages support: each entry loads or refuses with
//     WEFT_ERR_UNSUPPORTED_RUNTIME, never some other crash;
//   - type-checks a consumer (every entry point, and scripts/check-tarballs/consumer.ts) with
//     `skipLibCheck: false` under `module: nodenext` and under `moduleResolution: bundler`;
//   - runs publint (strict) and @arethetypeswrong/cli on each tarball.
// Set WEFT_KEEP_CONSUMER=1 to keep the consumer project for a look.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/**
 * Publishable packages that are NOT checked, each with why. Every other workspace package that is
 * not `private` is checked; take a package off this list as soon as it passes.
 */
const SKIP = new Map([]);

/** attw profile per package when not `strict` (which includes node10 resolution). None needed yet. */
const ATTW_PROFILE = new Map();

/** The packages scripts/check-tarballs/consumer.ts imports: it is type-checked when all are checked. */
const CONSUMER_IMPORTS = ['@weft/core', '@weft/proxy'];

const root = join(import.meta.dirname, '..');
const fixtures = join(import.meta.dirname, 'check-tarballs');
const started = Date.now();
const since = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;
const step = (text) => console.log(`• ${text} (${since()})`);

/** A failed step: its output is the report, no stack trace needed. */
class StepFailed extends Error {}

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...options });
  if (r.status !== 0)
    throw new StepFailed(
      `✗ ${[cmd, ...args].join(' ')}${options.cwd ? ` (in ${options.cwd})` : ''}: exit ${r.status ?? r.signal}\n${r.stdout ?? ''}${r.stderr ?? ''}`,
    );
  return r.stdout;
}

/** The checked packages, and every package to pack (the checked ones and their workspace dependencies). */
function selectPackages() {
  // npm's own view of the workspaces, so globs in `workspaces` and new packages need no change here.
  const workspace = new Map(
    JSON.parse(run('npm', ['query', '.workspace'], { cwd: root })).map((pkg) => [pkg.name, pkg]),
  );
  const publishable = [...workspace.keys()].filter((name) => !workspace.get(name).private);
  const checked = publishable.filter((name) => !SKIP.has(name));
  // A stale entry is only noise: the packages it names may change (renamed, made private) at will.
  for (const name of SKIP.keys())
    if (!publishable.includes(name)) console.warn(`note: SKIP lists ${name}, not a publishable workspace package`);
  const packed = new Set();
  const addWithDeps = (name) => {
    if (packed.has(name)) return;
    packed.add(name);
    for (const dep of Object.keys(workspace.get(name).dependencies ?? {})) if (workspace.has(dep)) addWithDeps(dep);
  };
  checked.forEach(addWithDeps);
  for (const name of packed) {
    const pkg = workspace.get(name);
    const main = pkg.exports?.[subpathsOf(pkg)[0]]?.import?.default;
    if (main === undefined || !existsSync(join(pkg.path, main)))
      throw new StepFailed(`✗ ${name} is not built (${main ?? 'no entry point'} missing): run \`npm run build\` first`);
  }
  return { workspace, checked, packed: [...packed] };
}

/** Entry points: the exports map's subpaths with import/require conditions (not patterns or files). */
function subpathsOf(pkg) {
  return Object.entries(pkg.exports ?? {})
    .filter(([subpath, target]) => typeof target === 'object' && target !== null && !subpath.includes('*'))
    .map(([subpath]) => subpath);
}

function pack(packages, into) {
  const args = ['pack', '--json', '--pack-destination', into, ...packages.flatMap((n) => ['-w', n])];
  const tarballs = new Map(JSON.parse(run('npm', args, { cwd: root })).map((t) => [t.name, t]));
  for (const [name, t] of tarballs)
    console.log(`  ${name}: ${t.entryCount} files, ${kb(t.size)} packed, ${kb(t.unpackedSize)} unpacked`);
  return new Map([...tarballs].map(([name, t]) => [name, join(into, t.filename)]));
}

function install(consumer, tarballs) {
  const devDeps = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).devDependencies;
  const manifest = {
    name: 'weft-consumer',
    private: true,
    type: 'module',
    dependencies: Object.fromEntries([...tarballs].map(([name, file]) => [name, `file:${file}`])),
    devDependencies: { typescript: devDeps.typescript, '@types/node': devDeps['@types/node'] },
  };
  writeFileSync(join(consumer, 'package.json'), JSON.stringify(manifest, null, 2));
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], { cwd: consumer });
}

function load(consumer, entries) {
  writeFileSync(join(consumer, 'checked.json'), JSON.stringify({ packages: entries }, null, 2));
  cpSync(join(fixtures, 'load.mjs'), join(consumer, 'load.mjs'));
  process.stdout.write(run(process.execPath, ['load.mjs'], { cwd: consumer }));
  process.stdout.write(run('npm', ['exec', '--yes', '--package=node@22', '--', 'node', 'load.mjs'], { cwd: consumer }));
  const [node20, ...args] = findNode(20);
  process.stdout.write(run(node20, [...args, 'load.mjs', '--unsupported-node'], { cwd: consumer }));
}

function typeCheck(consumer, entries) {
  const specs = entries.flatMap(({ name, subpaths }) =>
    subpaths.map((s) => (s === '.' ? name : `${name}/${s.slice(2)}`)),
  );
  const module = (line) =>
    `${specs.map((s, i) => line(`e${i}`, s)).join('\n')}\nexport const entries = [${specs.map((_, i) => `e${i}`).join(', ')}];\n`;
  writeFileSync(
    join(consumer, 'entries.ts'),
    module((id, s) => `import * as ${id} from '${s}';`),
  );
  writeFileSync(
    join(consumer, 'entries.cts'),
    module((id, s) => `import ${id} = require('${s}');`),
  );
  const extra = [];
  if (CONSUMER_IMPORTS.every((name) => entries.some((e) => e.name === name))) {
    cpSync(join(fixtures, 'consumer.ts'), join(consumer, 'consumer.ts'));
    extra.push('consumer.ts');
  }
  const strict = { strict: true, skipLibCheck: false, noEmit: true, target: 'es2023', types: ['node'] };
  const configs = {
    nodenext: { module: 'nodenext', moduleResolution: 'nodenext', files: ['entries.ts', 'entries.cts', ...extra] },
    bundler: { module: 'preserve', moduleResolution: 'bundler', files: ['entries.ts', ...extra] },
  };
  for (const [mode, { files, ...options }] of Object.entries(configs)) {
    const config = `tsconfig.${mode}.json`;
    writeFileSync(join(consumer, config), JSON.stringify({ compilerOptions: { ...strict, ...options }, files }));
    run(join(consumer, 'node_modules', '.bin', 'tsc'), ['-p', config], { cwd: consumer });
  }
  return `${specs.length} entry points${extra.length > 0 ? ' and consumer.ts' : ''}`;
}

function lint(checked, tarballs) {
  const bin = (name) => join(root, 'node_modules', '.bin', name);
  for (const name of checked) {
    const file = tarballs.get(name);
    run(bin('publint'), ['run', '--strict', file]);
    run(bin('attw'), [file, '--profile', ATTW_PROFILE.get(name) ?? 'strict', '--format', 'ascii']);
  }
}

function main() {
  const { workspace, checked, packed } = selectPackages();
  console.log(`checking ${checked.join(', ')}`);
  for (const [name, why] of SKIP) console.log(`skipping ${name}: ${why}`);
  const consumer = mkdtempSync(join(tmpdir(), 'weft-consumer-'));
  try {
    const tarballs = pack(packed, consumer);
    step('packed');
    install(consumer, tarballs);
    step(`installed into ${consumer}`);
    const entries = checked.map((name) => ({ name, subpaths: subpathsOf(workspace.get(name)) }));
    load(consumer, entries);
    step(`loaded on Node ${process.versions.node.split('.')[0]}, 22 and 20`);
    const what = typeCheck(consumer, entries);
    step(`type-checked ${what} (skipLibCheck false; nodenext, bundler)`);
    lint(checked, tarballs);
    step('publint and attw clean');
  } finally {
    if (process.env.WEFT_KEEP_CONSUMER === '1') console.log(`consumer project kept in ${consumer}`);
    else rmSync(consumer, { recursive: true, force: true });
  }
  console.log(`tarballs check out (${since()})`);
}

function kb(bytes) {
  return `${(bytes / 1024).toFixed(0)} kB`;
}

/**
 * A Node.js of the given major version: the first on PATH (CI machines have Node 20 as their
 * system Node), else one fetched the way `npm run test:node22` fetches Node 22.
 */
function findNode(major) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'node');
    if (!existsSync(candidate)) continue;
    try {
      const version = execFileSync(candidate, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim();
      if (version.split('.')[0] === String(major)) return [candidate];
    } catch {}
  }
  return ['npm', 'exec', '--yes', `--package=node@${major}`, '--', 'node'];
}

try {
  main();
} catch (err) {
  if (!(err instanceof StepFailed)) throw err;
  console.error(err.message);
  console.error('tarball check failed');
  process.exitCode = 1;
}
