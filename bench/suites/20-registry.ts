/**
 * The in-memory registry: registration and renewal throughput at 100 000 instances, the heap
 * those instances cost, and how fast one change reaches 1 000 watchers.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { MemoryRegistry, type RegistrySnapshot } from '../../packages/core/src/registry/index.js';
import type { Suite } from '../core.js';
import { gc, percentile } from '../lib/timing.js';

const N = 100_000;
const WATCHERS = 1000;
const CHANGES = 300;

/** The i-th of N distinct instances, spread over 100 services. */
function registration(i: number) {
  return {
    service: `svc-${i % 100}`,
    endpoint: { type: 'http' as const, value: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:8080` },
    tags: ['version=v1'],
  };
}

/**
 * A full GC, with or without `--expose-gc`: without the flag, V8 can still be asked to expose
 * `gc` to a fresh context, which then collects the whole heap all the same.
 */
function fullGc(): void {
  if (gc()) return;
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

async function fillRegistry(registry: MemoryRegistry): Promise<string[]> {
  const ids: string[] = new Array(N);
  for (let i = 0; i < N; i++) ids[i] = (await registry.register(registration(i))).id;
  return ids;
}

export const suite: Suite = {
  name: 'registry',
  async run(report) {
    // Registration (validation, id hashing, indexing) and heap, on one registry.
    fullGc();
    const heapBefore = process.memoryUsage().heapUsed;
    const registry = new MemoryRegistry();
    const start = performance.now();
    const ids = await fillRegistry(registry);
    const registerS = (performance.now() - start) / 1000;
    fullGc();
    // The ids array is the bench's own (800 KB of pointers to strings the registry holds anyway).
    const heapMb = (process.memoryUsage().heapUsed - heapBefore - N * 8) / (1024 * 1024);
    report.add({ name: `registry_register_per_s.${N}`, value: N / registerS, unit: '1/s' });
    report.add({ name: `registry_heap_mb.${N}`, value: heapMb, unit: 'MB', target: '<= 150' });

    // Renewal, awaited one at a time (the slowest way to call it), round-robin over every instance.
    const rounds = 20;
    const perRound = 200_000;
    const rates: number[] = [];
    let k = 0;
    for (let r = 0; r < rounds + 2; r++) {
      const t0 = performance.now();
      for (let i = 0; i < perRound; i++) {
        await registry.renew(ids[k] as string);
        k = k + 1 === N ? 0 : k + 1;
      }
      // The first two rounds warm the JIT up.
      if (r >= 2) rates.push(perRound / ((performance.now() - t0) / 1000));
    }
    report.add({
      name: `registry_renewals_per_s.${N}`,
      value: percentile(rates, 50),
      unit: '1/s',
      target: '>= 500000',
      min: rates[0],
      max: rates[rates.length - 1],
      samples: rates.length,
    });
    await registry.close();

    // Fan-out: one change to a service, until the last of 1 000 watchers has its snapshot.
    const fanout = new MemoryRegistry();
    const instances = [];
    for (let i = 0; i < 10; i++) instances.push(await fanout.register(registration(i * 100)));
    const target = instances[0];
    if (target === undefined) throw new Error('no instance');
    // Every change reaches every (synchronous, hence never coalesced) listener exactly once.
    let remaining = Number.POSITIVE_INFINITY;
    let lastAt = 0;
    const listener = (_: RegistrySnapshot): void => {
      if (--remaining === 0) lastAt = performance.now();
    };
    for (let i = 0; i < WATCHERS; i++) fanout.watch({ service: target.service }, listener);
    await new Promise((r) => setImmediate(r)); // the first snapshots
    const latencies: number[] = [];
    for (let c = 0; c < CHANGES + 20; c++) {
      remaining = WATCHERS;
      const t0 = performance.now();
      await fanout.setStatus(target.id, c % 2 === 0 ? 'STARTING' : 'UP');
      // Deliveries run in a microtask; a macrotask boundary guarantees they are all done.
      await new Promise((r) => setImmediate(r));
      if (remaining !== 0) throw new Error(`${remaining} watchers were not notified`);
      if (c >= 20) latencies.push(lastAt - t0);
    }
    await fanout.close();
    report.add({
      name: `watch_fanout_p50_ms.${WATCHERS}`,
      value: percentile(latencies, 50),
      unit: 'ms',
      samples: latencies.length,
    });
    report.add({
      name: `watch_fanout_p99_ms.${WATCHERS}`,
      value: percentile(latencies, 99),
      unit: 'ms',
      target: '<= 5',
      samples: latencies.length,
    });
  },
};
