import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MeshEngine } from '../engine/engine.js';
import { PROMETHEUS_CONTENT_TYPE } from '../telemetry/metrics.js';

/**
 * What the admin listener reads of its sidecar: the engine and whether it drains. An interface
 * of its own, so admin does not import the sidecar that creates it (no import circle).
 */
export interface AdminTarget {
  readonly engine: MeshEngine;
  readonly isDraining: boolean;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, null, 2);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * The sidecar's admin listener:
 * - `GET /health` — 200 `{status: "ok"}` (503 `draining` during shutdown) with discovery source health;
 * - `GET /metrics` — Prometheus text from the engine's registry;
 * - `GET /debug/endpoints[?service=]` — every known service's subsets and endpoints with ejection and breaker state;
 * - `GET /debug/explain?service=&path=&method=&header.<name>=` — what the router would do with such a request.
 */
export class AdminServer {
  /** The admin node:http server, once listening. */
  server: Server | undefined;

  constructor(
    private readonly sidecar: AdminTarget,
    private readonly options: { port?: number; host?: string },
  ) {}

  async listen(defaultHost: string): Promise<number> {
    // node:http is loaded here, not at import: a sidecar without an admin listener never loads it.
    const { createServer } = await import('node:http');
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => json(res, 500, { error: String(err) }));
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 8082, this.options.host ?? defaultHost, () => resolve());
    });
    return (server.address() as AddressInfo).port;
  }

  close(): Promise<void> {
    const server = this.server;
    if (server === undefined) return Promise.resolve();
    server.closeAllConnections();
    return new Promise((r) => server.close(() => r()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://admin');
    const engine = this.sidecar.engine;
    switch (url.pathname) {
      case '/health':
      case '/healthz': {
        const draining = this.sidecar.isDraining;
        json(res, draining ? 503 : 200, {
          status: draining ? 'draining' : 'ok',
          inflight: engine.inflight,
          sources: engine.discovery.health().map((h) => ({
            name: h.name,
            state: h.state,
            ...(h.lastError === undefined ? {} : { error: h.lastError.message }),
          })),
        });
        return;
      }
      case '/metrics': {
        const metrics = engine.metrics;
        if (metrics === undefined) {
          json(res, 404, { error: 'metrics are disabled' });
          return;
        }
        // A registry given by the application carries its own metrics too: serve all of it.
        const registry = metrics.registry;
        const text = registry === undefined ? metrics.text() : await registry.metrics();
        res.writeHead(200, { 'content-type': registry?.contentType ?? PROMETHEUS_CONTENT_TYPE });
        res.end(text);
        return;
      }
      case '/debug/endpoints': {
        const only = url.searchParams.get('service');
        const services: Record<string, unknown> = {};
        for (const t of engine.allTables()) {
          if (only !== null && t.name !== only) continue;
          if (t.dirty) t.refresh();
          const set = engine.discovery.endpoints(t.name);
          services[t.name] = {
            stale: set.stale,
            staleForMs: set.staleForMs,
            endpoints: [...t.entries.values()].map((e) => ({
              id: e.id,
              address: e.address,
              tags: e.instance.tags,
              ejected: e.ejected,
              ejections: e.ejections,
              breaker: e.breaker.state,
              inflight: e.inflight,
            })),
            subsets: [...t.subsets.values()].map((s) => ({
              tags: s.tags,
              policy: s.policy,
              endpoints: s.entries.map((e) => e.address),
              // A backend with its own resilience settings has its own pools, breakers and ejections.
              ...(s.backend === undefined
                ? {}
                : {
                    resilience: s.backend.key,
                    bulkhead: { running: s.backend.bulkhead.running, queued: s.backend.bulkhead.queued },
                    ejected: s.entries.filter((e) => e.ejected).map((e) => e.address),
                    breakers: s.entries.map((e) => e.breaker.state),
                  }),
            })),
          };
        }
        json(res, 200, { services });
        return;
      }
      case '/debug/explain': {
        const service = url.searchParams.get('service');
        if (service === null || service === '') {
          json(res, 400, { error: 'give ?service=<name>&path=/..&method=GET&header.<name>=<value>' });
          return;
        }
        const headers: Record<string, string> = {};
        for (const [k, v] of url.searchParams) if (k.startsWith('header.')) headers[k.slice(7).toLowerCase()] = v;
        const request = {
          service,
          method: url.searchParams.get('method') ?? 'GET',
          path: url.searchParams.get('path') ?? '/',
          headers,
          source: engine.options.identity,
        };
        const router = engine.router;
        const known = engine.isMeshService(service);
        if (router === undefined || !router.has(service)) {
          json(res, 200, {
            service,
            known,
            rules: false,
            decision: known ? 'every instance (no rules for this service)' : 'unknown service (404)',
            endpoints: engine.discovery.endpoints(service).instances.map((i) => i.endpoint.value),
          });
          return;
        }
        const explanation = router.explain?.(request) ?? router.route(request);
        json(res, 200, { service, known, rules: true, explanation });
        return;
      }
      default:
        json(res, 404, {
          error: 'not found',
          endpoints: ['/health', '/metrics', '/debug/endpoints', '/debug/explain'],
        });
    }
  }
}
