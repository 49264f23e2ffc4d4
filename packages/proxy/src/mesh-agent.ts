import { Agent, Dispatcher } from 'undici';
import { type CallInit, MeshEngine, type MeshEngineOptions } from './engine/engine.js';
import { IncomingContext, type IncomingHeaders, MeshHosts, toV2Handler } from './mesh-front.js';
import type { MeshMetrics } from './telemetry/metrics.js';
import { MeshTlsClient } from './tls/client.js';
import { undiciPools } from './tls/undici-pools.js';

export type { IncomingHeaders } from './mesh-front.js';

/** Options of {@link MeshAgent}. */
export interface MeshAgentOptions extends MeshEngineOptions {
  /**
   * Decides whether an origin host is a mesh service. Default: Discovery knows the service or a
   * rule names it. Anything else passes through to {@link MeshAgentOptions.passthrough}.
   */
  isMeshHost?: (host: string) => boolean;
  /** The dispatcher for non-mesh hosts. Default: a new undici `Agent`. */
  passthrough?: Dispatcher;
  /**
   * Headers that calls made inside {@link MeshAgent.withIncoming} copy from the incoming request
   * when they do not set them: what a mesh asks every service to forward by hand. Default
   * `x-request-id`, `traceparent`, `tracestate`, `baggage`; add e.g. `cookie` or `end-user` when
   * rules route on them further down the call chain.
   */
  propagateHeaders?: readonly string[];
}

/**
 * An undici `Dispatcher` that routes requests through the mesh: the origin's host names the
 * service (`http://reviews/api/1` → service `reviews`), and each request goes through the rules,
 * faults, the load balancer, a per-endpoint keep-alive Pool, retries and health feedback.
 * Hosts that are not mesh services pass through to a normal Agent.
 *
 * @example
 * ```ts
 * import { Discovery, MemoryRegistry } from '@weft/core';
 * import { MeshAgent } from '@weft/proxy';
 * import { fetch, setGlobalDispatcher } from 'undici';
 *
 * const discovery = new Discovery({ sources: [new MemoryRegistry().asSource()] });
 * const mesh = new MeshAgent({ discovery, identity: { name: 'productpage', tags: ['version=v1'] } });
 * setGlobalDispatcher(mesh); // every undici and global fetch call…
 * await fetch('http://reviews/api/1', { dispatcher: mesh }); // …or per call, with undici's fetch
 * ```
 */
export class MeshAgent extends Dispatcher {
  /** @internal The request engine. */
  readonly engine: MeshEngine;
  private readonly passthrough: Dispatcher;
  private readonly ownsPassthrough: boolean;
  /** Which origins are mesh services. */
  private readonly hosts: MeshHosts;
  private closed = false;
  /** The incoming request's headers, carried by {@link withIncoming}. */
  private readonly incoming: IncomingContext;
  /** mTLS to endpoints that announce an identity (`mtls` option). */
  private readonly tls: MeshTlsClient | undefined;

  constructor(options: MeshAgentOptions) {
    super();
    this.tls = options.mtls === undefined ? undefined : new MeshTlsClient(options.mtls);
    this.engine = new MeshEngine(options, undiciPools(this.tls));
    this.ownsPassthrough = options.passthrough === undefined;
    this.passthrough = options.passthrough ?? new Agent();
    this.hosts = new MeshHosts(this.engine, options.isMeshHost);
    this.incoming = new IncomingContext(options.propagateHeaders);
  }

  /**
   * Runs `fn` on behalf of an incoming request: mesh calls made inside it — however deep in its
   * async work — carry that request's propagated headers ({@link MeshAgentOptions.propagateHeaders})
   * unless they set them themselves, and the rules see them. So the request id, the trace and,
   * say, the end-user cookie a rule routes on follow the call chain without code in every handler.
   *
   * ```ts
   * http.createServer((req, res) => mesh.withIncoming(req.headers, () => handle(req, res)));
   * ```
   */
  withIncoming<T>(headers: IncomingHeaders, fn: () => T): T {
    return this.incoming.run(headers, fn);
  }

  /**
   * The agent's metrics: pass `metrics: registry` (prom-client) in the options to have them in your
   * registry, or serve `metrics.text()`.
   */
  get metrics(): MeshMetrics | undefined {
    return this.engine.metrics;
  }

  /** Service name for an origin, or null when the origin is not a mesh service. */
  serviceOf(origin: string | URL | undefined): string | null {
    return this.hosts.of(origin)?.service ?? null;
  }

  override dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const h = toV2Handler(handler);
    if (this.closed) {
      const err = Object.assign(new Error('MeshAgent is closed'), { code: 'UND_ERR_CLOSED' });
      if (typeof h.onResponseError !== 'function') throw err;
      h.onResponseError(null as unknown as Dispatcher.DispatchController, err);
      return false;
    }
    const origin = this.hosts.of(opts.origin);
    if (origin === null) return this.passthrough.dispatch(opts, h);
    this.engine.call(origin.service, opts, h, this.incoming.initFor(opts), origin.authority);
    return true;
  }

  /**
   * Sends a request to `service` directly (no origin parsing), with sidecar extras. Used by the
   * sidecar; applications use `dispatch` through undici's API.
   */
  dispatchTo(
    service: string,
    opts: Dispatcher.DispatchOptions,
    handler: Dispatcher.DispatchHandler,
    init?: CallInit,
  ): void {
    this.engine.call(service, opts, handler, init, service);
  }

  override close(): Promise<void>;
  override close(callback: () => void): void;
  override close(callback?: () => void): Promise<void> | undefined {
    const p = this.shutdown(false);
    if (callback === undefined) return p;
    p.then(callback, callback);
    return undefined;
  }

  override destroy(): Promise<void>;
  override destroy(err: Error | null): Promise<void>;
  override destroy(callback: () => void): void;
  override destroy(err: Error | null, callback: () => void): void;
  override destroy(a?: Error | null | (() => void), b?: () => void): Promise<void> | undefined {
    const callback = typeof a === 'function' ? a : b;
    const p = this.shutdown(true);
    if (callback === undefined) return p;
    p.then(callback, callback);
    return undefined;
  }

  private async shutdown(hard: boolean): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.hosts.close();
    }
    await Promise.all([
      hard ? this.engine.destroy() : this.engine.close(),
      this.ownsPassthrough ? (hard ? this.passthrough.destroy() : this.passthrough.close()) : Promise.resolve(),
    ]);
    this.tls?.close();
  }
}
