/**
 * In-process load loop: `concurrency` requests in flight through `undici.request` for `seconds`,
 * with a raw undici Pool or a MeshAgent as the dispatcher (same API, same process setup). Prints
 * one JSON line: requests, seconds, CPU µs, p50/p99 µs.
 *
 * `node bench/proxy/client.ts <mode> <target-port> <seconds> <concurrency>` (built packages; Node strips the types)
 * with mode `pool` | `mesh`; or `ab`: Pool and MeshAgent in one process, alternating
 * 100 ms slices for `seconds` (A-B, then B-A), which cancels the machine's drift (the shared CI
 * machines vary by ±20 % from one run to the next) and prints both, their ratios over the whole
 * run, and the quartiles of the per-round ratios; or `e2e` with a sixth argument, a proxy's port:
 * the same alternation of app → proxy → upstream and app → MeshAgent → upstream. `ab` also
 * alternates a third arm, C: the mesh as an undici interceptor (`new Agent().compose(mesh())`),
 * unless BENCH_INTERCEPTOR=0.
 */

import { Discovery, ManualSource } from '@weft/core';
import { MeshAgent, mesh } from '@weft/proxy';
import { Agent, type Dispatcher, Pool, request } from 'undici';
import { reviewsInstance } from './instance.mjs';

const [mode = 'pool', portText = '0', secondsText = '10', concurrencyText = '100'] = process.argv.slice(2);
const port = Number(portText);
const seconds = Number(secondsText);
const concurrency = Number(concurrencyText);

function meshAgent(): MeshAgent {
  const source = new ManualSource('bench', [reviewsInstance(port)]);
  // MESH_OPTIONS (JSON) tweaks the agent for experiments, e.g. '{"requestId":false}'.
  const extra = JSON.parse(process.env.MESH_OPTIONS ?? '{}') as Record<string, unknown>;
  return new MeshAgent({ discovery: new Discovery({ sources: [source] }), identity: { name: 'bench' }, ...extra });
}

/** The same mesh as an undici interceptor on an Agent (which then owns the connection pools). */
function meshInterceptor(): Dispatcher {
  const source = new ManualSource('bench', [reviewsInstance(port)]);
  const extra = JSON.parse(process.env.MESH_OPTIONS ?? '{}') as Record<string, unknown>;
  return new Agent().compose(
    mesh({ discovery: new Discovery({ sources: [source] }), identity: { name: 'bench' }, ...extra }),
  );
}

const dispatcher: Dispatcher = mode === 'mesh' ? meshAgent() : new Pool(`http://127.0.0.1:${port}`);
const meshUrl = 'http://reviews/api/v1/reviews/1';
const url = mode === 'mesh' ? meshUrl : `http://127.0.0.1:${port}/api/v1/reviews/1`;

async function run(
  durationMs: number,
  record: boolean,
  d: Dispatcher = dispatcher,
  target: string = url,
): Promise<{ n: number; lat: number[] }> {
  const lat: number[] = [];
  let n = 0;
  const deadline = performance.now() + durationMs;
  const loop = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      const res = await request(target, { dispatcher: d });
      await res.body.dump();
      if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
      if (record) lat.push(performance.now() - t0);
      n++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  return { n, lat };
}

interface Arm {
  d: Dispatcher;
  target: string;
  n: number;
  cpu: number;
  lat: number[];
}

/**
 * Alternates 100 ms slices of two arms in this process, in A-B then B-A order (so neither always
 * follows the other and inherits its GC debt or warm caches); with a third arm, A-B-C then C-B-A,
 * C's ratios to A reported apart (`c`, `rpsRatioC`, …). The machine drifts on a scale of
 * seconds; within one round of two slices it mostly does not, so each round gives one ratio, and
 * the median of those is robust to a slice that hit a major GC. Both arms share the process, so
 * they also share its GC regime and JIT state.
 */
async function alternate(a: Arm, b: Arm, c?: Arm): Promise<never> {
  await run(1000, false, a.d, a.target);
  await run(1000, false, b.d, b.target);
  if (c !== undefined) await run(1000, false, c.d, c.target);
  const roundRps: number[] = [];
  const roundCpu: number[] = [];
  const roundP50: number[] = [];
  const roundRpsC: number[] = [];
  const roundCpuC: number[] = [];
  const SLICE_MS = 100;
  const rounds = Math.max(10, Math.round((seconds * 1000) / (2 * SLICE_MS)));
  const slice = async (arm: Arm) => {
    const c0 = process.cpuUsage();
    const r = await run(SLICE_MS, true, arm.d, arm.target);
    const c = process.cpuUsage(c0);
    arm.n += r.n;
    arm.cpu += c.user + c.system;
    for (const x of r.lat) arm.lat.push(x);
    return { n: r.n, cpuPerRequest: (c.user + c.system) / r.n, p50: p50(r.lat) };
  };
  for (let i = 0; i < rounds; i++) {
    const order = c === undefined ? [a, b] : [a, b, c];
    if (i % 2 === 1) order.reverse();
    const got = new Map<Arm, Awaited<ReturnType<typeof slice>>>();
    for (const arm of order) got.set(arm, await slice(arm));
    const ra = got.get(a) as Awaited<ReturnType<typeof slice>>;
    const rb = got.get(b) as Awaited<ReturnType<typeof slice>>;
    roundRps.push(rb.n / ra.n);
    roundCpu.push(rb.cpuPerRequest / ra.cpuPerRequest);
    roundP50.push(rb.p50 / ra.p50);
    const rc = c === undefined ? undefined : got.get(c);
    if (rc !== undefined) {
      roundRpsC.push(rc.n / ra.n);
      roundCpuC.push(rc.cpuPerRequest / ra.cpuPerRequest);
    }
  }
  const quartiles = (xs: number[]) => {
    const s = [...xs].sort((u, v) => u - v);
    const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] as number;
    return { q1: at(0.25), median: at(0.5), q3: at(0.75) };
  };
  const sec = (rounds * SLICE_MS) / 1000;
  const summary = (arm: Arm) => ({
    rps: arm.n / sec,
    cpuUsPerRequest: arm.cpu / arm.n,
    p50Us: p50(arm.lat),
    p99Us: (arm.lat[Math.floor(arm.lat.length * 0.99)] ?? Number.NaN) * 1000, // sorted by p50()
  });
  const sa = summary(a);
  const sb = summary(b);
  const sc = c === undefined ? undefined : summary(c);
  const third =
    c === undefined || sc === undefined
      ? {}
      : {
          c: sc,
          rpsRatioC: c.n / a.n,
          cpuRatioC: sc.cpuUsPerRequest / sa.cpuUsPerRequest,
          p50RatioC: sc.p50Us / sa.p50Us,
          roundRpsRatioC: quartiles(roundRpsC),
          roundCpuRatioC: quartiles(roundCpuC),
        };
  process.stdout.write(
    `${JSON.stringify({
      mode,
      rounds,
      sliceMs: SLICE_MS,
      a: sa,
      b: sb,
      rpsRatio: b.n / a.n,
      cpuRatio: sb.cpuUsPerRequest / sa.cpuUsPerRequest,
      p50Ratio: sb.p50Us / sa.p50Us,
      roundRpsRatio: quartiles(roundRps),
      roundCpuRatio: quartiles(roundCpu),
      roundP50Ratio: quartiles(roundP50),
      ...third,
    })}\n`,
  );
  process.exit(0);
}

/** Median of latencies in ms, in µs (sorts in place). */
function p50(lat: number[]): number {
  lat.sort((u, v) => u - v);
  return (lat[Math.floor(lat.length / 2)] ?? Number.NaN) * 1000;
}

const arm = (d: Dispatcher, target: string): Arm => ({ d, target, n: 0, cpu: 0, lat: [] });
if (mode === 'ab') {
  // Pool (A), MeshAgent (B) and the mesh() interceptor on an Agent (C) to the same upstream.
  await alternate(
    arm(dispatcher, url),
    arm(meshAgent(), meshUrl),
    process.env.BENCH_INTERCEPTOR === '0' ? undefined : arm(meshInterceptor(), meshUrl),
  );
}
if (mode === 'e2e') {
  // app → proxy → upstream (A: a Pool to the proxy's URL, e.g. nginx on `proxyPort`) vs
  // app → MeshAgent → upstream (B), both at `concurrency` in flight.
  const proxyPort = Number(process.argv[6]);
  await alternate(
    arm(new Pool(`http://127.0.0.1:${proxyPort}`), `http://127.0.0.1:${proxyPort}/reviews/api/v1/reviews/1`),
    arm(meshAgent(), meshUrl),
  );
}

await run(Math.min(2000, seconds * 200), false); // warm-up: JIT, sockets
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const { n, lat } = await run(seconds * 1000, true);
const elapsed = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
lat.sort((a, b) => a - b);
const pct = (p: number) => (lat[Math.min(lat.length - 1, Math.ceil((p / 100) * lat.length) - 1)] ?? Number.NaN) * 1000;
process.stdout.write(
  `${JSON.stringify({
    mode,
    requests: n,
    seconds: elapsed,
    rps: n / elapsed,
    cpuUsPerRequest: (cpu.user + cpu.system) / n,
    p50Us: pct(50),
    p99Us: pct(99),
    rssMb: process.memoryUsage().rss / 1048576,
  })}\n`,
);
await dispatcher.close();
process.exit(0);
