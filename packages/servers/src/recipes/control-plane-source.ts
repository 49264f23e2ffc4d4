import type { AccessLogAnswer, AccessLogSource } from './records.js';
import type { HttpRulesApiOptions } from './rules-api.js';

/** GETs a path of the control plane with a query; resolves with the JSON body (a non-2xx rejects). */
export type ControlPlaneGet = (path: string, query: Readonly<Record<string, string>>) => Promise<unknown>;

/** The path the sidecars stream their records to, and the runner reads them from. */
export const TELEMETRY_ACCESS_LOG_PATH = '/v1/telemetry/access-log';
/** Records per page (the server's most). */
const PAGE = 10_000;
/** Pages read at most per query: a runaway loop must not hold a run. */
const MAX_PAGES = 20;
/** A long-polling proxy counts as following the rules this long after its last request, ms. */
const LONG_POLL_SEEN_MS = 30_000;

interface StreamPage {
  readonly records?: unknown;
  readonly index?: number;
  readonly next?: number;
  readonly capacity?: number;
  readonly evicted?: number;
  readonly oldest_ms?: number | null;
}

interface ProxyEntry {
  readonly watches?: string;
  readonly revision?: number;
  readonly connected?: boolean;
  readonly idle_ms?: number;
}

/**
 * The control plane as one {@link AccessLogSource}: the records every sidecar and agent of the
 * namespace streamed to it (`GET /v1/telemetry/access-log`, paged by seq), so a run needs no
 * sidecar admin URL. `rulesRevision` is the oldest rules revision among the proxies that follow
 * the controller now (`GET /v1/proxies`), so a run still waits until its rules reached them all.
 */
export function controlPlaneAccessLogSource(name: string, get: ControlPlaneGet): AccessLogSource {
  return {
    name,
    async read(q) {
      const query: Record<string, string> = { limit: String(PAGE) };
      if (q.requestIdPrefix !== undefined) query.request_id_prefix = q.requestIdPrefix;
      if (q.field !== undefined) query.field = q.field;
      if (q.value !== undefined) query.value = q.value;
      if (q.since !== undefined) query.since_ms = String(Math.max(0, Math.floor(q.since)));
      const records: Record<string, unknown>[] = [];
      let since = 0;
      let last: StreamPage = {};
      for (let page = 0; page < MAX_PAGES; page++) {
        last = (await get(TELEMETRY_ACCESS_LOG_PATH, { ...query, since: String(since) })) as StreamPage;
        if (!Array.isArray(last.records))
          throw new Error(`${name} answered ${TELEMETRY_ACCESS_LOG_PATH} without records`);
        records.push(...(last.records as Record<string, unknown>[]));
        const { next, index } = last;
        if (typeof next !== 'number' || typeof index !== 'number' || next >= index || last.records.length === 0) break;
        since = next;
      }
      const answer: AccessLogAnswer = {
        service: null,
        rules_revision: null,
        ...(last.capacity === undefined ? {} : { capacity: last.capacity }),
        ...(last.evicted === undefined ? {} : { evicted: last.evicted }),
        ...(last.oldest_ms === undefined ? {} : { oldest_ms: last.oldest_ms }),
        records,
      };
      return answer;
    },
    async rulesRevision() {
      const body = (await get('/v1/proxies', {})) as { proxies?: ProxyEntry[] };
      const following = (body.proxies ?? []).filter(
        (p) =>
          p.watches?.startsWith('/v1/rules') === true &&
          (p.connected === true || (p.idle_ms ?? Number.POSITIVE_INFINITY) < LONG_POLL_SEEN_MS),
      );
      const revisions = following.map((p) => p.revision).filter((r): r is number => typeof r === 'number');
      return revisions.length === 0 ? undefined : Math.min(...revisions);
    },
  };
}

/**
 * {@link controlPlaneAccessLogSource} over HTTP with `fetch`: the control plane's (or the
 * controller's) URL, a token, and the namespace as {@link httpRulesApi} takes them.
 */
export function httpControlPlaneAccessLogSource(options: HttpRulesApiOptions): AccessLogSource {
  const base = options.url.replace(/\/+$/, '');
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  if (options.namespace !== undefined) headers[options.namespaceHeader ?? 'A8-Namespace'] = options.namespace;
  return controlPlaneAccessLogSource(`control plane ${base}`, async (path, query) => {
    const url = new URL(`${base}${path}`);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(options.timeoutMs ?? 15_000) });
    const text = await res.text();
    if (!res.ok) throw new Error(`GET ${url.pathname}: ${res.status} ${text.slice(0, 200)}`);
    return JSON.parse(text) as unknown;
  });
}
