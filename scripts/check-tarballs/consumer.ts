// A user's code, type-checked by scripts/check-tarballs.mjs in a fresh project where the packed
// packages are installed without their optional peers (no @opentelemetry/api, no prom-client),
// with `skipLibCheck: false`, under `module: nodenext` and under `moduleResolution: bundler`.
// It uses the options whose types once came from those peers, so a declaration that names one
// again fails here.
import { ClosedError, Discovery, isWeftError, ManualSource, TimeoutError } from '@weft/core';
import { isMeshRequestError, MeshAgent, type MeshSpan, type MeshTracer, type MetricsRegistry } from '@weft/proxy';
import { rulesRouter, Sidecar } from '@weft/proxy/sidecar';

const span: MeshSpan = {
  spanContext: () => ({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1 }),
  setAttribute: () => undefined,
  setStatus: () => undefined,
  recordException: () => undefined,
  end: () => undefined,
};
const tracer: MeshTracer = { startSpan: () => span };
const registry: MetricsRegistry = {
  registerMetric: () => undefined,
  metrics: async () => '',
  contentType: 'text/plain; version=0.0.4; charset=utf-8',
};

export function agent(): MeshAgent {
  const discovery = new Discovery({ sources: [new ManualSource('static', [])] });
  return new MeshAgent({ discovery, tracer, metrics: registry, identity: { name: 'productpage' } });
}

export function sidecar(discovery: Discovery): Sidecar {
  return new Sidecar({ discovery, router: rulesRouter({ rules: [] }), port: 0, admin: false, tracer: false });
}

export function describeError(err: unknown): string {
  if (isWeftError(err, 'WEFT_ERR_TIMEOUT')) return `${err.code} (${err.status})`;
  if (err instanceof TimeoutError) return `${err.timeoutMs} ms`;
  if (isMeshRequestError(err)) return err.attempts.map((a) => a.endpoint).join(', ');
  return err instanceof ClosedError ? 'closed' : 'unknown';
}
