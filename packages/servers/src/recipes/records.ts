import { carriesAll, type RecipeInstance, type ServiceRef } from './endpoint.js';

/** What a proxy's `GET /debug/access-log` answers (see the sidecar agent's admin listener). */
export interface AccessLogAnswer {
  /** The proxy's own service, when it has one. */
  readonly service?: { readonly name: string; readonly tags: readonly string[] } | null;
  /** The rules revision the proxy runs with, when it follows a controller. */
  readonly rules_revision?: number | null;
  readonly capacity?: number;
  readonly evicted?: number;
  readonly oldest_ms?: number | null;
  readonly records: readonly Record<string, unknown>[];
}

/** Which records to read: those whose request id starts with the prefix, or that carry the field. */
export interface AccessLogQuery {
  readonly requestIdPrefix?: string;
  readonly field?: string;
  readonly value?: string;
  readonly since?: number;
}

/**
 * Where a run reads access-log records: a sidecar's admin listener over HTTP
 * ({@link httpAccessLogSource}), or anything in the process that keeps them — such as a
 * `RecentAccessLog` given to a `MeshAgent` as its `accessLog` (its `query` has this shape).
 */
export interface AccessLogSource {
  /** Names the source in messages (its URL). */
  readonly name: string;
  read(query: AccessLogQuery): Promise<AccessLogAnswer>;
  /**
   * The rules revision the proxies behind this source run with, when it knows better than
   * `read`'s `rules_revision` (the control plane: the oldest among its followers).
   */
  rulesRevision?(): Promise<number | undefined>;
}

/** Reads `GET <admin>/debug/access-log` of a `weft sidecar` (or gateway). */
export function httpAccessLogSource(adminUrl: string, timeoutMs = 5000): AccessLogSource {
  const base = (/^[a-z][a-z0-9+.-]*:\/\//i.test(adminUrl) ? adminUrl : `http://${adminUrl}`).replace(/\/+$/, '');
  return {
    name: base,
    async read(q) {
      const url = new URL(`${base}/debug/access-log`);
      if (q.requestIdPrefix !== undefined) url.searchParams.set('request_id_prefix', q.requestIdPrefix);
      if (q.field !== undefined) url.searchParams.set('field', q.field);
      if (q.value !== undefined) url.searchParams.set('value', q.value);
      if (q.since !== undefined) url.searchParams.set('since', String(Math.floor(q.since)));
      const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
      const text = await res.text();
      if (!res.ok)
        throw new Error(
          res.status === 404
            ? `${url.origin} serves no /debug/access-log (is it a weft sidecar's admin listener?)`
            : `${url.pathname}: ${res.status} ${text.slice(0, 200)}`,
        );
      const body = JSON.parse(text) as AccessLogAnswer;
      if (!Array.isArray(body.records)) throw new Error(`${url.href} answered without records`);
      return body;
    },
  };
}

/** An in-process ring (a `RecentAccessLog`) as a source. */
export function memoryAccessLogSource(
  name: string,
  ring: { query(q: AccessLogQuery): { readonly records: readonly unknown[] } },
): AccessLogSource {
  return {
    name,
    async read(q) {
      const answer = ring.query(q);
      return { ...answer, records: answer.records as Record<string, unknown>[] };
    },
  };
}

/** A caller or callee as a record names it. */
export interface RecordParty {
  readonly name: string;
  readonly tags: readonly string[];
}

/** One access-log record of the run, its fields parsed for the checks. */
export interface RunRecord {
  /** The source it was read from. */
  readonly proxy: string;
  readonly src: RecordParty;
  /** The destination service, and the tags of the backend the rule chose (may be empty: any instance). */
  readonly dst: RecordParty;
  /** The tags of the instance that answered, from the registry by `upstream_host`; undefined when unknown. */
  readonly instanceTags: readonly string[] | undefined;
  readonly status: number;
  readonly startMs: number;
  readonly endMs: number;
  /** The call as its caller's proxy saw it, from start to end, ms. */
  readonly durationMs: number;
  readonly requestId: string;
  readonly method: string;
  readonly path: string;
  readonly upstreamHost: string;
  /** Attempts the proxy made (1 without retries). */
  readonly attempts: number;
  readonly errorCode: string | undefined;
  /** The record as the proxy wrote it. */
  readonly raw: Readonly<Record<string, unknown>>;
}

function party(text: unknown): RecordParty {
  const s = typeof text === 'string' ? text : '';
  const colon = s.indexOf(':');
  const name = colon === -1 ? s : s.slice(0, colon);
  const tags =
    colon === -1
      ? []
      : s
          .slice(colon + 1)
          .split(',')
          .filter((t) => t !== '');
  return { name, tags };
}

/** Parses one raw record; undefined when it lacks the fields every Weft proxy writes. */
export function toRunRecord(
  raw: Record<string, unknown>,
  proxy: string,
  instances: readonly RecipeInstance[],
): RunRecord | undefined {
  const end = Number(raw.timestamp_in_ms);
  const seconds = Number(raw.request_time);
  if (typeof raw.request_id !== 'string' || !Number.isFinite(end) || !Number.isFinite(seconds)) return undefined;
  const start = typeof raw.start_time === 'string' ? Date.parse(raw.start_time) : Number.NaN;
  const dst = party(raw.dst);
  const upstreamHost = typeof raw.upstream_host === 'string' ? raw.upstream_host : '-';
  const instance = instances.find((i) => i.service_name === dst.name && i.endpoint?.value === upstreamHost);
  return {
    proxy,
    src: party(raw.src),
    dst,
    instanceTags: instance === undefined ? undefined : [...(instance.tags ?? [])],
    status: Number(raw.status),
    startMs: Number.isFinite(start) ? start : end - seconds * 1000,
    endMs: end,
    durationMs: seconds * 1000,
    requestId: raw.request_id,
    method: String(raw.method ?? ''),
    path: String(raw.path ?? ''),
    upstreamHost,
    attempts: Number.isSafeInteger(raw.attempts) ? (raw.attempts as number) : 1,
    errorCode: typeof raw.error_code === 'string' ? raw.error_code : undefined,
    raw,
  };
}

/** Whether the record's caller is `ref` (its tags among the caller's). */
export const fromService = (r: RunRecord, ref: ServiceRef): boolean =>
  r.src.name === ref.name && carriesAll(ref, r.src.tags);

/**
 * Whether the record's callee is `ref`. The instance's tags decide when the registry knows the
 * instance that answered; otherwise (an injected fault answers before any instance is involved)
 * the backend's tags, unless they contradict a tag asked for (`version=v2` for `version=v1`).
 * The run's trace rules tag only calls to instances that carry the topology's tags, so a record
 * of the run whose instance is unknown went to a service version the topology names.
 */
export function toService(r: RunRecord, ref: ServiceRef): boolean {
  if (r.dst.name !== ref.name) return false;
  if (r.instanceTags !== undefined) return carriesAll(ref, r.instanceTags);
  return ref.tags.every((tag) => {
    if (r.dst.tags.includes(tag)) return true;
    const eq = tag.indexOf('=');
    if (eq <= 0) return true;
    const key = tag.slice(0, eq + 1);
    return !r.dst.tags.some((t) => t.startsWith(key));
  });
}

/** The records of the calls `source` made to `dest` (either may be left out: any). */
export function onEdge(records: readonly RunRecord[], source?: ServiceRef, dest?: ServiceRef): RunRecord[] {
  return records.filter(
    (r) => (source === undefined || fromService(r, source)) && (dest === undefined || toService(r, dest)),
  );
}

/** What the sources gave: the records of the run (deduplicated, oldest first) and what failed. */
export interface Collected {
  readonly records: RunRecord[];
  /** Per source: how many records it gave, its rules revision, and why it could not be read. */
  readonly proxies: readonly ProxyReading[];
}

export interface ProxyReading {
  readonly proxy: string;
  readonly service: string | undefined;
  readonly records: number;
  readonly rulesRevision: number | undefined;
  /** The ring lost records written during the run (it was too small for the load). */
  readonly overflowed: boolean;
  readonly error: string | undefined;
}

/**
 * Reads the run's records from every source: those whose request id starts with the run id (the
 * requests the run sent) and those tagged with `gremlin_recipe_id: <run id>` by its trace rules
 * (an app that does not forward `X-Request-ID`, with a custom scoping header).
 */
export async function collectRecords(
  sources: readonly AccessLogSource[],
  runId: string,
  logKey: string,
  since: number,
  instances: readonly RecipeInstance[],
  /**
   * Who an anonymous caller is: a gateway without a service name logs `src: "-"`; its calls are
   * the entry's (the topology's one root).
   */
  anonymous?: RecordParty,
): Promise<Collected> {
  const readings = await Promise.all(
    sources.map(async (source): Promise<{ reading: ProxyReading; records: RunRecord[] }> => {
      try {
        const [byId, byTrace] = await Promise.all([
          source.read({ requestIdPrefix: runId, since }),
          source.read({ field: logKey, value: runId, since }),
        ]);
        const seen = new Set<string>();
        const records: RunRecord[] = [];
        for (const raw of [...byId.records, ...byTrace.records]) {
          const key = JSON.stringify(raw);
          if (seen.has(key)) continue;
          seen.add(key);
          const r = toRunRecord(raw as Record<string, unknown>, source.name, instances);
          if (r !== undefined)
            records.push(anonymous !== undefined && r.src.name === '-' ? { ...r, src: anonymous } : r);
        }
        const oldest = byTrace.oldest_ms ?? byId.oldest_ms ?? null;
        return {
          records,
          reading: {
            proxy: source.name,
            service:
              byId.service === undefined || byId.service === null
                ? undefined
                : [byId.service.name, byId.service.tags.join(',')].filter((s) => s !== '').join(':'),
            records: records.length,
            rulesRevision: byId.rules_revision ?? undefined,
            overflowed: (byId.evicted ?? 0) > 0 && oldest !== null && oldest > since,
            error: undefined,
          },
        };
      } catch (err) {
        const e = err as Error & { cause?: { code?: string; message?: string } };
        return {
          records: [],
          reading: {
            proxy: source.name,
            service: undefined,
            records: 0,
            rulesRevision: undefined,
            overflowed: false,
            error: e.cause?.code ?? e.cause?.message ?? e.message,
          },
        };
      }
    }),
  );
  const records = readings.flatMap((r) => r.records).sort((a, b) => a.startMs - b.startMs);
  return { records, proxies: readings.map((r) => r.reading) };
}
