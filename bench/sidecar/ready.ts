/**
 * `npx tsx bench/sidecar/ready.ts [--runs 15]`: how fast `weft sidecar` is ready, and its idle
 * memory, as a container would run it. Two programs, started alternately so the shared machine's
 * drift hits both alike:
 * - the single-file bundle, packages/servers/dist/weft.bundle.mjs (`node weft.bundle.mjs sidecar`);
 * - the installed dist, packages/servers/dist/cli.js, loading @weft/* from their dist/ and the
 *   dependencies from node_modules, as after `npm install @weft/servers`.
 * Ready is spawn → the "listening on" line (the proxy listens; printed after the admin listener
 * too); `--no-register`, and a registry that refuses connections, so nothing waits on the
 * network. Idle RSS is read from /proc one second after ready. Needs `npm run build` first.
 * Writes bench/results/sidecar.json.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Report } from '../lib/results.js';

const servers = join(import.meta.dirname, '..', '..', 'packages', 'servers');
const programs = {
  bundle: join(servers, 'dist', 'weft.bundle.mjs'),
  dist: join(servers, 'dist', 'cli.js'),
} as const;
type Program = keyof typeof programs;

const { values } = parseArgs({ options: { runs: { type: 'string', default: '15' } } });
const runs = Number(values.runs);

for (const [name, file] of Object.entries(programs))
  if (!existsSync(file)) {
    console.error(`${file} is missing (the ${name}): run \`npm run build\` first`);
    process.exit(1);
  }

interface Start {
  readyMs: number;
  idleRssMb: number;
}

/** Resident set size of a process, from /proc (Linux), in MiB. */
function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? Number.NaN : Number(m[1]) / 1024;
}

/** One start of the sidecar: spawn → "listening on", then idle RSS, then SIGTERM and wait. */
async function startOnce(program: Program): Promise<Start> {
  const t0 = performance.now();
  const child = spawn(
    process.execPath,
    [
      programs[program],
      'sidecar',
      '--no-register',
      '--proxy-port',
      '0',
      '--admin-port',
      '0',
      // Port 1 refuses at once: the proxy starts without a control plane, as it must.
      '--registry-url',
      'http://127.0.0.1:1',
      '--log-level',
      'error',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NODE_NO_WARNINGS: '1' } },
  );
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  let stderr = '';
  const readyMs = await new Promise<number>((resolve, reject) => {
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (stderr.includes('listening on')) resolve(performance.now() - t0);
    });
    child.on('close', (code) => reject(new Error(`${program} exited (${code}) before ready:\n${stderr}`)));
  });
  await new Promise((r) => setTimeout(r, 1000));
  const idleRssMb = rssMb(child.pid as number);
  child.kill('SIGTERM');
  await exited;
  return { readyMs, idleRssMb };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1] ?? Number.NaN;
};
const round = (x: number): number => Math.round(x * 10) / 10;

console.log(`weft sidecar start-up on ${process.version}, median of ${runs} starts each`);
const samples: Record<Program, Start[]> = { bundle: [], dist: [] };
// One untimed start each: the first start after a build pays for a cold page cache.
await startOnce('bundle');
await startOnce('dist');
for (let i = 0; i < runs; i++)
  for (const program of i % 2 === 0 ? (['bundle', 'dist'] as const) : (['dist', 'bundle'] as const))
    samples[program].push(await startOnce(program));

const report = new Report('sidecar');
for (const program of ['bundle', 'dist'] as const) {
  const ready = samples[program].map((s) => s.readyMs);
  const rss = samples[program].map((s) => s.idleRssMb);
  const suffix = program === 'bundle' ? '' : '.dist';
  report.add({
    name: `sidecar.ready_ms${suffix}`,
    value: round(median(ready)),
    unit: 'ms',
    // The target is for what a container ships: the bundle.
    ...(program === 'bundle' ? { target: '<= 300' } : {}),
    program: program === 'bundle' ? 'dist/weft.bundle.mjs' : 'dist/cli.js (installed dist)',
    runs,
    min: round(Math.min(...ready)),
    max: round(Math.max(...ready)),
    samples: ready.map(round),
  });
  report.add({
    name: `sidecar.idle_rss_mb${suffix}`,
    value: round(median(rss)),
    unit: 'MiB',
    program: program === 'bundle' ? 'dist/weft.bundle.mjs' : 'dist/cli.js (installed dist)',
    runs,
  });
}
console.log(`  → ${report.write()}`);
