/**
 * `control_plane.rule_push_p99_ms.1000`: how fast a rule change reaches 1 000 proxies that
 * watch the controller, each on its own connection.
 *
 * Three kinds of process, as deployed: the controller (`createControllerServer`, memory store)
 * alone in one; the watchers — `BENCH_WATCHERS` (default 1 000) Server-Sent Event subscriptions
 * to `GET /v1/rules`, split over `BENCH_WATCHER_PROCESSES` (default 2) processes so that the
 * clients' reading is not one process's bottleneck; and this one, which writes. Each change is a
 * POST (a new rule) or a PUT (an update), alternately, `BENCH_GAP_MS` (default 100) apart; the
 * figure is the p99 over every (watcher, change) of the time the watcher had the whole event
 * minus the time the request was sent. Times are `process.hrtime` (CLOCK_MONOTONIC), one clock
 * for every process of the machine. `BENCH_WARMUP` (default 5) changes are not counted, then
 * `BENCH_CHANGES` (default 100) are — enough that one change stalled by a neighbour on these
 * shared machines is 1 % of the samples, not the whole tail. The rule set is `BENCH_RULES`
 * (default 20) bookinfo-like rules, so each event carries a realistic body (~5 KB).
 * `BENCH_DEBUG=1` prints each change's first and last arrival.
 *
 * Besides the p99: p50 and max, the first watcher's median latency (the write's own cost) and
 * the median spread between first and last watcher (the fan-out's), and the load average, since
 * the machine is shared.
 *
 * Run alone: `npx tsx bench/control-plane/rule-push.ts` (prints the figures, writes
 * `bench/results/control-plane.json`); or call `rulePushBench(report)` from a runner. The
 * children are this file, run again with a mode argument (`serve` or `watch`), with their file
 * descriptor limit raised to the hard limit (a thousand sockets on each side).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type BenchResult, Report } from '../lib/results.js';
import { percentile } from '../lib/timing.js';

const WATCHERS = Number(process.env.BENCH_WATCHERS ?? 1000);
const WATCHER_PROCESSES = Number(process.env.BENCH_WATCHER_PROCESSES ?? 2);
const CHANGES = Number(process.env.BENCH_CHANGES ?? 100);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 5);
const GAP_MS = Number(process.env.BENCH_GAP_MS ?? 100);
const RULES = Number(process.env.BENCH_RULES ?? 20);
const self = fileURLToPath(import.meta.url);

/** Microseconds on the machine-wide monotonic clock. */
function nowUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** A bookinfo-like route rule: a header regex and a weighted split. */
function rule(i: number, weight = 0.25): Record<string, unknown> {
  return {
    id: `rule-${i}`,
    priority: (i % 5) + 1,
    destination: `svc-${i % 10}`,
    tags: ['bench'],
    match: { headers: { 'x-user': `^user-${i}$` }, source: { name: 'productpage', tags: ['version=v1'] } },
    route: { backends: [{ tags: ['version=v2'], weight }, { tags: ['version=v1'] }], http_req_timeout: 5 },
  };
}

// ---- the controller process -------------------------------------------------------------

async function serve(): Promise<void> {
  const { createControllerServer } = await import('../../packages/servers/src/index.js');
  const app = await createControllerServer({ logger: false });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  process.stdout.write(`ready ${address}\n`);
  process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
}

// ---- a watcher process ------------------------------------------------------------------

/**
 * Opens `n` SSE subscriptions to `url` (each its own connection), says `ready` once each has
 * its first snapshot, records when each later event is complete, and on `report` (stdin) prints
 * `{revision: [µs, …]}` and exits.
 *
 * The watchers speak HTTP on raw sockets and only look for each event's end: a thousand proxies
 * run on a thousand machines, not on the two cores the controller runs on here, so the client
 * side is kept as cheap as it can be (node:http's client costs about twice as much per event,
 * which on this machine is CPU taken from the server being measured).
 */
async function watch(url: string, n: number): Promise<void> {
  const target = new URL(url);
  const get = Buffer.from(
    `GET ${target.pathname}${target.search} HTTP/1.1\r\nHost: ${target.host}\r\nAccept: text/event-stream\r\n\r\n`,
  );
  const arrivals = new Map<number, number[]>();
  let initial = 0;
  const open = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const socket = connect(Number(target.port), target.hostname, () => socket.write(get));
      socket.setNoDelay(true);
      let pending = '';
      let first = true;
      socket.on('data', (chunk: Buffer) => {
        // latin1: one byte per character, no decoding; the markers looked for are ASCII.
        pending += chunk.toString('latin1');
        let end = pending.indexOf('\n\n');
        while (end >= 0) {
          const block = pending.slice(0, end);
          pending = pending.slice(end + 2);
          end = pending.indexOf('\n\n');
          const m = /id: (\d+)\n/.exec(block);
          if (m === null) continue;
          if (first) {
            first = false;
            initial++;
            resolve();
            continue;
          }
          const at = nowUs();
          const revision = Number(m[1]);
          const list = arrivals.get(revision);
          if (list === undefined) arrivals.set(revision, [at]);
          else list.push(at);
        }
      });
      socket.on('error', reject);
    });
  // Connect in waves: a thousand SYNs at once would overflow the listen backlog.
  for (let i = 0; i < n; i += 50) await Promise.all(Array.from({ length: Math.min(50, n - i) }, open));
  process.stdout.write(`ready ${initial}\n`);
  for await (const line of createInterface({ input: process.stdin })) {
    if (line.trim() !== 'report') continue;
    process.stdout.write(`${JSON.stringify(Object.fromEntries(arrivals))}\n`, () => process.exit(0));
  }
}

// ---- the orchestrator -------------------------------------------------------------------

interface Child {
  proc: ChildProcess;
  /** Resolves with the next stdout line. */
  line(): Promise<string>;
}

/** This file again, in `mode`, with the file limit raised and the TypeScript loader of this process. */
function child(mode: string, args: string[]): Child {
  const node = [process.execPath, ...process.execArgv, '--conditions=@weft/source', self, mode, ...args];
  const proc = spawn('sh', ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"', 'sh', ...node], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  const waiting: ((l: string) => void)[] = [];
  createInterface({ input: proc.stdout as NodeJS.ReadableStream }).on('line', (l) => {
    const w = waiting.shift();
    if (w !== undefined) w(l);
    else lines.push(l);
  });
  return {
    proc,
    line: () =>
      new Promise((resolve, reject) => {
        const l = lines.shift();
        if (l !== undefined) resolve(l);
        else {
          waiting.push(resolve);
          proc.once('exit', (code) => reject(new Error(`${mode} process exited with ${code}`)));
        }
      }),
  };
}

async function send(base: string, method: string, path: string, body: unknown): Promise<{ revision: number }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as { revision: number };
}

/** Measures the push latency and adds it to `report`. */
export async function rulePushBench(report: Report): Promise<void> {
  const children: Child[] = [];
  const load0 = loadavg()[0];
  try {
    const server = child('serve', []);
    children.push(server);
    const base = (await server.line()).replace(/^ready /, '');
    await send(base, 'POST', '/v1/rules', { rules: Array.from({ length: RULES }, (_, i) => rule(i)) });

    const per = Math.ceil(WATCHERS / WATCHER_PROCESSES);
    const watchers: Child[] = [];
    for (let p = 0, left = WATCHERS; p < WATCHER_PROCESSES && left > 0; p++, left -= per) {
      const w = child('watch', [`${base}/v1/rules`, String(Math.min(per, left))]);
      watchers.push(w);
      children.push(w);
    }
    const connected = (await Promise.all(watchers.map((w) => w.line()))).map((l) => Number(l.split(' ')[1]));
    const total = connected.reduce((a, b) => a + b, 0);
    if (total !== WATCHERS) throw new Error(`only ${total} of ${WATCHERS} watchers connected`);

    const sentAt = new Map<number, number>();
    for (let k = 0; k < WARMUP + CHANGES; k++) {
      const t = nowUs();
      const result =
        k % 2 === 0
          ? await send(base, 'POST', '/v1/rules', { rules: [{ ...rule(RULES + k), id: `added-${k}` }] })
          : await send(base, 'PUT', '/v1/rules', { rules: [rule(k % RULES, 0.1 + (k % 8) / 10)] });
      if (k >= WARMUP) sentAt.set(result.revision, t);
      await new Promise((r) => setTimeout(r, GAP_MS));
    }

    for (const w of watchers) w.proc.stdin?.write('report\n');
    const reports = (await Promise.all(watchers.map((w) => w.line()))).map(
      (l) => JSON.parse(l) as Record<string, number[]>,
    );
    const latencies: number[] = [];
    // Per change: when the first watcher had it, and how long the last one took after the first
    // (the fan-out's spread) — which part of the figure is the write itself, which the fan-out.
    const firsts: number[] = [];
    const spreads: number[] = [];
    let missing = 0;
    for (const [revision, t] of sentAt) {
      const times = reports.flatMap((r) => r[String(revision)] ?? []).map((at) => (at - t) / 1000);
      latencies.push(...times);
      missing += WATCHERS - times.length;
      if (times.length === 0) continue;
      const first = Math.min(...times);
      if (process.env.BENCH_DEBUG)
        console.log(`    revision ${revision}: first ${first.toFixed(1)} ms, last ${Math.max(...times).toFixed(1)} ms`);
      firsts.push(first);
      spreads.push(Math.max(...times) - first);
    }
    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);
    const max = latencies[latencies.length - 1] ?? Number.NaN;
    report.add({
      name: `control_plane.rule_push_p99_ms.${WATCHERS}`,
      value: Math.round(p99 * 100) / 100,
      unit: 'ms',
      target: '<= 100',
      p50_ms: Math.round(p50 * 100) / 100,
      max_ms: Math.round(max * 100) / 100,
      first_watcher_p50_ms: Math.round(percentile(firsts, 50) * 100) / 100,
      fanout_spread_p50_ms: Math.round(percentile(spreads, 50) * 100) / 100,
      fanout_spread_max_ms: Math.round(percentile(spreads, 100) * 100) / 100,
      samples: latencies.length,
      missing,
      watchers: WATCHERS,
      watcher_processes: watchers.length,
      changes: CHANGES,
      rules: RULES,
      loadavg_1m: { before: load0, after: loadavg()[0] },
      note: 'controller, watchers and writer in separate processes on the same machine; SSE on loopback',
    });
    if (missing > 0) console.log(`  warning: ${missing} (watcher, change) pairs never arrived`);
  } finally {
    for (const c of children) c.proc.kill('SIGTERM');
  }
}

/** Keeps the figures other control-plane benchmarks wrote (heartbeats.ts) in the shared results file. */
function keepOtherFigures(report: Report): void {
  const file = join(dirname(self), '..', 'results', 'control-plane.json');
  if (!existsSync(file)) return;
  const mine = new Set(report.results.map((r) => r.name));
  const { results } = JSON.parse(readFileSync(file, 'utf8')) as { results: BenchResult[] };
  report.results.unshift(...results.filter((r) => !mine.has(r.name)));
}

const mode = process.argv[2];
if (mode === 'serve') await serve();
else if (mode === 'watch') await watch(process.argv[3] as string, Number(process.argv[4]));
else if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(`Weft control-plane benchmarks on ${process.version}\ncontrol-plane`);
  const report = new Report('control-plane');
  await rulePushBench(report);
  keepOtherFigures(report);
  console.log(`  → ${report.write()}`);
}
