import { setTimeout as sleep } from 'node:timers/promises';
import { formatDuration } from '../../config/duration.js';
import { type CallCounts, scrapeCalls, type WindowStats, windowStats } from './canary-metrics.js';
import { abortTransfer, currentShare, stepTransfer } from './canary-step.js';
import type { OpContext } from './command.js';
import { EXIT } from './errors.js';

/** How `traffic-step --watch` steps, and when it gives up on the canary. */
export interface WatchPlan {
  readonly service: string;
  readonly metricsUrls: readonly string[];
  readonly intervalMs: number;
  /** The share to reach, percent (100: complete the transfer). */
  readonly target: number;
  /** Points per step, or undefined to split the way to `target` into `steps` steps. */
  readonly stepSize: number | undefined;
  readonly steps: number | undefined;
  /** A fraction, 0..1. */
  readonly maxErrorRate: number | undefined;
  /** Seconds. */
  readonly maxP99: number | undefined;
}

const ms = (seconds: number | undefined): string =>
  seconds === undefined ? '-' : `${Math.round(seconds * 10_000) / 10}ms`;
const pct = (fraction: number): string => `${Math.round(fraction * 1000) / 10}%`;

/** The threshold the window passed, said for the abort message; undefined when none. */
function breach(stats: WindowStats, plan: WatchPlan): string | undefined {
  if (plan.maxErrorRate !== undefined && stats.requests > 0 && stats.errorRate > plan.maxErrorRate)
    return `error rate ${pct(stats.errorRate)} > --max-error-rate ${pct(plan.maxErrorRate)}`;
  if (plan.maxP99 !== undefined && stats.p99 !== undefined && stats.p99 > plan.maxP99)
    return `p99 ${ms(stats.p99)} > --max-p99 ${ms(plan.maxP99)}`;
  return undefined;
}

/**
 * Watches the canary for an interval, then steps, until the target share: each window's calls to
 * the service through the proxies (their `/metrics` read before and after, so the numbers are of
 * that window only) are printed, and a window past a threshold aborts the transfer — all traffic
 * back to the default version — and resolves with exit 5. The proxies' metrics are per
 * destination service, not per version: a window shows both versions' calls together, so a
 * failing canary at 10 % shows as about a tenth of its error rate; set the threshold for that.
 */
export async function watchTransfer(op: OpContext, plan: WatchPlan): Promise<number> {
  const { service } = plan;
  let share = await currentShare(op, service);
  const size = plan.stepSize ?? Math.max(1, Math.ceil((plan.target - share) / (plan.steps ?? 1)));
  const proxies = `${plan.metricsUrls.length} prox${plan.metricsUrls.length === 1 ? 'y' : 'ies'}`;
  let before: CallCounts = await scrapeCalls(plan.metricsUrls, service);
  while (share < plan.target) {
    await sleep(plan.intervalMs);
    const after = await scrapeCalls(plan.metricsUrls, service);
    const stats = windowStats(before, after);
    before = after;
    op.out(
      `${service} at ${share}% — last ${formatDuration(plan.intervalMs)} through ${proxies}: ${stats.requests} requests, ${stats.errors} 5xx (error rate ${pct(stats.errorRate)}), p50 ${ms(stats.p50)}, p99 ${ms(stats.p99)}\n`,
    );
    const passed = breach(stats, plan);
    if (passed !== undefined) {
      await abortTransfer(op, service, ` (${passed})`);
      return EXIT.aborted;
    }
    if (stats.requests === 0) op.note(`no calls to ${service} seen through ${proxies} in this window: stepping blind`);
    share = Math.min(plan.target, share + size);
    await stepTransfer(op, service, share);
  }
  return EXIT.ok;
}
