import { connect, createServer, type Server, type Socket } from 'node:net';
import { Outcome } from '@weft/core';
import { admit, pickEndpoint } from '../engine/admission.js';
import type { MeshEngine } from '../engine/engine.js';
import type { EndpointEntry } from '../engine/service-table.js';

/** A TCP listener that load-balances connections over a service's instances (L4). */
export interface TcpProxyOptions {
  /** The destination service. */
  service: string;
  /** Local port (0 picks one). */
  port: number;
  /** Only instances with all of these tags. */
  tags?: readonly string[];
  /** Connect timeout per attempt, ms. Default 2 000. */
  connectTimeoutMs?: number;
  /** Other instances tried when a connect fails. Default 2. */
  retries?: number;
}

/**
 * One L4 listener: each accepted connection is piped to an instance chosen by the service's
 * picker; connect failures feed outlier detection and the breaker and are retried on another
 * instance, so a dead instance costs the client nothing.
 */
export class TcpProxy {
  readonly service: string;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  constructor(
    private readonly engine: MeshEngine,
    private readonly options: TcpProxyOptions,
  ) {
    this.service = options.service;
    // Half-open both ways: a client that sends its request and shuts its side (FIN) still gets the
    // reply — the FIN is passed on to the upstream, and each side closes when both are done.
    this.server = createServer({ pauseOnConnect: true, noDelay: true, allowHalfOpen: true }, (client) =>
      this.accept(client),
    );
  }

  async listen(host: string): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, host, () => resolve());
    });
    const addr = this.server.address();
    return typeof addr === 'object' && addr !== null ? addr.port : 0;
  }

  close(): void {
    this.server.close();
    for (const s of this.sockets) s.destroy();
  }

  private accept(client: Socket): void {
    this.sockets.add(client);
    client.on('close', () => this.sockets.delete(client));
    client.on('error', () => undefined);
    this.attempt(client, 0, undefined);
  }

  private attempt(client: Socket, tries: number, avoid: EndpointEntry | undefined): void {
    if (client.destroyed) return;
    const table = this.engine.table(this.service);
    const subset = table.subset(this.options.tags ?? [], this.engine.lbPolicy);
    const picker = subset.picker;
    const index = pickEndpoint(subset, undefined, avoid);
    const entry = picker.endpoints[index];
    if (entry === undefined) {
      client.destroy();
      return;
    }
    const token = admit(entry, this.engine.maxRequestsPerEndpoint);
    if (token < 0) {
      if (tries < (this.options.retries ?? 2)) this.attempt(client, tries + 1, entry);
      else client.destroy();
      return;
    }
    // The connection counts as in flight for the picker (least-request balances open
    // connections, as a least-connections L4 balancer does) until it closes.
    picker.onStart(index);
    entry.inflight++;
    const started = performance.now();
    let connectMs = -1;
    const upstream = connect({
      host: entry.instance.endpoint.host ?? '127.0.0.1',
      port: entry.instance.endpoint.port ?? 0,
      noDelay: true,
      allowHalfOpen: true,
    });
    upstream.setTimeout(this.options.connectTimeoutMs ?? 2_000);
    let settled = false;
    /** The connect attempt's outcome, for the breaker and outlier detection. */
    const settle = (outcome: number): void => {
      if (settled) return;
      settled = true;
      connectMs = performance.now() - started;
      entry.breaker.release(token, outcome);
      this.engine.recordOutcome(entry, outcome);
    };
    let ended = false;
    /** The connection is over: the picker learns the connect time and stops counting it. */
    const end = (): void => {
      if (ended) return;
      ended = true;
      entry.inflight--;
      // To the picker that counted the start, even if Discovery changed meanwhile: the load it
      // updates is the entry's own, which a rebuilt picker reads too.
      picker.onEnd(index, connectMs);
    };
    upstream.once('close', end);
    const onConnectFail = (): void => {
      settle(Outcome.ConnectFailure);
      upstream.destroy();
      end();
      if (tries < (this.options.retries ?? 2)) this.attempt(client, tries + 1, entry);
      else client.destroy();
    };
    upstream.once('timeout', onConnectFail);
    upstream.once('error', onConnectFail);
    upstream.once('connect', () => {
      upstream.setTimeout(0);
      upstream.off('timeout', onConnectFail);
      upstream.off('error', onConnectFail);
      settle(Outcome.Success);
      if (client.destroyed) {
        // The client left while the connect was under way.
        upstream.destroy();
        return;
      }
      this.sockets.add(upstream);
      upstream.on('close', () => this.sockets.delete(upstream));
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
  }
}
