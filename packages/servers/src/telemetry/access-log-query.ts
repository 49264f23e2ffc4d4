import { InvalidArgumentError, type ValidationIssue } from '@weft/core';
import { queryValue } from '../controller/query.js';
import { RECIPE_LOG_KEY } from '../recipes/compile.js';
import type { HeldRecord, RingView } from './access-log-ring.js';

/** Records one read returns by default, and at most. */
export const DEFAULT_READ_LIMIT = 1000;
export const MAX_READ_LIMIT = 10_000;

/** Which records `GET /v1/telemetry/access-log` returns: every condition given must hold. */
export interface StreamQuery {
  /** A recipe run's records: its request ids start with the run id, or its trace rules tagged them. */
  readonly recipe?: string;
  /** Records of calls from or to this service. */
  readonly service?: string;
  /** Only records after this seq (the `next` of a previous answer), oldest first. */
  readonly since?: number;
  /** Only records of calls that ended at or after this time, ms since the epoch. */
  readonly sinceMs?: number;
  /** `request_id` starts with it (as the sidecar admin's `request_id_prefix`). */
  readonly requestIdPrefix?: string;
  /** A field equals `value` (as the sidecar admin's `field` + `value`). */
  readonly field?: string;
  readonly value?: string;
  /** At most this many: the oldest after `since`, else the newest. */
  readonly limit: number;
}

/** What a read answers; the same fields as a sidecar's `GET /debug/access-log`, plus `index` and `next`. */
export interface StreamAnswer {
  /** The records as the proxies wrote them, oldest first. */
  readonly records: readonly Readonly<Record<string, unknown>>[];
  /** The namespace's newest seq this answer reflects (also `x-weft-index`). */
  readonly index: number;
  /** The `since` that continues after this answer (less than `index` when `limit` cut it short). */
  readonly next: number;
  readonly capacity: number;
  readonly size: number;
  readonly evicted: number;
  /** `timestamp_in_ms` of the oldest record held: a run older than it may have lost records. */
  readonly oldest_ms: number | null;
  /** The control plane reports no rules revision: the sidecars' own admin listeners do. */
  readonly rules_revision: null;
}

const whole = (name: string, text: string, issues: ValidationIssue[]): number | undefined => {
  const n = Number(text);
  if (text.trim() !== '' && Number.isSafeInteger(n) && n >= 0) return n;
  issues.push({ path: name, message: `must be a whole number of 0 or more (got ${JSON.stringify(text)})` });
  return undefined;
};

/**
 * The {@link StreamQuery} of a request's query string (`recipe`, `service`, `since`, `since_ms`,
 * `request_id_prefix`, `field` + `value`, `limit`).
 *
 * @throws InvalidArgumentError naming each malformed parameter.
 */
export function streamQueryOf(query: unknown): StreamQuery {
  const issues: ValidationIssue[] = [];
  const q: { -readonly [K in keyof StreamQuery]: StreamQuery[K] } = { limit: DEFAULT_READ_LIMIT };
  for (const [name, key] of [
    ['recipe', 'recipe'],
    ['service', 'service'],
    ['request_id_prefix', 'requestIdPrefix'],
    ['field', 'field'],
    ['value', 'value'],
  ] as const) {
    const v = queryValue(query, name);
    if (v !== undefined) q[key] = v;
  }
  if (q.field !== undefined && q.value === undefined)
    issues.push({ path: 'value', message: 'is required with field: ?field=gremlin_recipe_id&value=<run id>' });
  for (const [name, key] of [
    ['since', 'since'],
    ['since_ms', 'sinceMs'],
    ['limit', 'limit'],
  ] as const) {
    const text = queryValue(query, name);
    if (text === undefined) continue;
    const n = whole(name, text, issues);
    if (n !== undefined) q[key] = n;
  }
  if (q.limit < 1 || q.limit > MAX_READ_LIMIT)
    issues.push({ path: 'limit', message: `must be between 1 and ${MAX_READ_LIMIT} (got ${q.limit})` });
  if (issues.length > 0) throw new InvalidArgumentError('access-log query', issues);
  return q;
}

function matches(held: HeldRecord, q: StreamQuery): boolean {
  const r = held.record;
  if (q.since !== undefined && held.seq <= q.since) return false;
  if (q.sinceMs !== undefined && r.timestamp_in_ms < q.sinceMs) return false;
  if (q.service !== undefined && held.src.service !== q.service && held.dst.service !== q.service) return false;
  if (q.requestIdPrefix !== undefined && !r.request_id.startsWith(q.requestIdPrefix)) return false;
  if (q.field !== undefined && String(r[q.field]) !== q.value) return false;
  if (q.recipe !== undefined && !r.request_id.startsWith(q.recipe) && r[RECIPE_LOG_KEY] !== q.recipe) return false;
  return true;
}

/** Answers `q` over what `view` shows. */
export function readStream(view: RingView, q: StreamQuery): StreamAnswer {
  const { ring, upTo } = view;
  const selected: HeldRecord[] = [];
  let truncated = false;
  for (const held of ring.records(upTo)) {
    if (!matches(held, q)) continue;
    if (q.since !== undefined && selected.length === q.limit) {
      // Following (since given): the oldest first, and `next` continues where the page ends.
      truncated = true;
      break;
    }
    selected.push(held);
  }
  const page =
    q.since === undefined && selected.length > q.limit ? selected.slice(selected.length - q.limit) : selected;
  const last = page.at(-1);
  return {
    records: page.map((h) => h.record),
    index: upTo,
    next: truncated && last !== undefined ? last.seq : upTo,
    capacity: ring.capacity,
    size: ring.size,
    evicted: ring.evicted,
    oldest_ms: ring.oldestMs(),
    rules_revision: null,
  };
}
