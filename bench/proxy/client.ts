/**
 * In-process load loop: `concurrency` requests in flight through `undici.request` for `seconds`,
 * with a raw undici Pool or a MeshAgent as the dispatcher (same API, same process setup), or
 * through a Pool to a proxy's URL. Prints one JSON line: requests, seconds, CPU µs, p50/p99 µs.
 *
 * `node bench/proxy/client.ts <mode> <target-port> <seconds> <concurrency>` (built packages; Node strips the types)
 * with mode `pool` | `mesh` | `url`, or `ab`: Pool and MeshAgent in one process, alternating
 * 100 ms slices for `seconds` (A-B, then B-A), which cancels the machine's drift (the shared CI
 * machines vary by ±20 % from one run to the next) and prints both, their ratios over the whole
 * run, and the quartiles of the per-round ratios.
 */

import { Discovery, ManualSource } from '@weft/core';
import { MeshAgent } from '@weft/proxy';
import { type Dispatcher, Pool, request } from 'undici';
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

const dispatcher: Dispatcher = mode === 'mesh' ? meshAgent() : new Pool(`http://127.0.0.1:${port}`);
const mesh = mode === 'ab' ? meshAgent() : undefined;
const meshUrl = 'http://reviews/api/v1/reviews/1';
const url =
  mode === 'mesh'
    ? 'http://reviews/api/v1/reviews/1'
    : mode === 'url'
      ? `http://127.0.0.1:${port}/reviews/api/v1/reviews/1` // through a proxy that strips /reviews
      : `http://127.0.0.1:${port}/api/v1/reviews/1`;

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

if (mesh !== undefined) {
  // A/B: alternate 100 ms slices of Pool and MeshAgent in this process, in A-B then B-A order
  // (so neither always follows the other and inherits its GC debt or warm caches). The machine
  // drifts on a scale of seconds; within one round of two slices it mostly does not, so each
  // round gives one ratio, and the median of those is robust to a slice that hit a major GC.
  await run(1000, false);
  await run(1000, false, mesh, meshUrl);
  const pool = { n: 0, cpu: 0, lat: [] as number[] };
  const viaMesh = { n: 0, cpu: 0, lat: [] as number[] };
  const roundRps: number[] = [];
  const roundCpu: number[] = [];
  const SLICE_MS = 100;
  const rounds = Math.max(10, Math.round((seconds * 1000) / (2 * SLICE_MS)));
  const slice = async (acc: typeof pool, d: Dispatcher, target: string) => {
    const c0 = process.cpuUsage();
    const r = await run(SLICE_MS, true, d, target);
    const c = process.cpuUsage(c0);
    acc.n += r.n;
    acc.cpu += c.user + c.system;
    acc.lat.push(...r.lat);
    return { n: r.n, cpuPerRequest: (c.user + c.system) / r.n };
  };
  for (let i = 0; i < rounds; i++) {
    let p: { n: number; cpuPerRequest: number };
    let m: { n: number; cpuPerRequest: number };
    if (i % 2 === 0) {
      p = await slice(pool, dispatcher, url);
      m = await slice(viaMesh, mesh, meshUrl);
    } else {
      m = await slice(viaMesh, mesh, meshUrl);
      p = await slice(pool, dispatcher, url);
    }
    roundRps.push(m.n / p.n);
    roundCpu.push(m.cpuPerRequest / p.cpuPerRequest);
  }
  const p50 = (xs: number[]) => (xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN) * 1000;
  const quartiles = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] as number;
    return { q1: at(0.25), median: at(0.5), q3: at(0.75) };
  };
  const sec = (rounds * SLICE_MS) / 1000;
  process.stdout.write(
    `${JSON.stringify({
      mode,
      rounds,
      sliceMs: SLICE_MS,
      pool: { rps: pool.n / sec, cpuUsPerRequest: pool.cpu / pool.n, p50Us: p50(pool.lat) },
      mesh: { rps: viaMesh.n / sec, cpuUsPerRequest: viaMesh.cpu / viaMesh.n, p50Us: p50(viaMesh.lat) },
      rpsRatio: viaMesh.n / pool.n,
      cpuRatio: viaMesh.cpu / viaMesh.n / (pool.cpu / pool.n),
      roundRpsRatio: quartiles(roundRps),
      roundCpuRatio: quartiles(roundCpu),
    })}\n`,
  );
  process.exit(0);
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
