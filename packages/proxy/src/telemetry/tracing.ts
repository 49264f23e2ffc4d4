import { type Context, context, type Span, SpanKind, SpanStatusCode, type Tracer, trace } from '@opentelemetry/api';

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** A parsed W3C `traceparent`. */
export interface TraceParent {
  traceId: string;
  spanId: string;
  flags: number;
}

/** Parses a W3C `traceparent` header; undefined when absent or malformed. */
export function parseTraceparent(value: string | undefined): TraceParent | undefined {
  if (value === undefined) return undefined;
  const m = TRACEPARENT.exec(value.trim());
  if (m === null || m[1] === 'ff' || /^0+$/.test(m[2] as string) || /^0+$/.test(m[3] as string)) return undefined;
  return { traceId: m[2] as string, spanId: m[3] as string, flags: Number.parseInt(m[4] as string, 16) };
}

/** Formats a W3C `traceparent` header. */
export function formatTraceparent(traceId: string, spanId: string, flags: number): string {
  return `00-${traceId}-${spanId}-${flags < 16 ? '0' : ''}${flags.toString(16)}`;
}

/**
 * OpenTelemetry spans through `@opentelemetry/api`, only when a tracer provider is registered:
 * without one, no span object is created at all (the check is cached for a second).
 */
export class MeshTracing {
  private readonly explicit: Tracer | undefined;
  private tracer: Tracer | undefined;
  private checkedAt = Number.NEGATIVE_INFINITY;
  private active = false;

  /** @param tracer - a tracer to use always; by default the global provider's, when one is registered. */
  constructor(tracer?: Tracer | false) {
    this.explicit = tracer === false ? undefined : tracer;
    if (tracer === false) this.checkedAt = Number.POSITIVE_INFINITY;
  }

  /** Whether spans are recorded now. */
  enabled(now: number): boolean {
    if (this.explicit !== undefined) return true;
    if (now - this.checkedAt < 1000) return this.active;
    this.checkedAt = now;
    const provider = trace.getTracerProvider() as { getDelegate?: () => object };
    const delegate = typeof provider.getDelegate === 'function' ? provider.getDelegate() : provider;
    this.active = delegate.constructor.name !== 'NoopTracerProvider';
    if (this.active && this.tracer === undefined) this.tracer = trace.getTracer('@weft/proxy');
    return this.active;
  }

  /**
   * Starts a client span for a call to `service`, child of `parent` (a remote parent from an
   * incoming `traceparent`) or of the active context.
   */
  /** True when the caller runs inside a span of its own (OpenTelemetry's active context). */
  hasActiveSpan(): boolean {
    return trace.getSpanContext(context.active()) !== undefined;
  }

  start(service: string, method: string, path: string, parent: TraceParent | undefined): Span {
    const tracer = (this.explicit ?? this.tracer) as Tracer;
    let ctx: Context = context.active();
    if (parent !== undefined)
      ctx = trace.setSpanContext(ctx, {
        traceId: parent.traceId,
        spanId: parent.spanId,
        traceFlags: parent.flags,
        isRemote: true,
      });
    return tracer.startSpan(
      `${method} ${service}`,
      {
        kind: SpanKind.CLIENT,
        attributes: { 'http.request.method': method, 'url.path': path, 'peer.service': service },
      },
      ctx,
    );
  }

  /** Ends `span` with the call's result. */
  end(span: Span, status: number, upstream: string | undefined, attempts: number, error: Error | undefined): void {
    if (status > 0) span.setAttribute('http.response.status_code', status);
    if (upstream !== undefined) span.setAttribute('server.address', upstream);
    if (attempts > 1) span.setAttribute('weft.attempts', attempts);
    if (error !== undefined) {
      span.recordException(error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
    } else if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  }
}
