import type { MetricFamily, Sample } from '../metrics/exposition.js';
import type { IngestedRecord } from './access-log-batch.js';
import { AccessLogRing, RING_CAPACITY } from './access-log-ring.js';
import { RECIPE_RUNS_KEPT, RecipeRuns } from './recipe-runs.js';

/** Options of {@link TelemetryHub}. */
export interface TelemetryHubOptions {
  /** Access-log records kept per namespace. Default 10 000. */
  readonly recordsPerNamespace?: number;
  /** Recipe runs kept per namespace. Default 50. */
  readonly runsPerNamespace?: number;
  /** Namespaces kept; beyond, the one written least recently is dropped (its watches end). Default 256. */
  readonly maxNamespaces?: number;
  /** Watchers of a namespace's records hear of new ones at most this often, ms. Default 250. */
  readonly notifyEveryMs?: number;
}

interface NamespaceTelemetry {
  readonly ring: AccessLogRing;
  readonly runs: RecipeRuns;
  ingested: number;
}

/**
 * What the controller keeps of the mesh's telemetry: per namespace, the access-log records the
 * sidecars and agents stream to it (a bounded ring) and the recipe runs' reports. **In memory
 * only, whatever the rules store**: telemetry is recent observation, not state — a restarted
 * replica starts empty and fills again within a batch interval, and each replica of an etcd
 * control plane holds what was sent to it (a sidecar sticks to one replica while it answers).
 */
export class TelemetryHub {
  private readonly spaces = new Map<string, NamespaceTelemetry>();
  private readonly dropped = { ingested: 0, evicted: 0 };
  private namespacesDropped = 0;

  constructor(private readonly options: TelemetryHubOptions = {}) {}

  private space(namespace: string): NamespaceTelemetry {
    let s = this.spaces.get(namespace);
    if (s === undefined) {
      const max = this.options.maxNamespaces ?? 256;
      if (this.spaces.size >= max) this.dropLeastRecent();
      s = {
        ring: new AccessLogRing(
          this.options.recordsPerNamespace ?? RING_CAPACITY,
          this.options.notifyEveryMs ?? 250,
          namespace,
        ),
        runs: new RecipeRuns(this.options.runsPerNamespace ?? RECIPE_RUNS_KEPT),
        ingested: 0,
      };
      this.spaces.set(namespace, s);
    }
    return s;
  }

  private dropLeastRecent(): void {
    let oldest: [string, NamespaceTelemetry] | undefined;
    for (const entry of this.spaces)
      if (oldest === undefined || entry[1].ring.lastWriteAt < oldest[1].ring.lastWriteAt) oldest = entry;
    if (oldest === undefined) return;
    const [name, s] = oldest;
    this.spaces.delete(name);
    this.namespacesDropped++;
    // Counters stay monotonic across the drop.
    this.dropped.ingested += s.ingested;
    this.dropped.evicted += s.ring.evicted + s.ring.size;
    const reason = new Error(`telemetry of namespace ${name} dropped: too many namespaces`);
    s.ring.end(reason);
    s.runs.end(reason);
  }

  /** Stores a validated batch of `namespace`; returns the namespace's newest seq. */
  ingest(namespace: string, records: readonly IngestedRecord[]): number {
    const s = this.space(namespace);
    s.ring.append(records);
    s.ingested += records.length;
    return s.ring.seq;
  }

  /** The namespace's access-log ring (created empty on first use: a watcher may come before the first batch). */
  records(namespace: string): AccessLogRing {
    return this.space(namespace).ring;
  }

  /** The namespace's recipe runs. */
  runs(namespace: string): RecipeRuns {
    return this.space(namespace).runs;
  }

  /** Ends every watch (the server closes). */
  endAll(reason: unknown): void {
    for (const s of this.spaces.values()) {
      s.ring.end(reason);
      s.runs.end(reason);
    }
  }

  /**
   * `weft_telemetry_records_ingested_total{namespace}`, `weft_telemetry_records_evicted_total{namespace}`
   * (pushed out of the ring by newer ones), `weft_telemetry_records{namespace}` (held now),
   * `weft_telemetry_recipe_runs_total{namespace}` and `weft_telemetry_namespaces_dropped_total`.
   * Counts of dropped namespaces go on under `namespace=""`.
   */
  families(): MetricFamily[] {
    const ingested: Sample[] = [];
    const evicted: Sample[] = [];
    const held: Sample[] = [];
    const runs: Sample[] = [];
    for (const [namespace, s] of this.spaces) {
      ingested.push({ labels: { namespace }, value: s.ingested });
      evicted.push({ labels: { namespace }, value: s.ring.evicted });
      held.push({ labels: { namespace }, value: s.ring.size });
      runs.push({ labels: { namespace }, value: s.runs.total });
    }
    if (this.namespacesDropped > 0) {
      ingested.push({ labels: { namespace: '' }, value: this.dropped.ingested });
      evicted.push({ labels: { namespace: '' }, value: this.dropped.evicted });
    }
    return [
      {
        name: 'weft_telemetry_records_ingested_total',
        help: 'Access-log records the sidecars and agents streamed to this server, accepted.',
        type: 'counter',
        samples: ingested,
      },
      {
        name: 'weft_telemetry_records_evicted_total',
        help: 'Access-log records pushed out of the in-memory ring by newer ones (or dropped with their namespace).',
        type: 'counter',
        samples: evicted,
      },
      {
        name: 'weft_telemetry_records',
        help: 'Access-log records held in memory now.',
        type: 'gauge',
        samples: held,
      },
      {
        name: 'weft_telemetry_recipe_runs_total',
        help: 'Recipe run reports received.',
        type: 'counter',
        samples: runs,
      },
      {
        name: 'weft_telemetry_namespaces_dropped_total',
        help: "Namespaces whose telemetry was dropped to stay within maxNamespaces (the least recently written's).",
        type: 'counter',
        samples: [{ labels: {}, value: this.namespacesDropped }],
      },
    ];
  }
}
