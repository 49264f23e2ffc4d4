/**
 * Measures the cost of one call of `op` in nanoseconds: warms up, then takes `samples` timed
 * batches and reports the median batch (robust against GC pauses and the noisy shared cores).
 * `op` gets the iteration number so it can vary its input without allocating.
 */
export function nsPerOp(op: (i: number) => unknown, options: { batch?: number; samples?: number } = {}): NsPerOp {
  const batch = options.batch ?? 100_000;
  const samples = options.samples ?? 15;
  let sink: unknown;
  for (let i = 0; i < batch; i++) sink = op(i); // warm-up: let the JIT optimise
  const perOp: number[] = [];
  for (let s = 0; s < samples; s++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) sink = op(i);
    perOp.push(Number(process.hrtime.bigint() - start) / batch);
  }
  blackhole(sink);
  perOp.sort((a, b) => a - b);
  return { median: perOp[perOp.length >> 1] ?? Number.NaN, min: perOp[0] ?? Number.NaN, samples };
}

export interface NsPerOp {
  median: number;
  min: number;
  samples: number;
}

let hole: unknown;
/** Keeps a value alive so the optimiser cannot delete the work that produced it. */
export function blackhole(v: unknown): void {
  hole = v;
  if (hole === Symbol.for('never')) console.log(hole);
}

/** The p-th percentile (0..100) of `values` (sorted in place). */
export function percentile(values: number[], p: number): number {
  values.sort((a, b) => a - b);
  if (values.length === 0) return Number.NaN;
  const idx = Math.min(values.length - 1, Math.max(0, Math.ceil((p / 100) * values.length) - 1));
  return values[idx] as number;
}

/** Forces a full GC when node runs with --expose-gc; returns whether it could. */
export function gc(): boolean {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) g();
  return g !== undefined;
}
