import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RecentAccessLog } from './recent-access-log.js';

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
  /** Prometheus text: the proxy's metrics (none without a proxy), then the agent's own; undefined answers 404. */
  metrics(): string | undefined;
  /** Known services and their endpoints, for GET /debug/endpoints. */
  endpoints(): unknown;
  /**
   * The proxy's recent access-log records that match the query string, for GET /debug/access-log
   * (`request_id_prefix`, `field` + `value`, `since`, `limit`): a resilience recipe reads them
   * here. Undefined without a proxy.
   */
  accessLog?(params: URLSearchParams): { status: number; body: unknown } | undefined;
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
 * otherwise and while draining), `GET /metrics`, `GET /debug/endpoints`, `GET /debug/access-log`
 * (the proxy's recent access-log records, filtered; see {@link RecentAccessLog}). Its own small server
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
    const url = new URL(req.url ?? '/', 'http://admin');
    const path = url.pathname;
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
      else if (path === '/debug/access-log') {
        const answer = this.content.accessLog?.(url.searchParams);
        if (answer === undefined) json(res, 404, { error: 'no proxy, no access log' });
        else json(res, answer.status, answer.body);
      } else
        json(res, 404, {
          error: 'not found',
          endpoints: ['/health', '/ready', '/metrics', '/debug/endpoints', '/debug/access-log'],
        });
    } catch (err) {
      json(res, 500, { error: String(err) });
    }
  }
}
