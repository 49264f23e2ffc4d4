import type { AccessLogSink } from '@weft/proxy/sidecar';

/** One access-log record as the proxy writes it (Amalgam8's JSON fields, plus trace keys). */
export type AccessLogEntry = Parameters<AccessLogSink['write']>[0];

/** Which recent records to return: every condition given must hold. */
export interface RecentAccessLogQuery {
  /** `request_id` starts with it (a recipe's requests carry `<run id>-<n>`). */
  readonly requestIdPrefix?: string;
  /** A field (a `trace` action's `log_key`, e.g. `gremlin_recipe_id`) equals `value`. */
  readonly field?: string;
  readonly value?: string;
  /** Only records that ended at or after this time, ms since the epoch (`timestamp_in_ms`). */
  readonly since?: number;
  /** At most this many, the newest (default: all that match). */
  readonly limit?: number;
}

/** What {@link RecentAccessLog.query} answers: the records, and whether the ring may have lost some. */
export interface RecentAccessLogAnswer {
  readonly capacity: number;
  /** Records held now. */
  readonly size: number;
  /** Records pushed out by newer ones since the process started. */
  readonly evicted: number;
  /** `timestamp_in_ms` of the oldest record held (null when empty): records older than it may be lost. */
  readonly oldest_ms: number | null;
  readonly records: readonly AccessLogEntry[];
}

/** The sidecar keeps this many recent records by default (about 1 KB each). */
export const RECENT_ACCESS_LOG_CAPACITY = 4096;

/**
 * A bounded ring of the proxy's most recent access-log records, kept in memory so a resilience
 * recipe can read them straight from the proxy that wrote them (`GET /debug/access-log`) instead
 * of waiting for them to be shipped to a log store. Writing is O(1) and never allocates beyond
 * the ring; records written while the ring is full push the oldest out (counted in `evicted`).
 * Records are also passed on to `next` (the JSON log on standard output) when one is set.
 */
export class RecentAccessLog implements AccessLogSink {
  private readonly ring: (AccessLogEntry | undefined)[];
  private start = 0;
  private count = 0;
  private evictedCount = 0;
  private next: AccessLogSink | undefined;

  constructor(readonly capacity = RECENT_ACCESS_LOG_CAPACITY) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
    this.ring = new Array(capacity);
  }

  /** Passes every record on to `sink` too (or stops passing them on, with undefined). Returns this. */
  forwardTo(sink: AccessLogSink | undefined): this {
    this.next = sink;
    return this;
  }

  write(record: AccessLogEntry): void {
    const end = (this.start + this.count) % this.capacity;
    this.ring[end] = record;
    if (this.count < this.capacity) this.count++;
    else {
      this.start = (this.start + 1) % this.capacity;
      this.evictedCount++;
    }
    this.next?.write(record);
  }

  async flush(): Promise<void> {
    await this.next?.flush?.();
  }

  /** The records that match, oldest first. */
  query(q: RecentAccessLogQuery = {}): RecentAccessLogAnswer {
    const out: AccessLogEntry[] = [];
    for (let i = 0; i < this.count; i++) {
      const r = this.ring[(this.start + i) % this.capacity] as AccessLogEntry;
      if (q.requestIdPrefix !== undefined && !r.request_id.startsWith(q.requestIdPrefix)) continue;
      if (q.field !== undefined && String(r[q.field]) !== q.value) continue;
      if (q.since !== undefined && r.timestamp_in_ms < q.since) continue;
      out.push(r);
    }
    const records = q.limit !== undefined && out.length > q.limit ? out.slice(out.length - q.limit) : out;
    const oldest = this.count === 0 ? undefined : this.ring[this.start];
    return {
      capacity: this.capacity,
      size: this.count,
      evicted: this.evictedCount,
      oldest_ms: oldest?.timestamp_in_ms ?? null,
      records,
    };
  }
}

/**
 * Reads a {@link RecentAccessLogQuery} from `GET /debug/access-log`'s query string
 * (`request_id_prefix`, `field` + `value`, `since`, `limit`); a malformed number is an error
 * naming the parameter.
 */
export function accessLogQueryOf(params: URLSearchParams): RecentAccessLogQuery | { error: string } {
  const q: {
    requestIdPrefix?: string;
    field?: string;
    value?: string;
    since?: number;
    limit?: number;
  } = {};
  const prefix = params.get('request_id_prefix');
  if (prefix !== null) q.requestIdPrefix = prefix;
  const field = params.get('field');
  if (field !== null) {
    const value = params.get('value');
    if (value === null) return { error: 'field needs value: ?field=gremlin_recipe_id&value=<run id>' };
    q.field = field;
    q.value = value;
  }
  for (const name of ['since', 'limit'] as const) {
    const text = params.get(name);
    if (text === null) continue;
    const n = Number(text);
    if (text.trim() === '' || !Number.isSafeInteger(n) || n < 0)
      return {
        error: `${name} must be a whole number${name === 'since' ? ' of ms since the epoch' : ''} (got '${text}')`,
      };
    q[name] = n;
  }
  return q;
}
