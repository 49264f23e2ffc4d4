import {
  loadOtelApi,
  type MeshSpan,
  type MeshTracer,
  type OtelApi,
  otelRegisteredElsewhere,
  SPAN_KIND_CLIENT,
  SPAN_STATUS_ERROR,
} from './otel.js';

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
 * without one, no span object is created at all (the check is cached for a second). The API is
 * an optional peer dependency, loaded on the first check: without it there is no tracing, and
 * an explicit `tracer` is refused at once with `WEFT_ERR_MISSING_PEER_DEPENDENCY`.
 */
export class MeshTracing {
  private readonly explicit: MeshTracer | undefined;
  private readonly load: () => OtelApi;
  private tracer: MeshTracer | undefined;
  /** The API once loaded; `null` when it could not be. */
  private api: OtelApi | null | undefined;
  /** Why it could not be. */
  private loadError: unknown;
  private checkedAt = Number.NEGATIVE_INFINITY;
  private active = false;

  /**
   * @param tracer - a tracer to use always; by default the global provider's, when one is registered.
   * @param load - loads the API (tests stand in for a missing package).
   */
  constructor(tracer?: MeshTracer | false, load: () => OtelApi = loadOtelApi) {
    this.explicit = tracer === false ? undefined : tracer;
    this.load = load;
    if (tracer === false) this.checkedAt = Number.POSITIVE_INFINITY;
    // A tracer passed in means tracing is wanted: say now, not on the first call, that it cannot be.
    if (this.explicit !== undefined && this.otel() === null) throw this.loadError;
  }

  private otel(): OtelApi | null {
    if (this.api === undefined) {
      try {
        this.api = this.load();
      } catch (err) {
        this.api = null;
        this.loadError = err;
      }
    }
    return this.api;
  }

  /** Whether spans are recorded now. */
  enabled(now: number): boolean {
    if (this.explicit !== undefined) return true;
    if (now - this.checkedAt < 1000) return this.active;
    this.checkedAt = now;
    const api = this.otel();
    if (api === null) {
      // Not loadable: no provider can be registered through it, so never look again. Calls are
      // never failed for tracing; if the app does trace (through a copy of the API this package
      // cannot see), say once why its calls have no spans.
      this.checkedAt = Number.POSITIVE_INFINITY;
      if (otelRegisteredElsewhere()) {
        const why = this.loadError instanceof Error ? this.loadError.message : String(this.loadError);
        process.emitWarning(`@weft/proxy records no spans: ${why}`, { code: 'WEFT_ERR_MISSING_PEER_DEPENDENCY' });
      }
      return false;
    }
    const provider = api.trace.getTracerProvider() as { getDelegate?: () => object };
    const delegate = typeof provider.getDelegate === 'function' ? provider.getDelegate() : provider;
    this.active = delegate.constructor.name !== 'NoopTracerProvider';
    if (this.active && this.tracer === undefined) this.tracer = api.trace.getTracer('@weft/proxy');
    return this.active;
  }

  /** True when the caller runs inside a span of its own (OpenTelemetry's active context). */
  hasActiveSpan(): boolean {
    const api = this.otel();
    return api !== null && api.trace.getSpanContext(api.context.active()) !== undefined;
  }

  /**
   * Starts a client span for a call to `service`, child of `parent` (a remote parent from an
   * incoming `traceparent`) or of the active context. Only called once {@link enabled} said yes.
   */
  start(service: string, method: string, path: string, parent: TraceParent | undefined): MeshSpan {
    const tracer = (this.explicit ?? this.tracer) as MeshTracer;
    const api = this.otel() as OtelApi;
    let ctx = api.context.active();
    if (parent !== undefined)
      ctx = api.trace.setSpanContext(ctx, {
        traceId: parent.traceId,
        spanId: parent.spanId,
        traceFlags: parent.flags,
        isRemote: true,
      });
    return tracer.startSpan(
      `${method} ${service}`,
      {
        kind: SPAN_KIND_CLIENT,
        attributes: { 'http.request.method': method, 'url.path': path, 'peer.service': service },
      },
      ctx,
    );
  }

  /** Ends `span` with the call's result. */
  end(span: MeshSpan, status: number, upstream: string | undefined, attempts: number, error: Error | undefined): void {
    if (status > 0) span.setAttribute('http.response.status_code', status);
    if (upstream !== undefined) span.setAttribute('server.address', upstream);
    if (attempts > 1) span.setAttribute('weft.attempts', attempts);
    if (error !== undefined) {
      span.recordException(error);
      span.setStatus({ code: SPAN_STATUS_ERROR, message: error.message });
    } else if (status >= 500) span.setStatus({ code: SPAN_STATUS_ERROR });
    span.end();
  }
}
