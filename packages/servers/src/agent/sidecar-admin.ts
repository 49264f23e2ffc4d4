import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the admin listener serves; the agent supplies it. */
export interface AdminContent {
  /** The body of GET /health and whether the agent is draining (503 then). */
  health(): { draining: boolean; body: unknown };
  /**
   * Whether the app should get traffic — its health checks pass and the sidecar is not draining —
   * for GET /ready: a Kubernetes readinessProbe, and so the pod's registration in its
   * EndpointSlices, follows the same verdict that gates registration in the other registries.
   */
  ready(): { ready: boolean; body: unknown };
  /** Prometheus text of the proxy's metrics, or undefined without a proxy. */
  metrics(): string | undefined;
  /** Known services and their endpoints, for GET /debug/endpoints. */
  endpoints(): unknown;
}

function send(res: ServerResponse, status: number, type: string, text: string): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const json = (res: ServerResponse, status: number, body: unknown): void =>
  send(res, status, 'application/json', `${JSON.stringify(body, null, 2)}\n`);

/**
 * The sidecar agent's admin listener: `GET /health` (registration, health checks, rules and
 * endpoint staleness, snapshot), `GET /ready` (200 while the app's health checks pass, 503
 * otherwise and while draining), `GET /metrics`, `GET /debug/endpoints`. Its own small server
 * rather than the `Sidecar`'s admin, which serves the proxy only and cannot be extended — so
 * the Sidecar runs with `admin: false` and this one takes the admin port.
 */
export class AgentAdmin {
  private server: Server | undefined;

  constructor(private readonly content: AdminContent) {}

  async listen(host: string, port: number): Promise<number> {
    // node:http only here: the proxy itself never loads it.
    const { createServer } = await import('node:http');
    const server = createServer((req, res) => this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    return (server.address() as AddressInfo).port;
  }

  close(): Promise<void> {
    const server = this.server;
    if (server === undefined) return Promise.resolve();
    server.closeAllConnections();
    return new Promise((resolve) => server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', 'http://admin').pathname;
    try {
      if (path === '/health' || path === '/healthz') {
        const { draining, body } = this.content.health();
        json(res, draining ? 503 : 200, body);
      } else if (path === '/ready' || path === '/readyz') {
        const { ready, body } = this.content.ready();
        json(res, ready ? 200 : 503, body);
      } else if (path === '/metrics') {
        const text = this.content.metrics();
        if (text === undefined) json(res, 404, { error: 'no proxy, no metrics' });
        else send(res, 200, 'text/plain; version=0.0.4; charset=utf-8', text);
      } else if (path === '/debug/endpoints') json(res, 200, this.content.endpoints());
      else json(res, 404, { error: 'not found', endpoints: ['/health', '/ready', '/metrics', '/debug/endpoints'] });
    } catch (err) {
      json(res, 500, { error: String(err) });
    }
  }
}
