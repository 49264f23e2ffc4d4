import type { Dispatcher } from 'undici';
import type { AccessLogRecord } from '../telemetry/access-log.js';
import type { EngineContext } from './engine-context.js';
import { getHeader, rebuildHeaders } from './headers.js';
import type { EndpointEntry, ServiceTable } from './service-table.js';

type Controller = Dispatcher.DispatchController;
type Body = Dispatcher.DispatchOptions['body'];

/** Mirrored requests in flight per engine beyond which new ones are skipped (a slow mirror must not pile up). */
export const MAX_MIRRORS_IN_FLIGHT = 1024;
/** Timeout of a mirrored request when its route sets none, ms (Amalgam8's default request timeout). */
export const MIRROR_TIMEOUT_MS = 15_000;

const DROP_HOST: ReadonlySet<string> = new Set(['host']);

/**
 * The mirror's Host, as Envoy writes it: the request's authority with `-shadow` appended to the
 * host name (before any port): `reviews` → `reviews-shadow`, `reviews:9080` → `reviews-shadow:9080`.
 */
export function shadowHost(authority: string): string {
  const close = authority.startsWith('[') ? authority.indexOf(']') : -1;
  const colon = authority.indexOf(':', close + 1);
  if (colon < 0 || (close < 0 && authority.indexOf(':', colon + 1) >= 0)) return `${authority}-shadow`;
  return `${authority.slice(0, colon)}-shadow${authority.slice(colon)}`;
}

/** What a mirror copies from its call. */
export interface MirrorRequest {
  readonly table: ServiceTable;
  readonly tags: readonly string[];
  /** The options the primary attempts send (method, rewritten path, headers with request id / trace context). */
  readonly opts: Dispatcher.DispatchOptions;
  readonly body: Body;
  readonly requestId: string;
  readonly timeoutMs: number | undefined;
}

/**
 * Sends a copy of a request to an instance of the mirror's subset, fire-and-forget: the response
 * is read and discarded; failures are only counted (`weft_mirror_requests_total`) and, when an
 * access log is configured, logged as a record with `mirror: true`. Nothing here can reach the
 * primary call: no shared handler, no health feedback, no retries.
 */
export function sendMirror(engine: EngineContext, m: MirrorRequest): void {
  const table = m.table;
  const counters = table.counters;
  if (engine.mirrorsInFlight >= MAX_MIRRORS_IN_FLIGHT) {
    if (counters !== undefined) counters.mirrorsSkipped++;
    return;
  }
  let entry: EndpointEntry | undefined;
  try {
    const subset = table.mirrorSubset(m.tags, engine.lbPolicy);
    const picker = subset.picker;
    const n = picker.endpoints.length;
    let index = picker.pickIndex(undefined);
    if (index < 0 && n > 0) index = subset.panicCursor++ % n;
    entry = index < 0 ? undefined : picker.endpoints[index];
  } catch (err) {
    new MirrorHandler(engine, m, undefined).fail(err as Error);
    return;
  }
  const handler = new MirrorHandler(engine, m, entry);
  if (entry === undefined) {
    handler.fail(
      Object.assign(new Error(`no instance of ${table.name} with tags ${m.tags.join(',')}`), {
        code: 'WEFT_ERR_NO_ENDPOINTS',
      }),
    );
    return;
  }
  const o = m.opts;
  const authority = getHeader(o.headers, 'host') ?? table.name;
  const timeout = m.timeoutMs !== undefined && m.timeoutMs > 0 ? m.timeoutMs : MIRROR_TIMEOUT_MS;
  const opts: Dispatcher.DispatchOptions = {
    method: o.method,
    path: o.path,
    headers: rebuildHeaders(o.headers, DROP_HOST, ['host', shadowHost(authority)]),
    body: m.body ?? null,
    headersTimeout: timeout,
    bodyTimeout: timeout,
    ...(o.query == null ? {} : { query: o.query }),
    ...(o.idempotent === undefined ? {} : { idempotent: o.idempotent }),
  };
  engine.mirrorsInFlight++;
  handler.counted = true;
  try {
    entry.pool.dispatch(opts, handler);
  } catch (err) {
    handler.onResponseError(null, err as Error);
  }
}

/** Reads and discards a mirror's response; counts and logs the result. */
class MirrorHandler implements Dispatcher.DispatchHandler {
  status = 0;
  counted = false;
  private done = false;
  private readonly startedAt = Date.now();

  constructor(
    private readonly engine: EngineContext,
    private readonly m: MirrorRequest,
    private readonly entry: EndpointEntry | undefined,
  ) {}

  onRequestStart(_controller: Controller, _context: unknown): void {}

  onResponseStart(_controller: Controller, statusCode: number): void {
    if (statusCode >= 200) this.status = statusCode;
  }

  onResponseData(_controller: Controller, _chunk: Buffer): void {}

  onResponseEnd(_controller: Controller, _trailers: unknown): void {
    if (this.status >= 500) this.fail(undefined);
    else this.end(true);
  }

  onResponseError(_controller: Controller | null, error: Error): void {
    this.fail(error);
  }

  /** Counts (and logs) a failed mirror. */
  fail(error: Error | undefined): void {
    if (this.done) return;
    this.end(false);
    const sink = this.engine.accessLog;
    if (sink === undefined) return;
    const m = this.m;
    const now = Date.now();
    const rec: AccessLogRecord = {
      src: this.engine.src,
      dst: `${m.table.name}:${m.tags.join(',')}`,
      status: this.status,
      start_time: new Date(this.startedAt).toISOString(),
      request_time: (now - this.startedAt) / 1000,
      upstream_response_time: null,
      timestamp_in_ms: now,
      method: m.opts.method,
      path: m.opts.path,
      request_id: m.requestId,
      upstream_host: this.entry?.address ?? '-',
      attempts: 1,
      mirror: true,
    };
    if (error !== undefined) {
      rec.error_code = (error as { code?: string }).code ?? 'error';
      rec.error = error.message;
    }
    try {
      sink.write(rec);
    } catch {
      // A failing log sink must never fail anything.
    }
  }

  private end(ok: boolean): void {
    if (this.done) return;
    this.done = true;
    if (this.counted) this.engine.mirrorsInFlight--;
    const c = this.m.table.counters;
    if (c === undefined) return;
    if (ok) c.mirrored++;
    else c.mirrorFailures++;
  }
}
