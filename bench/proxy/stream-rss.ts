/**
 * `proxy.sidecar_stream_rss_growth_mb`: how much the sidecar's resident memory grows while 200 MB
 * stream through it to a slow reader (~50 MB/s, so its socket queues and backpressure engages).
 * Baselines in the same run: the same sidecar with upstream reads copied (as before the read
 * buffers were lent), and nginx when it is installed.
 *
 * Standalone: `npx tsx bench/proxy/stream-rss.ts` (after `npm run build`), writes
 * bench/results/proxy-stream.json; `npm run bench:proxy` runs it too.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BenchResult, Report } from '../lib/results.js';

const here = dirname(fileURLToPath(import.meta.url));
const TOTAL = Number(process.env.BENCH_STREAM_BYTES ?? 200 * 1024 * 1024);
/** Reader pace: bytes per 10 ms tick (50 MB/s by default). */
const PACE = Number(process.env.BENCH_STREAM_BYTES_PER_10MS ?? 512 * 1024);
const SIDECAR_FLAGS = (process.env.SIDECAR_NODE_FLAGS ?? '--max-semi-space-size=2 --no-concurrent-recompilation')
  .split(' ')
  .filter(Boolean);

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

function start(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<[ChildProcess, string]> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${cmd} did not start: ${out}`)), 20_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('ready'));
      if (line !== undefined) {
        clearTimeout(timer);
        resolve([child, line]);
      }
    });
    child.on('exit', (code) => reject(new Error(`${cmd} exited with ${code}: ${out}`)));
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 3000).unref();
  });
}

/** GETs `path` and reads the body at PACE, sampling `pids`' RSS; resolves with the peak sum, MB. */
function slowDownload(port: number, path: string, host: string, pids: number[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let got = 0;
    let tick = 0;
    let peak = 0;
    const sample = setInterval(() => {
      peak = Math.max(
        peak,
        pids.reduce((s, p) => s + rssMb(p), 0),
      );
    }, 20);
    const pacer = setInterval(() => {
      tick = 0;
      socket.resume();
    }, 10);
    socket.on('data', (d: Buffer) => {
      got += d.length;
      tick += d.length;
      if (tick >= PACE) socket.pause();
      if (got >= TOTAL) {
        clearInterval(sample);
        clearInterval(pacer);
        socket.destroy();
        resolve(peak);
      }
    });
    socket.on('error', reject);
    socket.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
  });
}

/** Warms a proxy up with a few small streams, then measures one 200 MB stream: RSS growth, MB. */
async function growth(port: number, path: string, host: string, pids: number[]): Promise<number> {
  const warm = Number(process.env.BENCH_STREAM_WARM_BYTES ?? 8 * 1024 * 1024);
  for (let i = 0; i < 3; i++) {
    await new Promise<void>((resolve, reject) => {
      const s = connect(port, '127.0.0.1');
      let got = 0;
      s.on('data', (d: Buffer) => {
        got += d.length;
        if (got >= warm) {
          s.destroy();
          resolve();
        }
      });
      s.on('error', reject);
      s.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
    });
  }
  await new Promise((r) => setTimeout(r, 500));
  const before = pids.reduce((s, p) => s + rssMb(p), 0);
  const peak = await slowDownload(port, path, host, pids);
  return Math.max(0, peak - before);
}

function nginxConf(dir: string, listen: number, upstream: number): string {
  const conf = join(dir, 'nginx-stream.conf');
  writeFileSync(
    conf,
    `worker_processes 1; daemon off; pid ${dir}/nginx-stream.pid; error_log /dev/null;
events { worker_connections 64; }
http { access_log off; client_body_temp_path ${dir}; proxy_temp_path ${dir};
  upstream up { server 127.0.0.1:${upstream}; keepalive 8; }
  server { listen 127.0.0.1:${listen}; location / { proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection ""; } } }
`,
  );
  return conf;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** nginx's growth on the same stream (its default proxy buffering), or undefined without nginx. */
async function nginxGrowth(dir: string, upstreamPort: number): Promise<number | undefined> {
  try {
    execFileSync('which', ['nginx'], { stdio: 'ignore' });
  } catch {
    return undefined;
  }
  const port = await freePort();
  const child = spawn('nginx', ['-c', nginxConf(dir, port, upstreamPort), '-p', dir], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 500));
  const workers = execFileSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .map(Number);
  try {
    return await growth(port, '/stream', 'x', [child.pid as number, ...workers]);
  } finally {
    child.kill('SIGKILL');
    for (const w of workers) process.kill(w, 'SIGKILL');
  }
}

/** Measures the figure and its baselines; adds them to `report`. */
export async function streamRss(report: Report): Promise<BenchResult> {
  const [upstream, upLine] = await start(process.execPath, [join(here, 'stream-upstream.mjs'), '0', String(TOTAL)]);
  const upstreamPort = Number(upLine.split(' ')[1]);
  const dir = mkdtempSync(join(tmpdir(), 'weft-stream-'));
  try {
    const run = async (copy: boolean): Promise<number> => {
      const env = { ...process.env, ...(copy ? { WEFT_BENCH_COPY_READS: '1' } : {}) };
      const [sidecar, line] = await start(
        process.execPath,
        [...SIDECAR_FLAGS, join(here, 'sidecar.mjs'), String(upstreamPort)],
        env,
      );
      const [, port, pid] = line.split(' ');
      try {
        return await growth(Number(port), '/reviews/stream', 'x', [Number(pid)]);
      } finally {
        await stop(sidecar);
      }
    };
    const lent = await run(false);
    const copied = await run(true);
    const nginx = await nginxGrowth(dir, upstreamPort);
    const r3 = (x: number) => Math.round(x * 1000) / 1000;
    const result: BenchResult = {
      name: 'proxy.sidecar_stream_rss_growth_mb',
      value: r3(lent),
      unit: 'MB',
      target: '<= 16',
      method: `peak VmRSS during a ${Math.round(TOTAL / 2 ** 20)} MB response read at ${Math.round((PACE * 100) / 2 ** 20)} MB/s, minus VmRSS after three warm-up streams`,
      node_flags: SIDECAR_FLAGS.join(' '),
      baseline_copied_reads_mb: r3(copied),
      ...(nginx === undefined ? {} : { baseline_nginx_mb: r3(nginx) }),
    };
    report.add(result);
    return result;
  } finally {
    await stop(upstream);
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const report = new Report('proxy-stream');
  await streamRss(report);
  console.log(`wrote ${report.write()}`);
}
