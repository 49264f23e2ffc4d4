/**
 * Two builds of the sidecar side by side: CPU per request and req/s of build B ÷ build A, over
 * alternating wrk runs (A-B, B-A, …) in one run, so a change's cost is measured against the code
 * before it on the same machine at the same time. Each build is a checkout with its packages
 * built (`npm run build`); its own bench/proxy/sidecar.mjs is bundled with esbuild, as run.ts does.
 *
 *   npx tsx bench/proxy/sidecar-ab.ts <checkout A> <checkout B>   (default B: this checkout)
 *
 * Env: AB_PAIRS (default 10), AB_SECONDS per run (default 3), AB_CONNECTIONS (default 50).
 * Needs wrk (bench/proxy/install.sh) and taskset.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const PAIRS = Number(process.env.AB_PAIRS ?? 10);
const SECONDS = Number(process.env.AB_SECONDS ?? 3);
const CONNECTIONS = Number(process.env.AB_CONNECTIONS ?? 50);
const FLAGS = ['--max-semi-space-size=2', '--no-concurrent-recompilation'];
const LOAD_CPU = cpus().length > 1 ? '1' : '0';

function cpuUs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1e6) / 100;
}

function start(args: string[]): Promise<[ChildProcess, string]> {
  const child = spawn('taskset', args, { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((res, rej) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('ready'));
      if (line !== undefined) res([child, line]);
    });
    child.on('exit', (code) => rej(new Error(`exited ${code}: ${out}`)));
  });
}

function wrk(url: string, seconds: number): { rps: number; requests: number } {
  const out = execFileSync('taskset', ['-c', LOAD_CPU, 'wrk', '-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, url], {
    encoding: 'utf8',
  });
  const requests = Number(/(\d+) requests in/.exec(out)?.[1]);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  return { rps, requests };
}

async function main(): Promise<void> {
  const a = resolve(process.argv[2] ?? '');
  const b = resolve(process.argv[3] ?? join(here, '..', '..'));
  const dir = mkdtempSync(join(tmpdir(), 'weft-ab-'));
  const [upstream, up] = await start([
    '-c',
    LOAD_CPU,
    process.execPath,
    '--import',
    'tsx',
    join(here, 'upstream.ts'),
    '0',
  ]);
  const upstreamPort = up.split(' ')[1] as string;
  const sidecars: Array<{ name: string; child: ChildProcess; port: string; pid: number }> = [];
  try {
    for (const [name, root] of [
      ['A', a],
      ['B', b],
    ] as const) {
      const outfile = join(dir, `sidecar-${name}.mjs`);
      buildSync({
        entryPoints: [join(root, 'bench', 'proxy', 'sidecar.mjs')],
        absWorkingDir: root,
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node22',
        outfile,
        logLevel: 'error',
        banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
      });
      const [child, line] = await start(['-c', '0', process.execPath, ...FLAGS, outfile, upstreamPort]);
      const [, port, pid] = line.split(' ');
      sidecars.push({ name, child, port: port as string, pid: Number(pid) });
    }
    for (const s of sidecars) wrk(`http://127.0.0.1:${s.port}/reviews/`, 2); // warm-up
    const ratios: { cpu: number[]; rps: number[] } = { cpu: [], rps: [] };
    for (let i = 0; i < PAIRS; i++) {
      const order = i % 2 === 0 ? sidecars : [...sidecars].reverse();
      const got: Record<string, { cpu: number; rps: number }> = {};
      for (const s of order) {
        const c0 = cpuUs(s.pid);
        const w = wrk(`http://127.0.0.1:${s.port}/reviews/`, SECONDS);
        got[s.name] = { cpu: (cpuUs(s.pid) - c0) / w.requests, rps: w.rps };
      }
      const A = got.A as { cpu: number; rps: number };
      const B = got.B as { cpu: number; rps: number };
      ratios.cpu.push(B.cpu / A.cpu);
      ratios.rps.push(B.rps / A.rps);
      console.log(
        `pair ${i + 1}: A ${A.cpu.toFixed(2)} µs/req ${Math.round(A.rps)} req/s; B ${B.cpu.toFixed(2)} µs/req ${Math.round(B.rps)} req/s`,
      );
    }
    const median = (xs: number[]): number => {
      const s = [...xs].sort((x, y) => x - y);
      const m = s.length >> 1;
      return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
    };
    console.log(
      `B ÷ A over ${PAIRS} pairs (median): CPU per request ${median(ratios.cpu).toFixed(3)}, req/s ${median(ratios.rps).toFixed(3)}`,
    );
    console.log(`  CPU ratios: ${ratios.cpu.map((r) => r.toFixed(3)).join(' ')}`);
  } finally {
    for (const s of sidecars) s.child.kill('SIGKILL');
    upstream.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
