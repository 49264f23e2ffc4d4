import { outcomeOfError, outcomeWord } from '@weft/core';
import type { Dispatcher } from 'undici';
import type { MeshAttempt } from '../errors.js';
import type { AccessLogRecord, AccessLogSink } from '../telemetry/access-log.js';
import type { Attempt } from './attempt.js';
import type { CallExtras } from './call-extras.js';
import type { EngineContext } from './engine-context.js';
import type { RoutePlan } from './route.js';
import type { ServiceTable, Subset } from './service-table.js';

/** What the access log records of a finished call. */
export interface FinishedCall {
  /** The caller (`name:tags`). */
  readonly src: string;
  readonly service: string;
  /** The route's plan; undefined when the call failed before routing. */
  readonly plan: RoutePlan | undefined;
  readonly method: string;
  readonly path: string;
  readonly requestId: string;
  /** The status answered (0: none, the connection was reset). */
  readonly status: number;
  readonly durationMs: number;
  /** The endpoint of the committed (or last) attempt. */
  readonly upstream: string | undefined;
  readonly attempts: number;
  readonly error: Error | undefined;
  /** The call's cold state: wall start, upstream time, trace ids, fault traces. */
  readonly extras: CallExtras | undefined;
}

/** The access-log record of a finished call (Amalgam8's sidecar fields, plus Weft's). */
export function accessLogRecord(c: FinishedCall): AccessLogRecord {
  const x = c.extras;
  const rec: AccessLogRecord = {
    src: c.src,
    dst: `${c.service}:${c.plan?.backendTags.join(',') ?? ''}`,
    status: c.status,
    start_time: new Date(x?.startWall || Date.now()).toISOString(),
    request_time: Math.round(c.durationMs) / 1000,
    upstream_response_time: x === undefined || x.upstreamMs < 0 ? null : Math.round(x.upstreamMs) / 1000,
    timestamp_in_ms: Date.now(),
    method: c.method,
    path: c.path,
    request_id: c.requestId,
    upstream_host: c.upstream ?? '-',
    attempts: c.attempts,
  };
  if (x?.traceId !== undefined) {
    rec.trace_id = x.traceId;
    if (x.spanId !== undefined) rec.span_id = x.spanId;
  }
  if (c.plan?.ruleId !== undefined) rec.rule_id = c.plan.ruleId;
  if (c.error !== undefined) {
    rec.error_code = (c.error as { code?: string }).code ?? 'error';
    rec.outcome = outcomeWord(failedOutcome(c.error));
  }
  const traces = x?.traces;
  if (traces !== undefined) for (let i = 0; i + 1 < traces.length; i += 2) rec[traces[i] as string] = traces[i + 1];
  return rec;
}

/**
 * The outcome of a call that ended without an upstream answer, in core's words: a local refusal
 * (`rate-limited`, `rejected`), a `timeout`; for exhausted retries the last attempt's outcome.
 */
function failedOutcome(error: Error): number {
  const e = error as { code?: unknown; attempts?: readonly MeshAttempt[] };
  const last = e.code === 'WEFT_ERR_RETRIES_EXHAUSTED' ? e.attempts?.at(-1) : undefined;
  return last === undefined ? outcomeOfError(error) : last.outcome;
}

/** Writes the call's record; a failing sink never fails the call. */
export function writeAccessLog(sink: AccessLogSink, call: FinishedCall): void {
  try {
    sink.write(accessLogRecord(call));
  } catch {
    // A failing log sink must never fail the call.
  }
}

/** What the report of a finished call reads of it (`MeshCall`; an interface, so no import circle). */
export interface ReportedCall {
  readonly engine: EngineContext;
  readonly table: ServiceTable;
  /** Undefined when the call failed before routing. */
  readonly subset: Subset | undefined;
  readonly plan: RoutePlan | undefined;
  readonly service: string;
  readonly opts: Dispatcher.DispatchOptions;
  readonly requestId: string;
  /** `performance.now()` when the call started. */
  readonly startedAt: number;
  /** Attempts made (transparent retries included). */
  readonly attemptNo: number;
  readonly attempt: Attempt | undefined;
  readonly committed: Attempt | undefined;
}

/**
 * Reports a finished call: the service's and the backend's counters, the end of its span, its
 * access-log record. Runs for every call; without tracing or an access log it only counts.
 */
export function reportFinished(
  call: ReportedCall,
  x: CallExtras | undefined,
  status: number,
  error: Error | undefined,
): void {
  const engine = call.engine;
  const durationMs = performance.now() - call.startedAt;
  const attempts = call.attemptNo;
  call.table.counters?.call(status, durationMs / 1000, attempts > 1 ? attempts - 1 : 0);
  call.subset?.counters?.record(status, durationMs / 1000);
  const a = call.committed ?? call.attempt;
  const upstream = a?.entry?.address;
  if (x?.span !== undefined) engine.tracing.end(x.span, status, upstream, attempts, error);
  const sink = engine.accessLog;
  if (sink !== undefined) {
    writeAccessLog(sink, {
      src: engine.src,
      service: call.service,
      plan: call.plan,
      method: call.opts.method,
      path: call.opts.path,
      requestId: call.requestId,
      status,
      durationMs,
      upstream,
      attempts,
      error,
      extras: x,
    });
  }
}
