/**
 * Resilience policy overhead (`npm run bench -- policies`).
 *
 * - `policy_overhead_ns` (headline, target ≤ 300): the bookkeeping a proxy does per request on
 *   the success path through the low-level hooks — retry budget `onRequest()`, breaker
 *   `tryAcquire()` + `release(token, 200)`, outlier `record(index, 200)` — on the system clock
 *   (the budget reads it once per 16 requests, amortised here), synchronous, no allocation. The
 *   parts are reported too (`policy_overhead_ns.budget|breaker|outlier`), with the cost of one
 *   `systemClock.now()` (`policy_overhead_ns.clock_now`) and an empty loop as baseline.
 * - `policy_execute_ns.*`: the `execute()` style, one awaited call of an async function through a
 *   policy or a `wrap(...)` composition, next to `policy_execute_ns.baseline_await` — a bare
 *   `await fn()` measured in the same run (again right before each case). Each carries
 *   `baseline_ns`, `overhead_ns` and `ratio`.
 */

import { systemClock } from '../../packages/core/src/clock/index.js';
import {
  Bulkhead,
  CircuitBreaker,
  OutlierDetector,
  type Policy,
  RetryPolicy,
  TimeoutPolicy,
  wrap,
} from '../../packages/core/src/resilience/index.js';
import type { Suite } from '../core.js';
import { blackhole, type NsPerOp, nsPerOp } from '../lib/timing.js';

const ENDPOINTS = 64;

/** Like `nsPerOp`, for an async operation awaited one at a time (the way a caller awaits a call). */
async function asyncNsPerOp(
  op: (i: number) => Promise<unknown>,
  options: { batch?: number; samples?: number } = {},
): Promise<NsPerOp> {
  const batch = options.batch ?? 20_000;
  const samples = options.samples ?? 11;
  let sink: unknown;
  for (let i = 0; i < batch; i++) sink = await op(i);
  const perOp: number[] = [];
  for (let s = 0; s < samples; s++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) sink = await op(i);
    perOp.push(Number(process.hrtime.bigint() - start) / batch);
  }
  blackhole(sink);
  perOp.sort((a, b) => a - b);
  return { median: perOp[perOp.length >> 1] ?? Number.NaN, min: perOp[0] ?? Number.NaN, samples };
}

const round = (v: number): number => Math.round(v * 10) / 10;

export const suite: Suite = {
  name: 'policies',
  async run(report) {
    // Thresholds high enough that the success path never trips anything; budgets shared per upstream.
    const retry = new RetryPolicy();
    const breaker = new CircuitBreaker();
    const target = { setEjected: (_i: number, _e: boolean): void => undefined };
    const outlier = new OutlierDetector(target, ENDPOINTS);

    const empty = nsPerOp((i) => i);
    const budget = nsPerOp(() => retry.onRequest());
    const breakerOnly = nsPerOp(() => {
      const t = breaker.tryAcquire();
      breaker.release(t, 200);
      return t;
    });
    const outlierOnly = nsPerOp((i) => outlier.record(i & (ENDPOINTS - 1), 200));
    // What the budget saves by reading the clock once per 16 requests.
    const clockNow = nsPerOp(() => systemClock.now());
    const all = nsPerOp((i) => {
      retry.onRequest();
      const t = breaker.tryAcquire();
      breaker.release(t, 200);
      outlier.record(i & (ENDPOINTS - 1), 200);
      return t;
    });
    const base = { baseline_empty_loop_ns: round(empty.median), min: round(all.min), samples: all.samples };
    report.add({ name: 'policy_overhead_ns', value: round(all.median), unit: 'ns', target: '<= 300', ...base });
    report.add({ name: 'policy_overhead_ns.budget', value: round(budget.median), unit: 'ns' });
    report.add({ name: 'policy_overhead_ns.breaker', value: round(breakerOnly.median), unit: 'ns' });
    report.add({ name: 'policy_overhead_ns.outlier', value: round(outlierOnly.median), unit: 'ns' });
    report.add({ name: 'policy_overhead_ns.clock_now', value: round(clockNow.median), unit: 'ns' });
    outlier.dispose();
    breaker.dispose();

    // execute() style. The function is a real async function so the baseline pays for one promise.
    const fn = async (): Promise<number> => 1;
    const clockless = (): { retry: RetryPolicy; breaker: CircuitBreaker } => ({
      retry: new RetryPolicy(),
      breaker: new CircuitBreaker(),
    });
    const a = clockless();
    const b = clockless();
    const c = clockless();
    const cases: [string, Policy][] = [
      ['retry', a.retry],
      ['breaker', a.breaker],
      ['bulkhead', new Bulkhead({ maxConcurrent: 1_000 })],
      ['timeout', new TimeoutPolicy({ timeoutMs: 10_000 })],
      ['wrap_retry_breaker', wrap(b.retry, b.breaker)],
      ['wrap_retry_breaker_timeout', wrap(c.retry, c.breaker, new TimeoutPolicy({ timeoutMs: 10_000, scope: 'try' }))],
    ];
    // The machines are noisy and drift during a run, so each case gets its own baseline, measured
    // right before it; the ratio is the figure that travels.
    const firstBaseline = await asyncNsPerOp(() => fn());
    report.add({
      name: 'policy_execute_ns.baseline_await',
      value: round(firstBaseline.median),
      unit: 'ns',
      min: round(firstBaseline.min),
    });
    for (const [name, policy] of cases) {
      const baseline = await asyncNsPerOp(() => fn());
      const r = await asyncNsPerOp(() => policy.execute(fn));
      report.add({
        name: `policy_execute_ns.${name}`,
        value: round(r.median),
        unit: 'ns',
        baseline_ns: round(baseline.median),
        overhead_ns: round(r.median - baseline.median),
        ratio: Math.round((r.median / baseline.median) * 100) / 100,
        min: round(r.min),
      });
    }
  },
};
