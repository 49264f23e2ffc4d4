import { setTimeout as sleep } from 'node:timers/promises';
import { formatDuration } from '../../config/duration.js';
import { scrapeCalls, type TransferCounts, type WindowStats, windowStats } from './canary-metrics.js';
import { abortTransfer, canaryOf, currentShare, stepTransfer } from './canary-step.js';
import type { OpContext } from './command.js';
import { EXIT } from './errors.js';
import { backendLabel, tagsToVersion } from './versions.js';

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

/** One window's line: the canary's numbers, and the whole service's for context. */
function describeWindow(label: string, stats: WindowStats): string {
  return `${label}: ${stats.requests} requests, ${stats.errors} 5xx (error rate ${pct(stats.errorRate)}), p50 ${ms(stats.p50)}, p99 ${ms(stats.p99)}`;
}

/**
 * Watches the canary for an interval, then steps, until the target share: each window's calls
 * through the proxies (their `/metrics` read before and after, so the numbers are of that window
 * only) are printed, and a window past a threshold aborts the transfer — all traffic back to the
 * default version — and resolves with exit 5. Thresholds apply to the canary's own calls
 * (`weft_backend_*{backend="<canary tags>"}`), so a canary failing at 10 % shows its real error
 * rate; against proxies too old to count per backend, to the service's calls (said once).
 * Ctrl-C (SIGINT) during a window stops watching and leaves the transfer where it is, saying how
 * to go on; the exit code is 130, as a shell reports an interrupted command.
 */
export async function watchTransfer(op: OpContext, plan: WatchPlan): Promise<number> {
  const { service } = plan;
  const canaryTags = await canaryOf(op, service);
  const label = backendLabel(canaryTags);
  const version = tagsToVersion(canaryTags);
  let share = await currentShare(op, service);
  const size = plan.stepSize ?? Math.max(1, Math.ceil((plan.target - share) / (plan.steps ?? 1)));
  const proxies = `${plan.metricsUrls.length} prox${plan.metricsUrls.length === 1 ? 'y' : 'ies'}`;
  const interrupted = new AbortController();
  const onInterrupt = (): void => interrupted.abort();
  process.once('SIGINT', onInterrupt);
  try {
    let before: TransferCounts = await scrapeCalls(plan.metricsUrls, service, label);
    let warned = false;
    while (share < plan.target) {
      try {
        await sleep(plan.intervalMs, undefined, { signal: interrupted.signal });
      } catch {
        op.note(
          `interrupted: the transfer of ${service} stays at ${share}% to ${version}; go on with weft traffic-step ${service}, or revert with weft traffic-abort ${service}`,
        );
        return EXIT.interrupted;
      }
      const after = await scrapeCalls(plan.metricsUrls, service, label);
      const all = windowStats(before.all, after.all);
      const canary = windowStats(before.canary, after.canary);
      before = after;
      const judged = after.perBackend ? canary : all;
      if (!after.perBackend && !warned) {
        warned = true;
        op.note(`the proxies count calls per service only (no weft_backend_* series): judging ${service} as a whole`);
      }
      op.out(
        `${service} at ${share}% — last ${formatDuration(plan.intervalMs)} through ${proxies}: ${describeWindow(`canary ${version}`, canary)}; ${describeWindow('all', all)}\n`,
      );
      const passed = breach(judged, plan);
      if (passed !== undefined) {
        await abortTransfer(op, service, ` (${version} ${passed})`);
        return EXIT.aborted;
      }
      if (judged.requests === 0)
        op.note(`no calls to ${service} ${version} seen through ${proxies} in this window: stepping blind`);
      share = Math.min(plan.target, share + size);
      await stepTransfer(op, service, share);
    }
    return EXIT.ok;
  } finally {
    process.removeListener('SIGINT', onInterrupt);
  }
}
