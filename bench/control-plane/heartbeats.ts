/**
 * `control_plane.registry_heartbeats_per_s`: Amalgam8 heartbeats (`PUT
 * /api/v1/instances/{id}/heartbeat`) per second that the registry server answers on one core, over
 * keep-alive; and `control_plane.registry_vs_bare_fastify_ratio`: that rate divided by a bare
 * fastify route that does nothing (same method, same path shape, empty 200), the ceiling of any
 * fastify server on this machine, measured in the same run.
 *
 * Three processes: the registry server (`createRegistryServer` with its defaults: memory store,
 * auth none, no request log) and the bare fastify server, both pinned to CPU 0 (only one is under
 * load at a time); and the load generator pinned to CPU 1 — `BENCH_CONNECTIONS` (default 50)
 * keep-alive connections per server, one request in flight on each, no pipelining. The
 * registry holds `BENCH_INSTANCES` (default 1 000) instances, heartbeated in turn. The load
 * process alternates `BENCH_SLICE_MS` (default 500) slices of registry and bare (A-B, then B-A)
 * for `BENCH_SECONDS` (default 20) in all after a warm-up, which cancels the shared machine's
 * drift: the ratio is the median of the per-round ratios, the rate the registry's over all its
 * slices. CPU per request comes from each server's /proc/<pid>/stat over the run; its inverse,
 * `per_cpu_second`, is what a core would answer were it the server's alone — the figure to read
 * when other processes share CPU 0 (the rate then counts only the share the server got).
 *
 * Run alone: `npx tsx bench/control-plane/heartbeats.ts` (prints the figures and merges them into
 * `bench/results/control-plane.json`, keeping the other figures there); or call
 * `heartbeatBench(report)` from a runner. The children are this file, run again with a mode
 * argument (`serve registry|bare` or `load`), on the TypeScript sources through tsx's loader.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type BenchResult, Report } from '../lib/results.js';
import { percentile } from '../lib/timing.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const SLICE_MS = Number(process.env.BENCH_SLICE_MS ?? 500);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const INSTANCES = Number(process.env.BENCH_INSTANCES ?? 1000);
const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? 3000);
const self = fileURLToPath(import.meta.url);
const root = join(dirname(self), '..', '..');
const SERVER_CPU = '0';
const LOAD_CPU = cpus().length > 1 ? '1' : '0';
const CLK_TCK = 100;
const HEARTBEAT_PATH = '/api/v1/instances/:id/heartbeat';

// ---- the server processes ------------------------------------------------------------------

async function serve(kind: string): Promise<void> {
  let app: { listen(o: { host: string; port: number }): Promise<string>; close(): Promise<unknown> };
  if (kind === 'registry') {
    const { createRegistryServer } = await import('../../packages/servers/src/index.js');
    app = await createRegistryServer();
  } else {
    const { default: Fastify } = await import('fastify');
    const bare = Fastify();
    // The ceiling: routing and an empty 200, nothing else.
    bare.put(HEARTBEAT_PATH, async (_request, reply) => reply.code(200).send());
    app = bare;
  }
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  process.stdout.write(`ready ${address}\n`);
  process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
}

// ---- the load process ----------------------------------------------------------------------

/**
 * One server's load: `CONNECTIONS` keep-alive sockets, each with one heartbeat in flight, written
 * from prebuilt bytes and counted at the end of the response head (the answers have no body).
 * A raw client, because undici costs about what the server does per request, so on a quiet
 * machine its core saturated before the server's did and squeezed every ratio towards 1.
 */
class Arm {
  n = 0;
  ms = 0;
  readonly slices: number[] = [];
  readonly lat: number[] = [];
  private readonly sockets: import('node:net').Socket[] = [];
  private readonly requests: Buffer[];

  constructor(
    readonly name: string,
    private readonly url: URL,
    paths: readonly string[],
  ) {
    this.requests = paths.map((p) =>
      Buffer.from(`PUT ${p} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Length: 0\r\n\r\n`, 'latin1'),
    );
  }

  async open(): Promise<void> {
    const { connect } = await import('node:net');
    for (let i = 0; i < CONNECTIONS; i++) {
      const socket = connect(Number(this.url.port), this.url.hostname);
      socket.setNoDelay(true);
      await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
      this.sockets.push(socket);
    }
  }

  /** Heartbeats on every socket until the deadline; resolves with the number answered. */
  run(durationMs: number, record: boolean): Promise<number> {
    const deadline = performance.now() + durationMs;
    let answered = 0;
    let next = 0;
    let running = this.sockets.length;
    return new Promise((resolve, reject) => {
      for (const socket of this.sockets) {
        let head = '';
        let sentAt = 0;
        const send = (): void => {
          sentAt = performance.now();
          socket.write(this.requests[next++ % this.requests.length] as Buffer);
        };
        const onData = (chunk: Buffer): void => {
          head += chunk.toString('latin1');
          if (!head.endsWith('\r\n\r\n')) return; // one request in flight, no body: the head's end is the answer's
          if (!head.startsWith('HTTP/1.1 200 ')) {
            socket.off('data', onData);
            reject(new Error(`${this.name}: ${head.split('\r\n')[0]}`));
            return;
          }
          head = '';
          const now = performance.now();
          if (record && (answered & 15) === 0) this.lat.push(now - sentAt);
          answered++;
          if (now < deadline) send();
          else {
            socket.off('data', onData);
            if (--running === 0) resolve(answered);
          }
        };
        socket.on('data', onData);
        send();
      }
    });
  }

  close(): void {
    for (const socket of this.sockets) socket.destroy();
  }
}

async function load(registryUrl: string, bareUrl: string, idsJson: string): Promise<void> {
  const paths = (JSON.parse(idsJson) as string[]).map((id) => HEARTBEAT_PATH.replace(':id', id));
  const registry = new Arm('registry', new URL(registryUrl), paths);
  const bare = new Arm('bare', new URL(bareUrl), paths);
  await registry.open();
  await bare.open();
  await registry.run(WARMUP_MS, false);
  await bare.run(WARMUP_MS, false);
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  const rounds = Math.max(4, Math.round((SECONDS * 1000) / (2 * SLICE_MS)));
  const ratios: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const order = i % 2 === 0 ? [registry, bare] : [bare, registry];
    for (const a of order) {
      const t0 = performance.now();
      const n = await a.run(SLICE_MS, true);
      const ms = performance.now() - t0;
      a.n += n;
      a.ms += ms;
      a.slices.push((n * 1000) / ms);
    }
    ratios.push((registry.slices[i] as number) / (bare.slices[i] as number));
  }
  const cpu = process.cpuUsage(cpu0);
  const wallMs = performance.now() - wall0;
  const summary = (a: Arm) => ({
    requests: a.n,
    rps: (a.n * 1000) / a.ms,
    p50Ms: percentile(a.lat, 50),
    p99Ms: percentile(a.lat, 99),
  });
  process.stdout.write(
    `${JSON.stringify({
      registry: summary(registry),
      bare: summary(bare),
      ratioMedian: percentile(ratios, 50),
      ratioQ1: percentile([...ratios], 25),
      ratioQ3: percentile([...ratios], 75),
      rounds,
      clientCpuShare: (cpu.user + cpu.system) / 1000 / wallMs,
    })}\n`,
  );
  registry.close();
  bare.close();
}

// ---- the orchestration ---------------------------------------------------------------------

const children = new Set<ChildProcess>();

/** Spawns this file in `mode`, pinned to `cpu`, on the sources; resolves with its first line matching `ready`. */
function child(cpu: string, args: string[], ready: RegExp): Promise<[ChildProcess, string]> {
  const proc = spawn(
    'taskset',
    ['-c', cpu, process.execPath, '--import', 'tsx', '--conditions=@weft/source', '--no-warnings', self, ...args],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.add(proc);
  proc.on('exit', () => children.delete(proc));
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    proc.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => ready.test(l));
      if (line !== undefined) resolve([proc, line]);
    });
    proc.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
    });
    proc.on('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}: ${out}${err}`)));
  });
}

/** utime + stime of a process, µs. */
function cpuUs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLK_TCK;
}

/** Registers the instances the load heartbeats, with the longest TTL the default policy allows. */
async function register(base: string): Promise<string[]> {
  const { Pool } = await import('undici');
  const pool = new Pool(base, { connections: 8 });
  const ids: string[] = [];
  for (let i = 0; i < INSTANCES; i += 50) {
    const batch = Array.from({ length: Math.min(50, INSTANCES - i) }, async (_, k) => {
      const res = await pool.request({
        method: 'POST',
        path: '/api/v1/instances',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          service_name: `svc-${(i + k) % 20}`,
          endpoint: { type: 'http', value: `10.0.${((i + k) >> 8) & 255}.${(i + k) & 255}:8080` },
          ttl: 600,
          tags: ['version=v1'],
        }),
      });
      const body = (await res.body.json()) as { id: string };
      if (res.statusCode !== 201) throw new Error(`registration: status ${res.statusCode}`);
      return body.id;
    });
    ids.push(...(await Promise.all(batch)));
  }
  await pool.close();
  return ids;
}

/** Measures both servers in one run and adds the figures to `report`. */
export async function heartbeatBench(report: Report): Promise<void> {
  if (cpus().length < 2) console.log('  warning: one CPU only; server and load share it, the figures mean little');
  try {
    const [registry, registryLine] = await child(SERVER_CPU, ['serve', 'registry'], /^ready /);
    const [bare, bareLine] = await child(SERVER_CPU, ['serve', 'bare'], /^ready /);
    const registryUrl = registryLine.slice('ready '.length).trim();
    const bareUrl = bareLine.slice('ready '.length).trim();
    const ids = await register(registryUrl);
    const registryCpu0 = cpuUs(registry.pid as number);
    const bareCpu0 = cpuUs(bare.pid as number);
    const [loader, line] = await child(LOAD_CPU, ['load', registryUrl, bareUrl, JSON.stringify(ids)], /^\{/);
    await new Promise((r) => loader.once('exit', r));
    const result = JSON.parse(line) as {
      registry: { requests: number; rps: number; p50Ms: number; p99Ms: number };
      bare: { requests: number; rps: number; p50Ms: number; p99Ms: number };
      ratioMedian: number;
      ratioQ1: number;
      ratioQ3: number;
      rounds: number;
      clientCpuShare: number;
    };
    // Warm-up requests are in the CPU figures too; per request they cost the same.
    const warm = (rps: number) => (rps * WARMUP_MS) / 1000;
    const registryCpuUs =
      (cpuUs(registry.pid as number) - registryCpu0) / (result.registry.requests + warm(result.registry.rps));
    const bareCpuUs = (cpuUs(bare.pid as number) - bareCpu0) / (result.bare.requests + warm(result.bare.rps));
    const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
    const common: Partial<BenchResult> = {
      connections: CONNECTIONS,
      instances: INSTANCES,
      seconds: SECONDS,
      slice_ms: SLICE_MS,
      client_cpu_share: round(result.clientCpuShare),
      note: `server pinned to CPU ${SERVER_CPU}, load (${CONNECTIONS} keep-alive connections, one request in flight each) on CPU ${LOAD_CPU}; shared 2-core machine`,
    };
    report.add({
      name: 'control_plane.registry_heartbeats_per_s',
      value: Math.round(result.registry.rps),
      unit: '1/s',
      target: '>= 30000',
      cpu_us_per_request: round(registryCpuUs),
      // What one core would answer were it the registry's alone: robust to other processes on it.
      per_cpu_second: Math.round(1e6 / registryCpuUs),
      p50_ms: round(result.registry.p50Ms, 3),
      p99_ms: round(result.registry.p99Ms, 3),
      ...common,
    });
    report.add({
      name: 'control_plane.registry_vs_bare_fastify_ratio',
      value: round(result.ratioMedian, 3),
      unit: 'ratio',
      target: '>= 0.7',
      q1: round(result.ratioQ1, 3),
      q3: round(result.ratioQ3, 3),
      rounds: result.rounds,
      cpu_per_request_ratio: round(registryCpuUs / bareCpuUs, 3),
      ...common,
    });
    report.add({
      name: 'control_plane.bare_fastify_put_per_s',
      value: Math.round(result.bare.rps),
      unit: '1/s',
      cpu_us_per_request: round(bareCpuUs),
      per_cpu_second: Math.round(1e6 / bareCpuUs),
      p50_ms: round(result.bare.p50Ms, 3),
      p99_ms: round(result.bare.p99Ms, 3),
      ...common,
    });
    if (result.clientCpuShare > 0.9)
      console.log(
        `  warning: the load generator used ${Math.round(result.clientCpuShare * 100)} % of its core; the servers may not be saturated`,
      );
  } finally {
    for (const c of children) c.kill('SIGTERM');
  }
}

/** Keeps the figures of other benchmarks in the results file (rule-push writes there too). */
function mergeExisting(report: Report): void {
  const file = join(root, 'bench', 'results', 'control-plane.json');
  if (!existsSync(file)) return;
  const mine = new Set(report.results.map((r) => r.name));
  const { results } = JSON.parse(readFileSync(file, 'utf8')) as { results: BenchResult[] };
  report.results.unshift(...results.filter((r) => !mine.has(r.name)));
}

const mode = process.argv[2];
if (mode === 'serve') await serve(process.argv[3] ?? 'registry');
else if (mode === 'load') await load(process.argv[3] as string, process.argv[4] as string, process.argv[5] as string);
else if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(`Weft control-plane benchmarks on ${process.version}\ncontrol-plane`);
  const report = new Report('control-plane');
  await heartbeatBench(report);
  mergeExisting(report);
  console.log(`  → ${report.write()}`);
}
