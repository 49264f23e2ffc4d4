import { WeftError } from '@weft/core';
import type { MeshTracer } from '@weft/proxy/sidecar';

/** The OpenTelemetry packages `tracing.otlpEndpoint` loads, and the ranges Weft is written against. */
export const OTEL_PEERS = {
  '@opentelemetry/api': '^1.10.0',
  '@opentelemetry/sdk-trace': '^3.1.1',
  '@opentelemetry/resources': '^3.1.1',
  '@opentelemetry/exporter-trace-otlp-http': '^0.301.2',
} as const;

/** The proxy's tracer while `tracing.otlpEndpoint` is set, and how to flush it. */
export interface SidecarTracing {
  readonly tracer: MeshTracer;
  /** Exports the spans still batched, then stops (the agent calls it once the proxy drained). */
  shutdown(): Promise<void>;
}

/** A package of {@link OTEL_PEERS} could not be loaded: say which to install, with the setting that asked. */
function missingPeer(err: unknown): never {
  const message = err instanceof Error ? err.message : '';
  const code = (err as { code?: unknown }).code;
  const name = Object.keys(OTEL_PEERS).find((p) => message.includes(`'${p}'`));
  if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && name !== undefined) {
    const install = Object.entries(OTEL_PEERS)
      .map(([p, range]) => `${p}@"${range}"`)
      .join(' ');
    throw new WeftError(
      'WEFT_ERR_MISSING_PEER_DEPENDENCY',
      `tracing.otlpEndpoint needs the package "${name}", an optional peer dependency of @weft/servers that is ` +
        `not installed: run \`npm install ${install}\` next to weft, or drop tracing.otlpEndpoint`,
      { cause: err },
    );
  }
  throw err;
}

/**
 * The tracer of `weft sidecar --tracing-otlp-endpoint <url>`: an OpenTelemetry SDK tracer
 * provider whose resource is the app's `service.name`, exporting the proxy's client spans in
 * batches to an OTLP/HTTP receiver (a collector, Jaeger, Tempo…) as JSON. The packages are
 * optional peers, imported only here, so a sidecar that does not trace never loads them.
 *
 * @throws WeftError `WEFT_ERR_MISSING_PEER_DEPENDENCY` naming the package to install.
 */
export async function openSidecarTracing(endpoint: string, serviceName: string | undefined): Promise<SidecarTracing> {
  const [sdk, resources, otlp] = await Promise.all([
    import('@opentelemetry/sdk-trace'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/exporter-trace-otlp-http'),
  ]).catch(missingPeer);
  const provider = new sdk.TracerProvider({
    resource: resources.resourceFromAttributes({ 'service.name': serviceName ?? 'weft-sidecar' }),
    spanProcessors: [new sdk.BatchSpanProcessor({ exporter: new otlp.OTLPTraceExporter({ url: endpoint }) })],
  });
  return {
    tracer: provider.getTracer('@weft/servers sidecar'),
    shutdown: () => provider.shutdown(),
  };
}
