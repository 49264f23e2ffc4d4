/** Latency buckets in seconds (Envoy-like, 0.5 ms to 10 s). */
export const LATENCY_BUCKETS: readonly number[] = Object.freeze([
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
]);

/** Calls by final status and their durations: what `weft_*requests_total` and the histograms count. */
export class CallCounters {
  readonly byStatus = new Map<number, number>();
  readonly buckets = new Float64Array(LATENCY_BUCKETS.length + 1);
  sum = 0;
  count = 0;

  /** Records one finished call: the per-request hot path (no allocation after a status is first seen). */
  record(status: number, durationSec: number): void {
    this.byStatus.set(status, (this.byStatus.get(status) ?? 0) + 1);
    let i = 0;
    while (i < LATENCY_BUCKETS.length && durationSec > (LATENCY_BUCKETS[i] as number)) i++;
    this.buckets[i] = (this.buckets[i] ?? 0) + 1;
    this.sum += durationSec;
    this.count++;
  }
}

/** The counters of one service; `call` is the per-request hot path (no lookups, no allocation). */
export class ServiceCounters extends CallCounters {
  retries = 0;
  ejections = 0;
  ejected = 0;
  /** Mirrored requests that got a non-5xx response. */
  mirrored = 0;
  /** Mirrored requests that failed (no instance, connect error, reset, timeout, 5xx). */
  mirrorFailures = 0;
  /** Requests drawn for mirroring but not mirrored (body not replayable, too many mirrors in flight). */
  mirrorsSkipped = 0;
  /** Calls a rule backend's `rate_limit` refused (429). */
  rateLimitedByRule = 0;
  /** Calls the proxy-wide `rateLimit` refused (429). */
  rateLimitedByProxy = 0;
  /** Calls an authorization policy refused (403). */
  denied = 0;
  readonly breakers = new Map<string, number>();
  /**
   * Calls per rule backend, by the backend's tags (`v2`, `version=v2`): what a canary's error
   * rate and latency are read from. Only calls a rule routed to a tagged backend are counted
   * here; every call is counted in the service's own series too.
   */
  readonly backends = new Map<string, CallCounters>();

  /** Records one finished call. */
  call(status: number, durationSec: number, retries: number): void {
    this.record(status, durationSec);
    if (retries > 0) this.retries += retries;
  }

  /** Records a call a rate limit refused: a rule backend's (`rule`) or the proxy-wide one (`proxy`). */
  rateLimit(limit: 'rule' | 'proxy'): void {
    if (limit === 'rule') this.rateLimitedByRule++;
    else this.rateLimitedByProxy++;
  }

  /** The counters of the backend labelled `backend` (keep the handle: recording then needs no lookup). */
  backend(backend: string): CallCounters {
    let c = this.backends.get(backend);
    if (c === undefined) {
      c = new CallCounters();
      this.backends.set(backend, c);
    }
    return c;
  }
}

/** The `backend` label of a rule backend's tag set: its tags, sorted, comma-separated. */
export function backendLabel(tags: readonly string[]): string {
  return tags.length === 1 ? (tags[0] as string) : [...tags].sort().join(',');
}

/** The series of a duration histogram: cumulative buckets, sum and count, each with `labels`. */
function histogram(name: string, labels: Record<string, string>, c: CallCounters): MetricValue[] {
  const out: MetricValue[] = [];
  let cumulative = 0;
  for (let i = 0; i <= LATENCY_BUCKETS.length; i++) {
    cumulative += c.buckets[i] ?? 0;
    out.push({
      metricName: `${name}_bucket`,
      labels: { ...labels, le: i < LATENCY_BUCKETS.length ? (LATENCY_BUCKETS[i] as number) : '+Inf' },
      value: cumulative,
    });
  }
  out.push({ metricName: `${name}_sum`, labels, value: c.sum });
  out.push({ metricName: `${name}_count`, labels, value: c.count });
  return out;
}

const BREAKER_VALUE = { closed: 0, 'half-open': 1, open: 2, isolated: 2 } as const;

interface MetricValue {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

/** One metric family: what prom-client's `registerMetric` takes, and what {@link MeshMetrics.text} renders. */
interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  values: () => MetricValue[];
}

/**
 * A prom-client `Registry`, described by what Weft calls: prom-client is an optional peer
 * dependency, so its types must not be needed to compile against @weft/proxy (a declaration
 * naming it would break a build without it under `skipLibCheck: false`). A prom-client
 * `Registry` is one.
 */
export interface MetricsRegistry {
  /** Given prom-client's custom-metric shape: `name`, `help`, `type`, `aggregator`, `get()`. */
  registerMetric(metric: object): void;
  /** Every metric of the registry in the text format (the sidecar's `/metrics` serves it). */
  metrics(): Promise<string>;
  /** The content type of {@link MetricsRegistry.metrics}. */
  readonly contentType: string;
}

/** The Prometheus text format's content type. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Escapes a HELP text: backslash and line feed (the text format's rules). */
function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** Escapes a label value: as HELP text, and double quotes too. */
function escapeLabel(v: string | number): string {
  return escapeHelp(String(v)).replace(/"/g, '\\"');
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(v);
}

/**
 * Prometheus metrics of a mesh engine.
 *
 * Recording is the hot path, so it does not go through prom-client's label lookups: each call
 * bumps a few numbers in a per-service record, and the series are built only when scraped —
 * by {@link MeshMetrics.text} (the sidecar's `/metrics`, no prom-client loaded: it costs a
 * process ~20 MB of resident memory), or by a prom-client `Registry` passed in, where they sit
 * next to the application's own metrics. Metric names:
 * `weft_requests_total{service,code}`, `weft_request_duration_seconds{service}` (histogram),
 * `weft_backend_requests_total{service,backend,code}` and
 * `weft_backend_request_duration_seconds{service,backend}` (the calls a rule sent to a tagged
 * backend — a version — so a canary is seen apart from the rest; `backend` is its sorted tags),
 * `weft_retries_total{service}`, `weft_ejections_total{service}`, `weft_endpoints_ejected{service}`,
 * `weft_breaker_state{service,endpoint,backend}` (0 closed, 1 half-open, 2 open; `backend` is `shared`
 * or the rule backend with its own resilience settings),
 * `weft_mirror_requests_total{service,result}` (`ok`, `failed`, `skipped`),
 * `weft_rate_limited_total{service,limit}` (calls a rate limit refused; `limit` is `rule` or `proxy`),
 * `weft_authz_denied_total{service}` (calls an authorization policy refused).
 */
export class MeshMetrics {
  /** The prom-client registry the metrics were registered in, when one was given. */
  readonly registry: MetricsRegistry | undefined;
  private readonly services = new Map<string, ServiceCounters>();
  private readonly families: Family[] = [];

  constructor(registry?: MetricsRegistry) {
    this.registry = registry;
    const counterOf = (name: string, help: string, pick: (c: ServiceCounters) => number) =>
      this.family(name, help, 'counter', () => this.each((svc, c) => [{ labels: { service: svc }, value: pick(c) }]));
    this.family(
      'weft_requests_total',
      'Calls through the mesh by destination service and final status.',
      'counter',
      () => this.each((svc, c) => [...c.byStatus].map(([code, value]) => ({ labels: { service: svc, code }, value }))),
    );
    this.family('weft_request_duration_seconds', 'Call duration (to the end of the response).', 'histogram', () =>
      this.each((svc, c) => histogram('weft_request_duration_seconds', { service: svc }, c)),
    );
    this.family(
      'weft_backend_requests_total',
      'Calls a rule routed to a tagged backend (a version), by destination service, backend tags and final status.',
      'counter',
      () =>
        this.each((svc, c) =>
          [...c.backends].flatMap(([backend, b]) =>
            [...b.byStatus].map(([code, value]) => ({ labels: { service: svc, backend, code }, value })),
          ),
        ),
    );
    this.family(
      'weft_backend_request_duration_seconds',
      'Duration of the calls a rule routed to a tagged backend (to the end of the response).',
      'histogram',
      () =>
        this.each((svc, c) =>
          [...c.backends].flatMap(([backend, b]) =>
            histogram('weft_backend_request_duration_seconds', { service: svc, backend }, b),
          ),
        ),
    );
    counterOf('weft_retries_total', 'Retries (attempts after the first, transparent ones included).', (c) => c.retries);
    counterOf('weft_ejections_total', 'Outlier ejections of an endpoint.', (c) => c.ejections);
    this.family('weft_endpoints_ejected', 'Endpoints currently ejected by outlier detection.', 'gauge', () =>
      this.each((svc, c) => [{ labels: { service: svc }, value: c.ejected }]),
    );
    this.family(
      'weft_mirror_requests_total',
      'Mirrored (shadow) requests by result: ok, failed (no instance, error or 5xx), skipped (body not replayable, too many in flight).',
      'counter',
      () =>
        this.each((svc, c) =>
          c.mirrored + c.mirrorFailures + c.mirrorsSkipped === 0
            ? []
            : [
                { labels: { service: svc, result: 'ok' }, value: c.mirrored },
                { labels: { service: svc, result: 'failed' }, value: c.mirrorFailures },
                { labels: { service: svc, result: 'skipped' }, value: c.mirrorsSkipped },
              ],
        ),
    );
    this.family(
      'weft_rate_limited_total',
      "Calls refused by a rate limit (answered 429), by destination service and limit: rule (a route backend's rate_limit) or proxy (the proxy-wide rateLimit).",
      'counter',
      () =>
        this.each((svc, c) =>
          c.rateLimitedByRule + c.rateLimitedByProxy === 0
            ? []
            : [
                { labels: { service: svc, limit: 'rule' }, value: c.rateLimitedByRule },
                { labels: { service: svc, limit: 'proxy' }, value: c.rateLimitedByProxy },
              ],
        ),
    );
    this.family(
      'weft_authz_denied_total',
      'Calls refused by an authorization policy or the namespace default (answered 403), by destination service.',
      'counter',
      () => this.each((svc, c) => (c.denied === 0 ? [] : [{ labels: { service: svc }, value: c.denied }])),
    );
    this.family(
      'weft_breaker_state',
      'Circuit breaker state per endpoint: 0 closed, 1 half-open, 2 open.',
      'gauge',
      () =>
        this.each((svc, c) =>
          [...c.breakers].map(([key, value]) => {
            const cut = key.indexOf('\n');
            return { labels: { service: svc, endpoint: key.slice(0, cut), backend: key.slice(cut + 1) }, value };
          }),
        ),
    );
  }

  private family(name: string, help: string, type: Family['type'], values: () => MetricValue[]): void {
    this.families.push({ name, help, type, values });
    // prom-client takes any object with this shape as a metric (its "custom metric" protocol).
    const metric = {
      name,
      help,
      type,
      aggregator: 'sum',
      get: () => Promise.resolve({ name, help, type, values: values(), aggregator: 'sum' }),
    };
    this.registry?.registerMetric(metric);
  }

  /** Every series in the Prometheus text exposition format (version 0.0.4). */
  text(): string {
    let out = '';
    for (const f of this.families) {
      out += `# HELP ${f.name} ${escapeHelp(f.help)}\n# TYPE ${f.name} ${f.type}\n`;
      for (const v of f.values()) {
        let labels = '';
        for (const k in v.labels)
          labels += `${labels === '' ? '' : ','}${k}="${escapeLabel(v.labels[k] as string | number)}"`;
        out += `${v.metricName ?? f.name}${labels === '' ? '' : `{${labels}}`} ${formatValue(v.value)}\n`;
      }
    }
    return out;
  }

  private each(fn: (service: string, c: ServiceCounters) => MetricValue[]): MetricValue[] {
    const out: MetricValue[] = [];
    for (const [svc, c] of this.services) out.push(...fn(svc, c));
    return out;
  }

  /** The counters of `service` (keep the handle to record without a lookup). */
  counters(service: string): ServiceCounters {
    let c = this.services.get(service);
    if (c === undefined) {
      c = new ServiceCounters();
      this.services.set(service, c);
    }
    return c;
  }

  /** Records one finished call. */
  call(service: string, status: number, durationSec: number, retries: number): void {
    this.counters(service).call(status, durationSec, retries);
  }

  /** Records an ejection (`ejected` true) or a return to rotation. */
  ejection(service: string, ejected: boolean): void {
    const c = this.counters(service);
    if (ejected) {
      c.ejections++;
      c.ejected++;
    } else c.ejected = Math.max(0, c.ejected - 1);
  }

  /**
   * Records a breaker state change. `backend` tells breakers of one endpoint apart: `shared` for
   * the agent's settings, or the key of a rule backend with its own resilience settings.
   */
  breaker(service: string, endpoint: string, state: keyof typeof BREAKER_VALUE, backend = 'shared'): void {
    this.counters(service).breakers.set(`${endpoint}\n${backend}`, BREAKER_VALUE[state]);
  }

  /** Forgets an endpoint's breaker series (it left discovery, or its backend was freed). */
  forgetEndpoint(service: string, endpoint: string, backend = 'shared'): void {
    this.services.get(service)?.breakers.delete(`${endpoint}\n${backend}`);
  }

  /** A snapshot for tests and `/debug`: calls by status, retries, ejections, mirrors per service. */
  snapshot(): Record<string, ServiceSnapshot> {
    const out: Record<string, ServiceSnapshot> = {};
    for (const [svc, c] of this.services)
      out[svc] = {
        calls: Object.fromEntries([...c.byStatus].map(([k, v]) => [String(k), v])),
        retries: c.retries,
        ejections: c.ejections,
        ejected: c.ejected,
        mirrors: { ok: c.mirrored, failed: c.mirrorFailures, skipped: c.mirrorsSkipped },
      };
    return out;
  }
}

/** One service in {@link MeshMetrics.snapshot}. */
export interface ServiceSnapshot {
  calls: Record<string, number>;
  retries: number;
  ejections: number;
  ejected: number;
  /** Mirrored requests: answered (non-5xx), failed, skipped. */
  mirrors: { ok: number; failed: number; skipped: number };
}
