import { EXIT, OpsError } from './errors.js';
import { parsePrometheus, type Sample } from './prometheus.js';

/**
 * One service's calls as the proxies count them (cumulative since each proxy started), from
 * `weft_requests_total{service,code}` and the `weft_request_duration_seconds` histogram.
 */
export interface CallCounts {
  readonly requests: number;
  readonly errors: number;
  /** Cumulative bucket counts by upper bound in seconds (`+Inf` last), as the histogram has them. */
  readonly buckets: ReadonlyMap<number, number>;
}

/** What a watch window saw: the difference of two {@link CallCounts}. */
export interface WindowStats {
  readonly requests: number;
  readonly errors: number;
  /** 5xx / requests; 0 without requests. */
  readonly errorRate: number;
  /** Seconds; undefined without requests. */
  readonly p50: number | undefined;
  readonly p99: number | undefined;
}

/** A 5xx is the service failing; a 4xx is the caller's mistake and no reason to abort a canary. */
const isError = (code: string | undefined): boolean => code !== undefined && /^5\d\d$/.test(code);

/**
 * Sums `service`'s counts over the samples of every proxy scraped: all its calls, or with
 * `backend` (a rule backend's sorted tags, `v2` or `version=v2`) only the calls a rule routed to
 * that backend — the canary's own numbers.
 */
export function callCounts(samples: readonly Sample[], service: string, backend?: string): CallCounts {
  const prefix = backend === undefined ? 'weft_' : 'weft_backend_';
  const total = `${prefix}requests_total`;
  const bucket = `${prefix}request_duration_seconds_bucket`;
  let requests = 0;
  let errors = 0;
  const buckets = new Map<number, number>();
  for (const s of samples) {
    if (s.labels.service !== service || (backend !== undefined && s.labels.backend !== backend)) continue;
    if (s.name === total) {
      requests += s.value;
      if (isError(s.labels.code)) errors += s.value;
    } else if (s.name === bucket && s.labels.le !== undefined) {
      const le = s.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(s.labels.le);
      buckets.set(le, (buckets.get(le) ?? 0) + s.value);
    }
  }
  return { requests, errors, buckets };
}

/**
 * The quantile `q` of a cumulative histogram, as Prometheus's `histogram_quantile` estimates it:
 * linear within the bucket the rank falls in; in the `+Inf` bucket, the highest finite bound.
 */
export function histogramQuantile(q: number, buckets: ReadonlyMap<number, number>): number | undefined {
  const sorted = [...buckets].sort(([a], [b]) => a - b);
  const total = sorted[sorted.length - 1]?.[1] ?? 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const [le, cumulative] of sorted) {
    if (cumulative >= rank) {
      if (le === Number.POSITIVE_INFINITY) return lower;
      const inBucket = cumulative - below;
      return inBucket <= 0 ? le : lower + ((le - lower) * (rank - below)) / inBucket;
    }
    lower = le;
    below = cumulative;
  }
  return lower;
}

/**
 * What happened between two scrapes. A proxy that restarted meanwhile has counters lower than
 * before: its difference is negative and clamped to 0, so the window under-counts rather than
 * reporting nonsense.
 */
export function windowStats(before: CallCounts, after: CallCounts): WindowStats {
  const requests = Math.max(0, after.requests - before.requests);
  const errors = Math.min(requests, Math.max(0, after.errors - before.errors));
  const delta = new Map<number, number>();
  for (const [le, n] of after.buckets) delta.set(le, Math.max(0, n - (before.buckets.get(le) ?? 0)));
  return {
    requests,
    errors,
    errorRate: requests === 0 ? 0 : errors / requests,
    p50: requests === 0 ? undefined : histogramQuantile(0.5, delta),
    p99: requests === 0 ? undefined : histogramQuantile(0.99, delta),
  };
}

const SCRAPE_TIMEOUT_MS = 5000;

/** What one scrape of every proxy saw of a transfer: the service's calls, and the canary backend's. */
export interface TransferCounts {
  readonly all: CallCounts;
  readonly canary: CallCounts;
  /** Some proxy exposes per-backend series (older proxies count per service only). */
  readonly perBackend: boolean;
}

/**
 * Scrapes every proxy's `/metrics` and sums `service`'s counts, and those of the backend labelled
 * `canary`; a proxy that cannot be read fails the watch (exit 1).
 */
export async function scrapeCalls(urls: readonly string[], service: string, canary: string): Promise<TransferCounts> {
  const texts = await Promise.all(
    urls.map(async (url) => {
      let response: Response;
      try {
        response = await fetch(url, { signal: AbortSignal.timeout(SCRAPE_TIMEOUT_MS) });
      } catch (err) {
        const cause = (err as { cause?: { code?: unknown } }).cause;
        throw new OpsError(
          `cannot read the metrics at ${url} (${typeof cause?.code === 'string' ? cause.code : err instanceof Error ? err.message : String(err)}): is the sidecar's admin listener there? The transfer was left as it is`,
          EXIT.runtime,
        );
      }
      const text = await response.text();
      if (!response.ok)
        throw new OpsError(
          `the metrics at ${url} answered ${response.status}: give a sidecar admin /metrics URL. The transfer was left as it is`,
          EXIT.runtime,
        );
      return text;
    }),
  );
  const samples = texts.flatMap((t) => parsePrometheus(t));
  return {
    all: callCounts(samples, service),
    canary: callCounts(samples, service, canary),
    perBackend: samples.some((s) => s.name.startsWith('weft_backend_')),
  };
}
