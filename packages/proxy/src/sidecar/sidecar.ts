import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Dispatcher } from 'undici';
import { MeshEngine, type MeshEngineOptions } from '../engine/engine.js';
import { HOP_BY_HOP } from '../engine/headers.js';
import { nextRequestId } from '../engine/request-id.js';
import { AdminServer } from './admin.js';
import { ForwardHandler, sendError } from './forward.js';
import { TcpProxy, type TcpProxyOptions } from './tcp.js';

/** How the sidecar finds the destination service of a request. */
export type SidecarRouting = 'path' | 'host' | 'both';

/** Options of a {@link Sidecar}. */
export interface SidecarOptions extends Omit<MeshEngineOptions, 'accessLog'> {
  /** Port of the proxy listener. Default 6379 (Amalgam8's); 0 picks a free one. */
  port?: number;
  /** Address to listen on. Default `127.0.0.1` (a sidecar serves its own pod / host). */
  host?: string;
  /**
   * `path`: `/<service>/<path>` with the prefix rewritten (Amalgam8 style); `host`: `Host: <service>`;
   * `both` (default): a Host that names a mesh service wins, else the first path segment.
   */
  routing?: SidecarRouting;
  /** Admin listener (health, metrics, debug); `false` for none. Default port 8082 on `host`. */
  admin?: { port?: number; host?: string } | false;
  /** TCP listeners: one per service, L4 load balancing over its instances. */
  tcp?: readonly TcpProxyOptions[];
  /** Largest request body, bytes (413 above). Default 10 MiB. */
  maxBodyBytes?: number;
  /** Largest request head, bytes (node answers 431 above). Default 16 KiB. */
  maxHeaderBytes?: number;
  /** Time allowed to receive a request's headers, ms. Default 10 000. */
  headersTimeoutMs?: number;
  /** Time allowed to receive a whole request, ms. Default 300 000. */
  requestTimeoutMs?: number;
  /** Idle keep-alive time of client connections, ms. Default 65 000 (longer than typical client pools). */
  keepAliveTimeoutMs?: number;
  /** How long {@link Sidecar.drain} waits for in-flight requests, ms. Default 10 000. */
  drainTimeoutMs?: number;
  /** Drain and close on SIGTERM / SIGINT. Default false (the `weft` CLI turns it on). */
  handleSignals?: boolean;
  /** Access log: a sink, `true` (default) for pino on stdout, `false` for none. */
  accessLog?: MeshEngineOptions['accessLog'];
}

/** Where a started sidecar listens. */
export interface SidecarAddresses {
  port: number;
  adminPort: number | undefined;
  tcpPorts: Record<string, number>;
}

const REQUEST_HOP: ReadonlySet<string> = new Set([...HOP_BY_HOP, 'host', 'x-request-id']);

/**
 * The sidecar / gateway: a node:http server on the same engine as {@link MeshAgent}, so services
 * in any language get the mesh. `http://localhost:6379/reviews/api/1` (or `Host: reviews`) goes to
 * an instance of `reviews` as `/api/1`, with rules, faults, retries, ejection, breakers, access log
 * and metrics. Errors are JSON: 404 unknown service, 503 no healthy instance, 412 no matching
 * route, 504 retries exhausted — each with the request id.
 */
export class Sidecar {
  /** @internal The request engine. */
  readonly engine: MeshEngine;
  /** The proxy's node:http server. */
  readonly server: Server;
  private readonly options: SidecarOptions;
  private readonly admin: AdminServer | undefined;
  private readonly tcp: TcpProxy[];
  private readonly maxBody: number;
  private readonly routing: SidecarRouting;
  private draining = false;
  /** Host header → whether it names a mesh service (cleared when Discovery changes). */
  private readonly hostVerdicts = new Map<string, string | null>();
  private routerVersion: number | undefined;
  private readonly onDiscoveryChange = (): void => {
    if (this.hostVerdicts.size > 0) this.hostVerdicts.clear();
  };
  private drained: Promise<void> | undefined;
  private readonly onSignal = (): void => {
    void this.drain().then(() => process.exit(0));
  };

  constructor(options: SidecarOptions) {
    this.options = options;
    this.engine = new MeshEngine({ ...options, accessLog: options.accessLog ?? true });
    this.routing = options.routing ?? 'both';
    this.maxBody = options.maxBodyBytes ?? 10 * 1024 * 1024;
    this.server = createServer(
      {
        maxHeaderSize: options.maxHeaderBytes ?? 16 * 1024,
        headersTimeout: options.headersTimeoutMs ?? 10_000,
        requestTimeout: options.requestTimeoutMs ?? 300_000,
        keepAliveTimeout: options.keepAliveTimeoutMs ?? 65_000,
        noDelay: true,
      },
      (req, res) => this.handle(req, res),
    );
    this.admin = options.admin === false ? undefined : new AdminServer(this, options.admin ?? {});
    this.tcp = (options.tcp ?? []).map((t) => new TcpProxy(this.engine, t));
    options.discovery.on('change', this.onDiscoveryChange);
  }

  /** The service a Host header names, or null (cached). */
  private hostService(hostHeader: string): string | null {
    const routerVersion = this.engine.router?.version;
    if (routerVersion !== this.routerVersion) {
      this.routerVersion = routerVersion;
      this.hostVerdicts.clear();
    }
    let verdict = this.hostVerdicts.get(hostHeader);
    if (verdict !== undefined) return verdict;
    let host = hostHeader;
    if (host.startsWith('[')) host = host.slice(0, host.indexOf(']') + 1);
    else {
      const colon = host.indexOf(':');
      if (colon >= 0) host = host.slice(0, colon);
    }
    verdict = this.engine.isMeshService(host) ? host : null;
    if (this.hostVerdicts.size > 1000) this.hostVerdicts.clear();
    this.hostVerdicts.set(hostHeader, verdict);
    return verdict;
  }

  /** True once {@link drain} started. */
  get isDraining(): boolean {
    return this.draining;
  }

  /** Starts every listener. */
  async listen(): Promise<SidecarAddresses> {
    const host = this.options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? 6379, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const adminPort = await this.admin?.listen(host);
    const tcpPorts: Record<string, number> = {};
    for (const t of this.tcp) tcpPorts[t.service] = await t.listen(host);
    if (this.options.handleSignals) {
      process.once('SIGTERM', this.onSignal);
      process.once('SIGINT', this.onSignal);
    }
    return { port: (this.server.address() as AddressInfo).port, adminPort, tcpPorts };
  }

  /** Resolves the destination of a request: `[service, upstream path]`, or undefined. */
  resolve(req: IncomingMessage): [string, string] | undefined {
    const url = req.url ?? '/';
    if (this.routing !== 'path') {
      const hostHeader = req.headers.host;
      if (hostHeader !== undefined) {
        const service = this.hostService(hostHeader);
        if (service !== null) return [service, url];
      }
      if (this.routing === 'host') return undefined;
    }
    if (url.charCodeAt(0) !== 47) return undefined;
    let end = url.length;
    for (let i = 1; i < url.length; i++) {
      const c = url.charCodeAt(i);
      if (c === 47 || c === 63) {
        end = i;
        break;
      }
    }
    const service = url.slice(1, end);
    if (service === '' || !this.engine.isMeshService(service)) return undefined;
    const rest = url.slice(end);
    return [service, rest === '' ? '/' : rest.charCodeAt(0) === 63 ? `/${rest}` : rest];
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const headers = req.headers;
    const incomingId = headers['x-request-id'];
    const requestId = typeof incomingId === 'string' && incomingId !== '' ? incomingId : nextRequestId();
    if (this.draining) res.shouldKeepAlive = false;
    const target = this.resolve(req);
    if (target === undefined) {
      const name = (req.url ?? '/').split(/[/?]/)[1] ?? '';
      sendError(res, 404, 'WEFT_ERR_UNKNOWN_SERVICE', `Unknown service "${name}"`, requestId);
      req.resume();
      return;
    }
    const [service, path] = target;
    const lengthHeader = headers['content-length'];
    const length = lengthHeader === undefined ? 0 : Number(lengthHeader);
    if (length > this.maxBody) {
      sendError(res, 413, 'WEFT_ERR_PAYLOAD_TOO_LARGE', `Request body larger than ${this.maxBody} bytes`, requestId);
      req.resume();
      return;
    }
    const hasBody = length > 0 || headers['transfer-encoding'] !== undefined;
    // Hop-by-hop headers, and those the Connection header names, are not forwarded.
    let drop = REQUEST_HOP;
    const connection = headers.connection;
    if (connection !== undefined && connection !== 'keep-alive' && connection !== 'close') {
      const d = new Set(REQUEST_HOP);
      for (const n of connection.toLowerCase().split(/\s*,\s*/)) d.add(n);
      drop = d;
    }
    const remote = req.socket.remoteAddress ?? '';
    const xff = headers['x-forwarded-for'];
    const extra = [
      'x-request-id',
      requestId,
      'x-forwarded-for',
      xff === undefined ? remote : `${xff}, ${remote}`,
      'x-forwarded-proto',
      'http',
      'x-forwarded-host',
      headers.host ?? '',
    ];
    const handler = new ForwardHandler(
      res,
      requestId,
      () => undefined,
      () => this.draining,
    );
    res.on('close', () => {
      if (!res.writableFinished) handler.clientClosed();
    });
    const opts: Dispatcher.DispatchOptions = {
      method: (req.method ?? 'GET') as Dispatcher.HttpMethod,
      path,
      headers: headers as Record<string, string | string[] | undefined>,
      body: hasBody ? req : null,
    };
    this.engine.call(service, opts, handler, {
      requestId,
      dropHeaders: drop,
      extraHeaders: extra,
      routePath: path,
      headerRecord: headers,
      maxBodyBytes: this.maxBody,
    });
  }

  /**
   * Graceful shutdown: stop accepting, answer in-flight requests (closing their connections),
   * wait up to `drainTimeoutMs`, then close pools and flush the access log.
   */
  drain(): Promise<void> {
    this.drained ??= this.doDrain();
    return this.drained;
  }

  private async doDrain(): Promise<void> {
    this.draining = true;
    this.options.discovery.off('change', this.onDiscoveryChange);
    process.off('SIGTERM', this.onSignal);
    process.off('SIGINT', this.onSignal);
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    this.server.closeIdleConnections();
    for (const t of this.tcp) t.close();
    const deadline = Date.now() + (this.options.drainTimeoutMs ?? 10_000);
    while (this.engine.inflight > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      this.server.closeIdleConnections();
    }
    this.server.closeAllConnections();
    await closed;
    await this.admin?.close();
    await this.engine.close();
  }

  /** Closes at once (tests); in-flight requests are cut. */
  async close(): Promise<void> {
    this.draining = true;
    this.options.discovery.off('change', this.onDiscoveryChange);
    process.off('SIGTERM', this.onSignal);
    process.off('SIGINT', this.onSignal);
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
    for (const t of this.tcp) t.close();
    await this.admin?.close();
    await this.engine.destroy();
  }
}
