import { connect, createServer, type Server, type Socket } from 'node:net';
import { LOOPBACK } from './ports.js';

export interface TcpCutProxyOptions {
  /** Where to forward to. */
  targetHost?: string;
  targetPort: number;
  /** Where to listen (default 127.0.0.1 on a free port). */
  listenHost?: string;
  listenPort?: number;
}

interface Pair {
  client: Socket;
  upstream: Socket | undefined;
}

/**
 * TCP forwarder for fault tests: point a client at `proxy.port` instead of
 * the server, then
 *  - `cut()` severs every open connection (RST on both sides) while new ones still work,
 *  - `pause()` / `resume()` stall traffic in both directions (and hold new connections) without closing anything,
 *  - `refuse(true)` resets new connections as soon as they are accepted (server "down"), `refuse(false)` undoes it.
 */
export class TcpCutProxy {
  readonly targetHost: string;
  readonly targetPort: number;
  private readonly listenHost: string;
  private readonly requestedPort: number;
  private readonly server: Server;
  private readonly pairs = new Set<Pair>();
  private paused = false;
  private refusing = false;
  private boundPort = 0;
  private accepted = 0;

  constructor(options: TcpCutProxyOptions) {
    this.targetHost = options.targetHost ?? LOOPBACK;
    this.targetPort = options.targetPort;
    this.listenHost = options.listenHost ?? LOOPBACK;
    this.requestedPort = options.listenPort ?? 0;
    this.server = createServer({ pauseOnConnect: true, allowHalfOpen: true }, (client) => this.onConnection(client));
  }

  /** Creates and starts a proxy to `targetPort` (on 127.0.0.1 unless `targetHost` is given). */
  static async start(options: TcpCutProxyOptions): Promise<TcpCutProxy> {
    const proxy = new TcpCutProxy(options);
    await proxy.listen();
    return proxy;
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host: this.listenHost, port: this.requestedPort }, () => {
        this.server.off('error', reject);
        const addr = this.server.address();
        if (addr !== null && typeof addr !== 'string') this.boundPort = addr.port;
        resolve();
      });
    });
  }

  /** Port the proxy listens on. */
  get port(): number {
    return this.boundPort;
  }

  get host(): string {
    return this.listenHost;
  }

  /** `http://127.0.0.1:PORT` (or another scheme) pointing at the proxy. */
  url(scheme = 'http'): string {
    return `${scheme}://${this.listenHost}:${this.boundPort}`;
  }

  /** Open client connections right now. */
  get connections(): number {
    return this.pairs.size;
  }

  /** Connections accepted since start. */
  get totalAccepted(): number {
    return this.accepted;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** Severs every open connection with a TCP RST on both sides; the proxy keeps accepting new ones. */
  cut(): void {
    for (const pair of [...this.pairs]) this.destroyPair(pair);
  }

  /** Stops moving bytes both ways (sockets stay open, peers see a hang); new connections are held, not forwarded. */
  pause(): void {
    this.paused = true;
    for (const { client, upstream } of this.pairs) {
      client.pause();
      upstream?.pause();
    }
  }

  /** Undoes pause(): buffered bytes flow and held connections are forwarded. */
  resume(): void {
    this.paused = false;
    for (const pair of [...this.pairs]) {
      if (pair.upstream === undefined) this.openUpstream(pair);
      else {
        pair.client.resume();
        pair.upstream.resume();
      }
    }
  }

  /** While true, new connections are reset right after accept (like a server that is down). */
  refuse(on = true): void {
    this.refusing = on;
  }

  /** Stops listening and severs all connections. */
  close(): Promise<void> {
    this.cut();
    return new Promise((resolve) => {
      if (!this.server.listening) {
        resolve();
        return;
      }
      this.server.close(() => resolve());
    });
  }

  private onConnection(client: Socket): void {
    this.accepted++;
    if (this.refusing) {
      client.resetAndDestroy();
      return;
    }
    const pair: Pair = { client, upstream: undefined };
    this.pairs.add(pair);
    client.setNoDelay(true);
    client.on('error', () => this.destroyPair(pair));
    client.on('close', () => this.destroyPair(pair));
    if (!this.paused) this.openUpstream(pair);
  }

  private openUpstream(pair: Pair): void {
    const upstream = connect({ host: this.targetHost, port: this.targetPort, allowHalfOpen: true });
    pair.upstream = upstream;
    upstream.setNoDelay(true);
    upstream.on('error', () => this.destroyPair(pair));
    upstream.on('close', () => this.destroyPair(pair));
    upstream.once('connect', () => {
      if (!this.pairs.has(pair)) return;
      this.forward(pair.client, upstream);
      this.forward(upstream, pair.client);
      if (this.paused) upstream.pause();
      else pair.client.resume();
    });
  }

  /** Hand-rolled pipe(): pipe() resumes its source on 'drain', which would undo pause(). */
  private forward(from: Socket, to: Socket): void {
    from.on('data', (chunk: Buffer) => {
      if (!to.write(chunk)) {
        from.pause();
        to.once('drain', () => {
          if (!this.paused) from.resume();
        });
      }
    });
    // Propagate half-close (FIN) so request/response protocols that rely on it keep working.
    from.on('end', () => {
      if (!to.destroyed) to.end();
    });
  }

  private destroyPair(pair: Pair): void {
    if (!this.pairs.delete(pair)) return;
    for (const s of [pair.client, pair.upstream]) {
      if (s !== undefined && !s.destroyed) {
        // resetAndDestroy() needs a connected socket; fall back to destroy() while connecting.
        if (s.readyState === 'open' || s.readyState === 'readOnly' || s.readyState === 'writeOnly') s.resetAndDestroy();
        else s.destroy();
      }
    }
  }
}
