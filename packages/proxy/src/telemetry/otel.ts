import { createRequire } from 'node:module';
import { WeftError } from '@weft/core';

/*
 * OpenTelemetry without depending on it. `@opentelemetry/api` is an optional peer dependency:
 * most services using the proxy do not trace, and the API is only useful next to an SDK the
 * application installs and configures itself. So it is loaded on first use, never by importing
 * @weft/proxy, and the types below describe what the proxy uses instead of importing the API's:
 * a published declaration that names a package the user has not installed breaks their build
 * under `skipLibCheck: false`. The API's own `Tracer` and `Span` fit these shapes.
 */

/** A span, as the proxy uses one (OpenTelemetry's `Span` is one). */
export interface MeshSpan {
  spanContext(): { traceId: string; spanId: string; traceFlags: number };
  setAttribute(key: string, value: string | number): unknown;
  setStatus(status: { code: number; message?: string }): unknown;
  recordException(exception: Error): void;
  end(): void;
}

/** What the proxy passes when it starts a span: OpenTelemetry's `SpanOptions`, in part. */
export interface MeshSpanOptions {
  /** OpenTelemetry's `SpanKind` (the proxy starts `CLIENT` spans, 2). */
  kind?: number;
  attributes?: Record<string, string | number>;
}

/**
 * An OpenTelemetry tracer, as the proxy uses one: what `trace.getTracer('my-service')` of
 * `@opentelemetry/api` returns fits, and so does any object with a compatible `startSpan`.
 * `context` is an OpenTelemetry `Context`.
 */
export interface MeshTracer {
  startSpan(name: string, options?: MeshSpanOptions, context?: unknown): MeshSpan;
}

/** `SpanKind.CLIENT` and `SpanStatusCode.ERROR` of the API (both 2 since 1.0). */
export const SPAN_KIND_CLIENT = 2;
export const SPAN_STATUS_ERROR = 2;

/** The parts of `@opentelemetry/api` the proxy calls; `Context` stays opaque. */
export interface OtelApi {
  trace: {
    getTracerProvider(): object;
    getTracer(name: string): MeshTracer;
    getSpanContext(context: unknown): object | undefined;
    setSpanContext(
      context: unknown,
      spanContext: { traceId: string; spanId: string; traceFlags: number; isRemote: boolean },
    ): unknown;
  };
  context: { active(): unknown };
}

/** The package, and the range of it the proxy is written against (its peer dependency range). */
export const OTEL_API = '@opentelemetry/api';
export const OTEL_API_RANGE = '^1.10.0';

/** Tracing was asked for and `@opentelemetry/api` is not installed. */
export class MissingPeerDependencyError extends WeftError {
  /** The package to install. */
  readonly packageName = OTEL_API;
  constructor(cause: unknown) {
    super(
      'WEFT_ERR_MISSING_PEER_DEPENDENCY',
      `Tracing needs the package "${OTEL_API}" (${OTEL_API_RANGE}), an optional peer dependency of @weft/proxy ` +
        `that is not installed: run \`npm install ${OTEL_API}@"${OTEL_API_RANGE}"\`, or drop the \`tracer\` option`,
      { cause },
    );
    this.name = 'MissingPeerDependencyError';
  }
}

// A synchronous require, so the first call is traced as any other. Relative to this file, so the
// peer resolves as an `import` from @weft/proxy would (the CJS build gets `import.meta.url` from
// tsup's shim). The API keeps its registrations on `globalThis` (a symbol per major version), so
// this CommonJS copy shares the provider and the context manager with an application's ESM one.
const requireFromHere = createRequire(import.meta.url);

/**
 * Loads `@opentelemetry/api`. Throws {@link MissingPeerDependencyError} when it is not installed,
 * and any other failure (a broken install) as is.
 */
export function loadOtelApi(): OtelApi {
  try {
    return requireFromHere(OTEL_API) as OtelApi;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const message = err instanceof Error ? err.message : '';
    if (code === 'MODULE_NOT_FOUND' && message.includes(`'${OTEL_API}'`)) throw new MissingPeerDependencyError(err);
    throw err;
  }
}

/**
 * True when some copy of the OpenTelemetry API has registered a tracer provider in this process
 * (the app traces) although this one cannot load the API. Reads the slot the API's copies share,
 * `Symbol.for('opentelemetry.js.api.1')` on `globalThis`; only used to warn, so a change there
 * would cost a warning, never a behaviour.
 */
export function otelRegisteredElsewhere(): boolean {
  const slot = (globalThis as Record<symbol, { trace?: unknown } | undefined>)[Symbol.for('opentelemetry.js.api.1')];
  return slot?.trace !== undefined;
}
