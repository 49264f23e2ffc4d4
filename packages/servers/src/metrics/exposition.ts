/**
 * The Prometheus text exposition format (version 0.0.4), rendered by hand: the servers' few
 * families do not need prom-client (~20 MB of resident memory and a label lookup per
 * observation), and the sidecar's proxy metrics are rendered the same way (`MeshMetrics.text`).
 */

/** The content type of the text format. */
export const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';

/** Latency buckets in seconds (0.5 ms to 10 s): the proxy's, so dashboards compare like with like. */
export const SECONDS_BUCKETS: readonly number[] = Object.freeze([
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
]);

/** One series of a family: `name` only for a histogram's `_bucket`, `_sum` and `_count`. */
export interface Sample {
  readonly labels: Readonly<Record<string, string | number>>;
  readonly value: number;
  readonly name?: string;
}

/** A metric family: its name, help, type and series. */
export interface MetricFamily {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  readonly samples: readonly Sample[];
}

/** Observations of a histogram over {@link SECONDS_BUCKETS}: the hot path bumps plain numbers. */
export class Histogram {
  /** Per-bucket (not cumulative) counts; the last one is `+Inf`. */
  readonly buckets = new Float64Array(SECONDS_BUCKETS.length + 1);
  sum = 0;
  count = 0;

  observe(seconds: number): void {
    let i = 0;
    while (i < SECONDS_BUCKETS.length && seconds > (SECONDS_BUCKETS[i] as number)) i++;
    this.buckets[i] = (this.buckets[i] ?? 0) + 1;
    this.sum += seconds;
    this.count++;
  }

  /** The series of `name` with `labels`: cumulative buckets, `_sum` and `_count`. */
  samples(name: string, labels: Readonly<Record<string, string | number>>): Sample[] {
    const out: Sample[] = [];
    let cumulative = 0;
    for (let i = 0; i <= SECONDS_BUCKETS.length; i++) {
      cumulative += this.buckets[i] ?? 0;
      const le = i < SECONDS_BUCKETS.length ? String(SECONDS_BUCKETS[i]) : '+Inf';
      out.push({ name: `${name}_bucket`, labels: { ...labels, le }, value: cumulative });
    }
    out.push({ name: `${name}_sum`, labels, value: this.sum });
    out.push({ name: `${name}_count`, labels, value: this.count });
    return out;
  }
}

const escapeHelp = (text: string): string => text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
const escapeLabel = (value: string | number): string => escapeHelp(String(value)).replace(/"/g, '\\"');

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(v);
}

/** Renders `families` in the text format; a family without series still gets its HELP and TYPE. */
export function renderFamilies(families: Iterable<MetricFamily>): string {
  let out = '';
  for (const f of families) {
    out += `# HELP ${f.name} ${escapeHelp(f.help)}\n# TYPE ${f.name} ${f.type}\n`;
    for (const s of f.samples) {
      let labels = '';
      for (const k in s.labels) labels += `${labels === '' ? '' : ','}${k}="${escapeLabel(s.labels[k] as string)}"`;
      out += `${s.name ?? f.name}${labels === '' ? '' : `{${labels}}`} ${formatValue(s.value)}\n`;
    }
  }
  return out;
}

/** `process_*` families, as prom-client's default metrics name them: CPU, memory, start time. */
export function processFamilies(): MetricFamily[] {
  const cpu = process.cpuUsage();
  return [
    {
      name: 'process_cpu_seconds_total',
      help: 'Total user and system CPU time spent, seconds.',
      type: 'counter',
      samples: [{ labels: {}, value: (cpu.user + cpu.system) / 1e6 }],
    },
    {
      name: 'process_resident_memory_bytes',
      help: 'Resident memory size, bytes.',
      type: 'gauge',
      samples: [{ labels: {}, value: process.memoryUsage.rss() }],
    },
    {
      name: 'process_start_time_seconds',
      help: 'Start time of the process since the Unix epoch, seconds.',
      type: 'gauge',
      samples: [{ labels: {}, value: Math.round(Date.now() / 1000 - process.uptime()) }],
    },
  ];
}
