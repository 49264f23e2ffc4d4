import type { Dispatcher } from 'undici';
import { formatTraceparent, parseTraceparent } from '../telemetry/tracing.js';
import type { CallExtras } from './call-extras.js';
import type { EngineContext } from './engine-context.js';
import { getHeader } from './headers.js';

/**
 * What the trace glue needs of its call (`MeshCall`; an interface, so no import circle). Called
 * only when tracing is on, an access log wants trace ids, or headers were inherited: the common
 * call never comes here.
 */
export interface TracedCall {
  readonly engine: EngineContext;
  readonly service: string;
  readonly opts: Dispatcher.DispatchOptions;
  /** A request header as it goes upstream (the sidecar's own, the caller's, then inherited ones). */
  header(lowerName: string): string | undefined;
  extras(): CallExtras;
}

/**
 * Whether the trace context inherited from the incoming request (withIncoming; asked only when
 * there are inherited headers) is this call's: not when the call sets a traceparent of its own or, with tracing on, runs inside a span of
 * the app's (OpenTelemetry's active context), which is a closer parent.
 */
export function inheritsTrace(call: TracedCall, tracing: boolean): boolean {
  if (getHeader(call.opts.headers, 'traceparent') !== undefined) return false;
  return !(tracing && call.engine.tracing.hasActiveSpan());
}

/** Starts the call's client span; returns the traceparent that goes upstream. */
export function startSpan(call: TracedCall, inheritedTrace: boolean): string {
  const opts = call.opts;
  const incoming = inheritedTrace ? call.header('traceparent') : getHeader(opts.headers, 'traceparent');
  const x = call.extras();
  x.span = call.engine.tracing.start(call.service, opts.method, opts.path, parseTraceparent(incoming));
  const sc = x.span.spanContext();
  x.traceId = sc.traceId;
  x.spanId = sc.spanId;
  return formatTraceparent(sc.traceId, sc.spanId, sc.traceFlags);
}

/** Without tracing, the access log still records the incoming trace ids. */
export function noteIncomingTrace(call: TracedCall): void {
  const parent = parseTraceparent(call.header('traceparent'));
  if (parent !== undefined) {
    const x = call.extras();
    x.traceId = parent.traceId;
    x.spanId = parent.spanId;
  }
}
