import type { WireInstance } from '../api/types.js';
import { parseTime } from './format.js';

/** How an instance is doing, as the Services view shows it. */
export type Health = 'healthy' | 'starting' | 'out of service' | 'late';

/** An instance as a row of the Services view. */
export interface InstanceRow {
  readonly id: string;
  readonly service: string;
  readonly status: string;
  readonly tags: readonly string[];
  /** The tags joined by `,` (a8ctl's version), `–` for none. */
  readonly version: string;
  /** `registry` for a native registration, else the mirror's source type (`consul`, `kubernetes`…). */
  readonly source: string;
  /** The mirror's name, for mirrored instances. */
  readonly mirror: string | undefined;
  readonly endpoint: string;
  readonly health: Health;
  /** Epoch ms, NaN when the registry gave none. */
  readonly lastHeartbeat: number;
}

/**
 * Rows from the registry's instances: mirrored ones named by their source, health from the status
 * and — for native instances, which must heartbeat — from the heartbeat's age against the TTL
 * (an instance past its TTL is about to expire: `late`).
 */
export function instanceRows(instances: readonly WireInstance[], nowMs: number): InstanceRow[] {
  return instances
    .map((instance) => {
      const metadata = instance.metadata ?? {};
      const mirrored = typeof metadata['weft.source'] === 'string' ? (metadata['weft.source'] as string) : undefined;
      const status = instance.status ?? 'UP';
      const lastHeartbeat = parseTime(instance.last_heartbeat);
      const ttlMs = (instance.ttl ?? 0) * 1000;
      const late = mirrored === undefined && ttlMs > 0 && nowMs - lastHeartbeat > ttlMs;
      const health: Health =
        status === 'OUT_OF_SERVICE' ? 'out of service' : status === 'STARTING' ? 'starting' : late ? 'late' : 'healthy';
      const tags = instance.tags ?? [];
      return {
        id: instance.id,
        service: instance.service_name ?? '(unnamed)',
        status,
        tags,
        version: tags.length === 0 ? '–' : tags.join(','),
        source: mirrored ?? 'registry',
        mirror: typeof metadata['weft.mirror'] === 'string' ? (metadata['weft.mirror'] as string) : undefined,
        endpoint: `${instance.endpoint.type}://${instance.endpoint.value}`,
        health,
        lastHeartbeat,
      };
    })
    .sort(
      (a, b) => a.service.localeCompare(b.service) || a.version.localeCompare(b.version) || a.id.localeCompare(b.id),
    );
}

/** What the Services view filters on. */
export interface InstanceFilter {
  /** Rows must carry every one of these tags. */
  readonly tags: readonly string[];
  /** Free text matched against service, endpoint and id (case-insensitive); empty matches all. */
  readonly text: string;
  /** A source (`registry`, `consul`…), or empty for all. */
  readonly source: string;
}

export function filterRows(rows: readonly InstanceRow[], filter: InstanceFilter): InstanceRow[] {
  const text = filter.text.trim().toLowerCase();
  return rows.filter(
    (row) =>
      filter.tags.every((tag) => row.tags.includes(tag)) &&
      (filter.source === '' || row.source === filter.source) &&
      (text === '' || [row.service, row.endpoint, row.id].some((field) => field.toLowerCase().includes(text))),
  );
}

/** Every distinct tag and source among the rows, sorted, for the filters' choices. */
export function facets(rows: readonly InstanceRow[]): { tags: string[]; sources: string[] } {
  return {
    tags: [...new Set(rows.flatMap((r) => r.tags))].sort(),
    sources: [...new Set(rows.map((r) => r.source))].sort(),
  };
}
