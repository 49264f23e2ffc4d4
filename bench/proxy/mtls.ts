/**
 * `proxy.mtls_vs_plain_cpu_ratio`: what mTLS between proxies costs the calling sidecar. Two
 * sidecar processes of the same bundle, pinned to CPU 0 — one reaching the upstream in plaintext,
 * one over mTLS (its endpoint announces `weft_mtls`; the upstream requires a client certificate)
 * — loaded in turn by wrk (-c50, keep-alive on both legs) in adjacent pairs of alternating order;
 * the figure is the median over pairs of the mTLS sidecar's CPU per request ÷ the plain one's.
 * The upstream and wrk share CPU 1. The upstream is nginx (one worker; a plain listener and an
 * mTLS one with `ssl_verify_client on`) when installed: TLS termination costs it little, so both
 * sidecars run at the rate they can carry, and CPU per request compares like with like (behind
 * node:https, mtls-upstream.mjs, the fallback, the mTLS side is held to the upstream's lower rate,
 * and a sidecar that waits spends more CPU per request on event-loop turns).
 *
 *   npx tsx bench/proxy/mtls.ts     (alone: prints, writes bench/results/proxy-mtls.json)
 *
 * run.ts runs it too (into bench/results/proxy.json). Env: BENCH_MTLS_PAIRS (default 10),
 * BENCH_MTLS_SECONDS per run (default 3), BENCH_MTLS_DELAY_MS (default 5, see DELAY_MS). Needs wrk (bench/proxy/install.sh) and taskset.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import { testCa } from '../../test/proxy/test-certificates.js';
import { Report } from '../lib/results.js';

const here = dirname(fileURLToPath(import.meta.url));
const PAIRS = Number(process.env.BENCH_MTLS_PAIRS ?? 10);
const SECONDS = Number(process.env.BENCH_MTLS_SECONDS ?? 3);
const CONNECTIONS = 50;
/**
 * Each wrk connection waits this long between requests (wrk's Lua `delay()`), so both sidecars
 * carry the same request rate (~CONNECTIONS / delay): CPU per request depends on the rate (at a
 * lower one, each event-loop turn serves fewer requests), and unthrottled, the mTLS run is held
 * lower by the TLS work of the upstream sharing the load generator's core. 0 for no pause.
 */
const DELAY_MS = Number(process.env.BENCH_MTLS_DELAY_MS ?? 5);
const PROXY_CPU = '0';
const LOAD_CPU = cpus().length > 1 ? '1' : '0';
const FLAGS = ['--max-semi-space-size=2', '--no-concurrent-recompilation'];
const TD = 'spiffe://weft.bench/ns/default/svc';

/** utime + stime of a process and its threads, µs. */
function cpuUs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1e6) / 100;
}

function start(cpu: string, args: string[]): Promise<[ChildProcess, string]> {
  const child = spawn('taskset', ['-c', cpu, process.execPath, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('ready'));
      if (line !== undefined) resolve([child, line]);
    });
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
  });
}

function wrk(url: string, seconds: number, script?: string): { rps: number; requests: number } {
  const args = [
    '-c',
    LOAD_CPU,
    'wrk',
    '-t1',
    `-c${CONNECTIONS}`,
    `-d${seconds}s`,
    ...(script ? ['-s', script] : []),
    url,
  ];
  const out = execFileSync('taskset', args, { encoding: 'utf8' });
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  if (non2xx) throw new Error(`wrk saw ${non2xx[1]} non-2xx responses:\n${out}`);
  return {
    requests: Number(/(\d+) requests in/.exec(out)?.[1]),
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]),
  };
}

const nginx = ['/usr/sbin/nginx', '/usr/bin/nginx', '/usr/local/sbin/nginx'].find((p) => existsSync(p));
const BODY = `${JSON.stringify({ service: 'reviews', version: 'v1', rating: 5, text: 'x'.repeat(44) })}\n`;

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const sumCpu = (pids: readonly number[]): number => pids.reduce((sum, pid) => sum + cpuUs(pid), 0);

/** nginx's master and worker pids (the worker does the work). */
function withWorkers(pid: number): number[] {
  try {
    const out = execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' });
    return [pid, ...out.split('\n').filter(Boolean).map(Number)];
  } catch {
    return [pid];
  }
}

/** The upstream: nginx when installed, else node:https (mtls-upstream.mjs). */
async function startUpstream(
  dir: string,
): Promise<{ child: ChildProcess; plainPort: string; tlsPort: string; pids: () => number[] }> {
  if (nginx === undefined) {
    const [child, line] = await start(LOAD_CPU, [join(here, 'mtls-upstream.mjs'), dir]);
    const [, plainPort, tlsPort] = line.split(' ');
    return { child, plainPort: plainPort as string, tlsPort: tlsPort as string, pids: () => [child.pid as number] };
  }
  const [plainPort, tlsPort] = [String(await freePort()), String(await freePort())];
  const ret = `location / { default_type application/json; return 200 '${BODY.trim()}\n'; }`;
  writeFileSync(
    join(dir, 'nginx.conf'),
    `worker_processes 1;
daemon off;
master_process on;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  keepalive_requests 100000;
  keepalive_timeout 65s;
  server { listen 127.0.0.1:${plainPort}; ${ret} }
  server {
    listen 127.0.0.1:${tlsPort} ssl;
    ssl_protocols TLSv1.3;
    ssl_certificate ${dir}/server.crt;
    ssl_certificate_key ${dir}/server.key;
    ssl_client_certificate ${dir}/ca.crt;
    ssl_verify_client on;
    ${ret}
  }
}
`,
  );
  const child = spawn('taskset', ['-c', LOAD_CPU, nginx, '-c', join(dir, 'nginx.conf'), '-p', dir], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  // Ready when both ports answer.
  for (let i = 0; i < 100; i++) {
    try {
      execFileSync('wrk', ['-t1', '-c1', '-d0.1s', `http://127.0.0.1:${plainPort}/`], { stdio: 'ignore' });
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { child, plainPort, tlsPort, pids: () => withWorkers(child.pid as number).flatMap((p) => withWorkers(p)) };
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const r3 = (x: number) => Math.round(x * 1000) / 1000;

/** Measures the figure and adds it to `report`; skipped (said so) without wrk. */
export async function mtlsRatio(report: Report): Promise<void> {
  if (!['/usr/bin/wrk', '/usr/local/bin/wrk'].some((p) => existsSync(p))) {
    console.log('mtls: wrk missing (bench/proxy/install.sh): skipped');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'weft-mtls-bench-'));
  const children: ChildProcess[] = [];
  try {
    const ca = await testCa('weft bench CA');
    const server = await ca.issue('reviews', { uri: `${TD}/reviews` });
    const client = await ca.issue('bench', { uri: `${TD}/bench` });
    writeFileSync(join(dir, 'ca.crt'), ca.cert);
    writeFileSync(join(dir, 'server.crt'), server.cert);
    writeFileSync(join(dir, 'server.key'), server.key);
    writeFileSync(join(dir, 'client.crt'), client.cert);
    writeFileSync(join(dir, 'client.key'), client.key);
    const bundle = join(dir, 'sidecar-mtls.bundle.mjs');
    buildSync({
      entryPoints: [join(here, 'sidecar-mtls.mjs')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node22',
      // The sources (no build needed), as the tests run them.
      conditions: ['@weft/source'],
      outfile: bundle,
      logLevel: 'error',
      banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    });
    const { child: upstream, plainPort, tlsPort, pids: upstreamPids } = await startUpstream(dir);
    children.push(upstream);
    const sidecars: Array<{ mode: 'plain' | 'mtls'; port: string; pid: number }> = [];
    for (const [mode, port] of [
      ['plain', plainPort],
      ['mtls', tlsPort],
    ] as const) {
      const [child, line] = await start(PROXY_CPU, [...FLAGS, bundle, port as string, mode, dir]);
      children.push(child);
      const [, listen, pid] = line.split(' ');
      sidecars.push({ mode, port: listen as string, pid: Number(pid) });
    }
    const url = (port: string) => `http://127.0.0.1:${port}/reviews/api/v1/reviews/1`;
    const script = DELAY_MS > 0 ? join(dir, 'delay.lua') : undefined;
    if (script !== undefined) writeFileSync(script, `function delay()\n  return ${DELAY_MS}\nend\n`);
    for (const s of sidecars) wrk(url(s.port), 2); // warm-up: JIT, and the keep-alive pools (handshakes)
    const cpuRatios: number[] = [];
    const rpsRatios: number[] = [];
    const upstreamRatios: number[] = [];
    const perMode = { plain: [] as number[], mtls: [] as number[], plainRps: [] as number[] };
    for (let i = 0; i < PAIRS; i++) {
      const order = i % 2 === 0 ? sidecars : [...sidecars].reverse();
      const got: Partial<Record<'plain' | 'mtls', { cpu: number; rps: number; upstreamCpu: number }>> = {};
      for (const s of order) {
        const c0 = cpuUs(s.pid);
        const u0 = sumCpu(upstreamPids());
        const w = wrk(url(s.port), SECONDS, script);
        got[s.mode] = {
          cpu: (cpuUs(s.pid) - c0) / w.requests,
          rps: w.rps,
          upstreamCpu: (sumCpu(upstreamPids()) - u0) / w.requests,
        };
      }
      const plain = got.plain as NonNullable<typeof got.plain>;
      const mtls = got.mtls as NonNullable<typeof got.mtls>;
      perMode.plain.push(plain.cpu);
      perMode.mtls.push(mtls.cpu);
      perMode.plainRps.push(plain.rps);
      cpuRatios.push(mtls.cpu / plain.cpu);
      rpsRatios.push(mtls.rps / plain.rps);
      upstreamRatios.push(mtls.upstreamCpu / plain.upstreamCpu);
      console.log(
        `  mtls pair ${i + 1}: plain ${plain.cpu.toFixed(2)} µs/req ${Math.round(plain.rps)} req/s; mTLS ${mtls.cpu.toFixed(2)} µs/req ${Math.round(mtls.rps)} req/s`,
      );
    }
    report.add({
      name: 'proxy.mtls_vs_plain_cpu_ratio',
      value: median(cpuRatios),
      unit: 'ratio',
      target: '<= 1.3',
      method: `median over ${PAIRS} adjacent pairs (alternating order) of ${SECONDS} s wrk -c${CONNECTIONS} runs, ${DELAY_MS} ms between a connection's requests: CPU per request of a sidecar reaching its upstream over mTLS (keep-alive) ÷ one reaching it in plaintext, both pinned to one core`,
      pair_ratios: cpuRatios.map(r3),
      plain_cpu_us: r3(median(perMode.plain)),
      mtls_cpu_us: r3(median(perMode.mtls)),
      rps_ratio: r3(median(rpsRatios)),
      plain_rps: Math.round(median(perMode.plainRps)),
      upstream: nginx === undefined ? 'node:https (mtls-upstream.mjs)' : 'nginx, 1 worker',
      upstream_cpu_ratio: r3(median(upstreamRatios)),
    });
  } finally {
    for (const c of children) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const report = new Report('proxy-mtls');
  console.log(`Weft mTLS benchmark on ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'})`);
  await mtlsRatio(report);
  console.log(`\nwrote ${report.write()}`);
}
