import { parseDuration } from '../../config/duration.js';
import { listFlag, stringFlag } from './common-flags.js';
import { UsageError } from './errors.js';
import type { FlagSpec } from './flags.js';
import type { WatchPlan } from './traffic-watch.js';

/** `traffic-step --watch` and its settings. */
export const WATCH_FLAGS: readonly FlagSpec[] = [
  {
    name: 'watch',
    type: 'boolean',
    description: 'Step repeatedly, watching the live error rate and latency between steps; abort on a threshold',
  },
  {
    name: 'metrics-url',
    type: 'string',
    multiple: true,
    placeholder: '<url>',
    description:
      "A proxy's Prometheus metrics: a sidecar's admin /metrics (http://127.0.0.1:8082/metrics); every proxy calling the service, summed",
  },
  {
    name: 'interval',
    type: 'string',
    placeholder: '<duration>',
    description: 'How long to watch before each step (default 30s)',
  },
  {
    name: 'steps',
    type: 'string',
    placeholder: '<n>',
    description: 'Reach --amount in n equal steps (default: 10 points a step)',
  },
  {
    name: 'max-error-rate',
    type: 'string',
    placeholder: '<rate>',
    description: 'Abort when the share of 5xx in a window is above it: 5% or 0.05 (default: no limit)',
  },
  {
    name: 'max-p99',
    type: 'string',
    placeholder: '<duration>',
    description: 'Abort when the 99th percentile latency of a window is above it: 500ms, 1s (default: no limit)',
  },
];

const WATCH_ONLY = WATCH_FLAGS.map((f) => f.name).filter((n) => n !== 'watch');

/** The first watch setting given, to refuse it without --watch. */
export const watchFlagGiven = (values: Readonly<Record<string, unknown>>): string | undefined =>
  WATCH_ONLY.find((n) => values[n] !== undefined);

function duration(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0)
    throw new UsageError(`--${flag} takes a duration with a unit: 500ms, 30s, 1m (got '${text}')`);
  return ms;
}

function rate(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const percent = text.endsWith('%');
  const n = Number(percent ? text.slice(0, -1) : text);
  const value = percent ? n / 100 : n;
  if (text.trim() === '' || !Number.isFinite(value) || value < 0 || value > 1)
    throw new UsageError(`--max-error-rate takes a percentage or a fraction: 5% or 0.05 (got '${text}')`);
  return value;
}

function count(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[1-9]\d*$/.test(text))
    throw new UsageError(`--steps takes a whole number of steps, 1 or more (got '${text}')`);
  return Number(text);
}

/** The watch's plan from the flags; `amount` is the share to reach. */
export function readWatchPlan(
  values: Readonly<Record<string, unknown>>,
  service: string,
  amount: number | undefined,
): WatchPlan {
  const metricsUrls = listFlag(values, 'metrics-url');
  if (metricsUrls.length === 0)
    throw new UsageError(
      "--watch needs the proxies' metrics: --metrics-url http://<sidecar>:8082/metrics (repeat it for each proxy calling the service)",
    );
  for (const url of metricsUrls)
    if (!URL.canParse(url)) throw new UsageError(`--metrics-url takes a URL (got '${url}')`);
  const maxP99 = duration(stringFlag(values, 'max-p99'), 'max-p99');
  return {
    service,
    metricsUrls,
    intervalMs: duration(stringFlag(values, 'interval'), 'interval') ?? 30_000,
    target: amount ?? 100,
    steps: count(stringFlag(values, 'steps')),
    stepSize: stringFlag(values, 'steps') === undefined ? 10 : undefined,
    maxErrorRate: rate(stringFlag(values, 'max-error-rate')),
    maxP99: maxP99 === undefined ? undefined : maxP99 / 1000,
  };
}
