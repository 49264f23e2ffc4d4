import type { X509Certificate } from 'node:crypto';
import type { Server } from 'node:net';
import type { SecureContextOptions, TLSSocket, TlsOptions } from 'node:tls';
import { type AuthzPeer, InvalidArgumentError } from '@weft/core';
import type { Dispatcher } from 'undici';
import type { AuthorizationInput } from '../engine/authorization.js';
import { type EndpointPool, MeshEngine, type MeshEngineOptions, type PoolFactory } from '../engine/engine.js';
import { HOP_BY_HOP } from '../engine/headers.js';
import { nextRequestId } from '../engine/request-id.js';
import { MeshRequestError } from '../errors.js';
import { Http1Pool, type Http1PoolOptions } from '../http1/client.js';
import { type Http1Exchange, Http1Server } from '../http1/server.js';
import { MeshTlsClient } from '../tls/client.js';
import { http1Pools } from '../tls/http1-pools.js';
import { subjectAltNames } from '../tls/subject-alt-names.js';
import { AdminServer } from './admin.js';
import { ForwardHandler, sendError } from './forward.js';
import { connectionPeer } from './peer.js';
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
  /**
   * Serve HTTPS (a gateway terminating TLS): node:tls server options with `key` and `cert` (or
   * `pfx`); `requestCert` with `ca` asks clients for certificates. HTTP/1.1 only (said in ALPN).
   * Requests are forwarded with `x-forwarded-proto: https`. Renew the certificate with
   * {@link Sidecar.setSecureContext}.
   */
  tls?: TlsOptions;
  /**
   * With `tls`: plain HTTP on the same port. `serve` (a permissive mTLS listener): a connection
   * whose first byte is not a TLS handshake is served as plain HTTP — its callers have no
   * verified identity and are forwarded with `x-forwarded-proto: http`; `refuse`: such a
   * connection gets one `403` (`WEFT_ERR_FORBIDDEN`, TLS required) and is closed. Unset: plain
   * bytes fail the TLS handshake and the connection is dropped.
   */
  plaintext?: 'serve' | 'refuse';
  /**
   * With `tls.requestCert`: tell the upstream who the client is, in `x-forwarded-client-cert`
   * (Envoy's format, see {@link clientCertHeader}) when the client presented a certificate the
   * `ca` verified. A client's own `x-forwarded-client-cert` is dropped either way. Default false.
   */
  forwardClientCert?: boolean;
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
  /**
   * Longest wait for a client to take the response bytes it was sent, ms (nginx's
   * `send_timeout`): a client that stops reading is disconnected rather than holding its
   * response, the upstream call and any requests it pipelined. Default 60 000.
   */
  sendTimeoutMs?: number;
  /** How long {@link Sidecar.drain} waits for in-flight requests, ms. Default 10 000. */
  drainTimeoutMs?: number;
  /**
   * On SIGTERM / SIGINT, {@link Sidecar.drain} and then end the process with exit code 0, as the
   * signal would have ended it — unless the application listens for that signal itself
   * (`process.on('SIGTERM', …)`): then it owns the shutdown of everything else in the process
   * (other servers, open handles), and the sidecar only drains. Default false.
   */
  handleSignals?: boolean;
  /** Access log: a sink, `true` (default) for pino on stdout, `false` for none. */
  accessLog?: MeshEngineOptions['accessLog'];
  /**
   * Makes the pool of each upstream endpoint. Default: the sidecar's own HTTP/1.1 pool for
   * `http` endpoints; `https` endpoints need one given here, e.g. undici's
   * `(origin, options) => new Pool(origin, options)`. With `mtls`, endpoints that announce an
   * identity (`weft_mtls` metadata) always get the sidecar's own pool over TLS; this factory
   * makes the others.
   */
  upstreamPool?: PoolFactory;
}

/** Refuses TLS options without a certificate up front, rather than a failed handshake per client. */
function checkTls(tls: SecureContextOptions): void {
  if (tls === null || typeof tls !== 'object')
    throw new InvalidArgumentError('sidecar options', [{ path: 'tls', message: 'must be node:tls options' }]);
  if (tls.pfx === undefined && (tls.key === undefined || tls.cert === undefined))
    throw new InvalidArgumentError('sidecar options', [
      { path: 'tls', message: 'needs `key` and `cert` (PEM), or `pfx`' },
    ]);
}

/** The default upstream pools: plain HTTP/1.1 on the sidecar's own client. */
function defaultUpstreamPool(origin: string, options: Http1PoolOptions): EndpointPool {
  // The front end follows the read-buffer lending protocol (http1/read-buffers.ts): responses
  // stream through without a copy per read, and memory stays flat for a slow reader.
  if (origin.startsWith('http:')) return new Http1Pool(origin, { ...options, lendReadBuffers: true });
  return new UnsupportedPool(origin);
}

/** Stands in for an endpoint the default pools cannot reach: each call fails with a clear error. */
class UnsupportedPool implements EndpointPool {
  constructor(private readonly origin: string) {}
  dispatch(_options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const error = new MeshRequestError(
      'WEFT_ERR_INVALID_ARGUMENT',
      `The sidecar's built-in upstream client speaks plain HTTP/1.1; ${this.origin} needs the \`upstreamPool\` option (e.g. undici's Pool)`,
      { status: 502 },
    );
    const controller = { aborted: false, paused: false, reason: null, abort() {}, pause() {}, resume() {} };
    handler.onRequestStart?.(controller, {});
    handler.onResponseError?.(controller, error);
    return true;
  }
  async close(): Promise<void> {}
  async destroy(): Promise<void> {}
}

/** Where a started sidecar listens. */
export interface SidecarAddresses {
  port: number;
  adminPort: number | undefined;
  tcpPorts: Record<string, number>;
}

// The sidecar sets these itself (the X-Forwarded-For chain is carried over into its own). A
// client's x-forwarded-client-cert is never passed on: only the sidecar vouches for a certificate.
const REQUEST_HOP: ReadonlySet<string> = new Set([
  ...HOP_BY_HOP,
  'host',
  'x-request-id',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-forwarded-client-cert',
]);

/**
 * Envoy's `x-forwarded-client-cert` element for a verified client certificate:
 * `Hash=<sha256 of the DER, hex>;Subject="/C=…/CN=…";URI=<uri SAN>;DNS=<dns SAN>` (one pair per
 * SAN). A value holding `,` `;` `=` or `"` is quoted (and `"` `\` escaped), so a SAN cannot add
 * pairs of its own.
 */
export function clientCertHeader(cert: X509Certificate): string {
  const parts = [`Hash=${cert.fingerprint256.replaceAll(':', '').toLowerCase()}`];
  // OpenSSL's one-line form, as Envoy writes it: /C=US/O=Acme/CN=client.
  const subject = cert.subject
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => `/${l}`)
    .join('');
  parts.push(`Subject=${quoteXfcc(subject, true)}`);
  for (const [type, value] of subjectAltNames(cert.subjectAltName ?? '')) {
    if (type === 'URI' || type === 'DNS') parts.push(`${type}=${quoteXfcc(value, false)}`);
  }
  return parts.join(';');
}

function quoteXfcc(value: string, always: boolean): string {
  if (!always && !/[,;="\\]/.test(value)) return value;
  return `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

/**
 * The sidecar / gateway: an HTTP/1.1 server of its own (on node:net, or node:tls for HTTPS) on the
 * same engine as {@link MeshAgent}, so services
 * in any language get the mesh. `http://localhost:6379/reviews/api/1` (or `Host: reviews`) goes to
 * an instance of `reviews` as `/api/1`, with rules, faults, retries, ejection, breakers, access log
 * and metrics. Errors are JSON: 404 unknown service, 503 no healthy instance, 412 no matching
 * route, 504 retries exhausted — each with the request id.
 *
 * @example
 * ```ts
 * import { Discovery, MemoryRegistry } from '@weft/core';
 * import { rulesRouter, Sidecar } from '@weft/proxy/sidecar';
 *
 * const discovery = new Discovery({ sources: [new MemoryRegistry().asSource()] });
 * const router = rulesRouter([{ destination: 'reviews', route: { backends: [{ tags: ['version=v1'] }] } }]);
 * const sidecar = new Sidecar({ discovery, router, identity: { name: 'productpage' }, handleSignals: true });
 * const { port, adminPort } = await sidecar.listen(); // 6379 and 8082 by default
 * // the app calls http://127.0.0.1:6379/reviews/api/1
 * ```
 */
export class Sidecar {
  /** @internal The request engine. */
  readonly engine: MeshEngine;
  /** mTLS to upstreams that announce an identity (`mtls` option). */
  private readonly upstreamTls: MeshTlsClient | undefined;
  /** The proxy's listening socket. */
  readonly server: Server;
  private readonly front: Http1Server;
  private readonly options: SidecarOptions;
  private readonly admin: AdminServer | undefined;
  private readonly tcp: TcpProxy[];
  private readonly maxBody: number;
  private readonly routing: SidecarRouting;
  private draining = false;
  /** XFCC element per client connection (when `forwardClientCert`). */
  private readonly clientCerts = new WeakMap<object, string | null>();
  /** The caller of each connection, for authorization (computed once per connection). */
  private readonly peers = new WeakMap<object, AuthzPeer>();
  /** Host header → whether it names a mesh service (cleared when Discovery changes). */
  private readonly hostVerdicts = new Map<string, string | null>();
  private routerVersion: number | undefined;
  private readonly onDiscoveryChange = (): void => {
    if (this.hostVerdicts.size > 0) this.hostVerdicts.clear();
  };
  private drained: Promise<void> | undefined;
  private readonly onSignal = (signal: NodeJS.Signals): void => {
    void this.drain().then(() => {
      // drain() removed this listener: any left are the application's. Without them Node's
      // default action would have ended the process at once; with them, exiting here would
      // take down whatever else the application still runs.
      if (process.listenerCount(signal) === 0) process.exit(0);
    });
  };

  constructor(options: SidecarOptions) {
    this.options = options;
    this.upstreamTls = options.mtls === undefined ? undefined : new MeshTlsClient(options.mtls);
    const plainPools = options.upstreamPool ?? defaultUpstreamPool;
    this.engine = new MeshEngine(
      { ...options, accessLog: options.accessLog ?? true },
      this.upstreamTls === undefined ? plainPools : http1Pools(this.upstreamTls, plainPools),
    );
    this.routing = options.routing ?? 'both';
    this.maxBody = options.maxBodyBytes ?? 10 * 1024 * 1024;
    if (options.tls !== undefined) checkTls(options.tls);
    this.front = new Http1Server(
      {
        maxHeaderSize: options.maxHeaderBytes ?? 16 * 1024,
        headersTimeout: options.headersTimeoutMs ?? 10_000,
        requestTimeout: options.requestTimeoutMs ?? 300_000,
        keepAliveTimeout: options.keepAliveTimeoutMs ?? 65_000,
        sendTimeout: options.sendTimeoutMs ?? 60_000,
        tls: options.tls,
        plaintext: options.tls === undefined ? undefined : options.plaintext,
      },
      (ex) => this.handle(ex),
    );
    this.server = this.front.server;
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

  /**
   * Changes the HTTPS listener's secure-context options for new connections, e.g. a renewed
   * `key` and `cert`; connections already open keep theirs. The options are merged over the
   * current ones, so the client `ca`, ciphers and the like stay unless given again.
   * @throws TypeError when the sidecar was not started with `tls`.
   */
  setSecureContext(options: SecureContextOptions): void {
    checkTls({ ...this.front.options.tls, ...options });
    this.front.setSecureContext(options);
  }

  /** The caller of the exchange's connection, for authorization (worked out once per connection). */
  private peerOf(ex: Http1Exchange): AuthzPeer {
    let peer = this.peers.get(ex.conn);
    if (peer === undefined) {
      peer = connectionPeer(ex.conn.socket, isEncrypted(ex));
      this.peers.set(ex.conn, peer);
    }
    return peer;
  }

  /**
   * Puts new authorization policies in force for the requests this sidecar receives (whole: a
   * request is judged by the old set or the new one). See `authorization` in the options.
   *
   * @throws InvalidArgumentError naming every bad field of a document (the old policies stay).
   */
  setAuthorization(authorization: AuthorizationInput | undefined): void {
    this.engine.setAuthorization(authorization);
  }

  /** The connection's verified client certificate as an XFCC element (once per connection), or null. */
  private clientCert(ex: Http1Exchange): string | null {
    let value = this.clientCerts.get(ex.conn);
    if (value === undefined) {
      const socket = ex.conn.socket as TLSSocket;
      const cert = socket.authorized ? socket.getPeerX509Certificate() : undefined;
      value = cert === undefined ? null : clientCertHeader(cert);
      this.clientCerts.set(ex.conn, value);
    }
    return value;
  }

  /** True once {@link drain} started. */
  get isDraining(): boolean {
    return this.draining;
  }

  /** Starts every listener. */
  async listen(): Promise<SidecarAddresses> {
    const host = this.options.host ?? '127.0.0.1';
    const port = await this.front.listen(this.options.port ?? 6379, host);
    const adminPort = await this.admin?.listen(host);
    const tcpPorts: Record<string, number> = {};
    for (const t of this.tcp) tcpPorts[t.service] = await t.listen(host);
    if (this.options.handleSignals) {
      process.once('SIGTERM', this.onSignal);
      process.once('SIGINT', this.onSignal);
    }
    return { port, adminPort, tcpPorts };
  }

  /**
   * Resolves the destination of a request: `[service, upstream path, routed by Host]`, or
   * undefined. `hostHeader` is the request's authority (an absolute-form target's, else Host).
   */
  resolve(
    target: string,
    hostHeader: string | undefined,
  ): [service: string, path: string, byHost: boolean] | undefined {
    if (this.routing !== 'path') {
      if (hostHeader !== undefined) {
        const service = this.hostService(hostHeader);
        if (service !== null) return [service, target, true];
      }
      if (this.routing === 'host') return undefined;
    }
    const url = target;
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
    return [service, rest === '' ? '/' : rest.charCodeAt(0) === 63 ? `/${rest}` : rest, false];
  }

  private handle(ex: Http1Exchange): void {
    const head = ex.head;
    const headers = head.headers;
    // The few headers the sidecar reads, in one pass over the flat list.
    let incomingId: string | undefined;
    let xff: string | undefined;
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i] as string;
      if (name.length === 12 && name.toLowerCase() === 'x-request-id') incomingId = headers[i + 1];
      else if (name.length === 15 && name.toLowerCase() === 'x-forwarded-for')
        xff = xff === undefined ? headers[i + 1] : `${xff}, ${headers[i + 1]}`;
    }
    const requestId = incomingId !== undefined && incomingId !== '' ? incomingId : nextRequestId();
    const target = this.resolve(head.target, head.host);
    if (target === undefined) {
      const name = head.target.split(/[/?]/)[1] ?? '';
      sendError(ex, 404, 'WEFT_ERR_UNKNOWN_SERVICE', `Unknown service "${name}"`, requestId);
      return;
    }
    const [service, path, byHost] = target;
    if (head.contentLength > this.maxBody) {
      sendError(ex, 413, 'WEFT_ERR_PAYLOAD_TOO_LARGE', `Request body larger than ${this.maxBody} bytes`, requestId);
      return;
    }
    // Hop-by-hop headers, and those the Connection header names, are not forwarded.
    let drop = REQUEST_HOP;
    const named = head.connectionNames;
    if (named?.some((n) => n !== 'keep-alive' && n !== 'close')) {
      const d = new Set(REQUEST_HOP);
      for (const n of named) d.add(n);
      drop = d;
    }
    const remote = ex.remoteAddress;
    const forwardedFor = xff === undefined ? remote : `${xff}, ${remote}`;
    // Per connection: a permissive listener (`plaintext: 'serve'`) has both kinds.
    const proto = isEncrypted(ex) ? 'https' : 'http';
    const forwardedHost = head.host ?? '';
    // The upstream's Host (the client's is dropped with the hop-by-hop headers): the authority
    // the client asked for when it named the service there, the service name when the path did
    // (`localhost:6379` means nothing to the upstream); none with `hostHeader: 'endpoint'`, so
    // the pool writes the endpoint's address. One literal, cut short when there is no Host: an
    // array grown by push reallocates its backing store, a shortened one is trimmed in place.
    const extra = [
      'x-request-id',
      requestId,
      'x-forwarded-for',
      forwardedFor,
      'x-forwarded-proto',
      proto,
      'x-forwarded-host',
      forwardedHost,
      'host',
      byHost ? (head.host as string) : service,
    ];
    if (this.engine.hostIsEndpoint) extra.length = 8;
    if (this.options.forwardClientCert === true && isEncrypted(ex)) {
      const xfcc = this.clientCert(ex);
      if (xfcc !== null) extra.push('x-forwarded-client-cert', xfcc);
    }
    const handler = new ForwardHandler(ex, requestId);
    const opts: Dispatcher.DispatchOptions = {
      method: head.method as Dispatcher.HttpMethod,
      path,
      headers,
      body: ex.body,
      upgrade: head.upgrade ? upgradeProtocol(headers) : null,
    };
    this.engine.call(service, opts, handler, {
      requestId,
      dropHeaders: drop,
      extraHeaders: extra,
      routePath: path,
      maxBodyBytes: this.maxBody,
      clientIp: remote,
      peer: this.engine.authorizer === undefined ? undefined : this.peerOf(ex),
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
    const closed = this.front.drain();
    for (const t of this.tcp) t.close();
    const deadline = Date.now() + (this.options.drainTimeoutMs ?? 10_000);
    while (this.engine.inflight > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      this.front.closeIdle();
    }
    this.front.closeAll();
    await closed;
    await this.admin?.close();
    await this.engine.close();
    this.upstreamTls?.close();
  }

  /** Closes at once (tests); in-flight requests are cut. */
  async close(): Promise<void> {
    this.draining = true;
    this.options.discovery.off('change', this.onDiscoveryChange);
    process.off('SIGTERM', this.onSignal);
    process.off('SIGINT', this.onSignal);
    await this.front.close();
    for (const t of this.tcp) t.close();
    await this.admin?.close();
    await this.engine.destroy();
    this.upstreamTls?.close();
  }
}

/** True when the exchange's connection is TLS (a TLSSocket says `encrypted`; a plain socket has no such field). */
function isEncrypted(ex: Http1Exchange): boolean {
  return (ex.conn.socket as Partial<TLSSocket>).encrypted === true;
}

/** The protocol a client asks to upgrade to (the Upgrade header). */
function upgradeProtocol(headers: readonly string[]): string {
  for (let i = 0; i < headers.length; i += 2)
    if ((headers[i] as string).toLowerCase() === 'upgrade') return headers[i + 1] as string;
  return '';
}
