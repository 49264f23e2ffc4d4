import { AsyncLocalStorage } from 'node:async_hooks';
import { Agent, Dispatcher, Dispatcher1Wrapper, Pool } from 'undici';
import { type CallInit, MeshEngine, type MeshEngineOptions } from './engine/engine.js';
import { getHeader } from './engine/headers.js';
import type { MeshMetrics } from './telemetry/metrics.js';

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

/** Request headers as node:http gives them (`req.headers`), or any `get(name)` object such as fetch's `Headers`. */
export type IncomingHeaders =
  | Readonly<Record<string, string | readonly string[] | undefined>>
  | { get(name: string): string | null | undefined };

const DEFAULT_PROPAGATE = Object.freeze(['x-request-id', 'traceparent', 'tracestate', 'baggage']);

type WrapHandler = (handler: Dispatcher.DispatchHandler) => Dispatcher.DispatchHandler;
// `wrapHandler` adapts undici v1 handlers (onConnect/onHeaders/…, as Node's bundled fetch may
// send) to the v2 API; it is public in undici but missing from its type declarations.
const wrapHandler = (Dispatcher1Wrapper as unknown as { wrapHandler: WrapHandler }).wrapHandler;

/** A mesh origin: the service its host names and the authority (`host[:port]`) to send as Host. */
interface MeshOrigin {
  readonly service: string;
  readonly authority: string;
}

/** Cache entry: the origin's service and authority, or null for a non-mesh host. */
type HostVerdict = MeshOrigin | null;

/** The carried headers the outgoing request does not set itself. */
function inherit(opts: Dispatcher.DispatchOptions, carried: readonly string[]): CallInit | undefined {
  let inherited: string[] | undefined;
  for (let i = 0; i + 1 < carried.length; i += 2) {
    const name = carried[i] as string;
    if (getHeader(opts.headers, name) !== undefined) continue;
    if (inherited === undefined) inherited = [];
    inherited.push(name, carried[i + 1] as string);
  }
  return inherited === undefined ? undefined : { inherited };
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
  private readonly isMeshHost: (host: string) => boolean;
  private readonly verdicts = new Map<string, HostVerdict>();
  private lastOrigin: string | undefined;
  private lastVerdict: HostVerdict = null;
  private routerVersion: number | undefined;
  private readonly onDiscoveryChange: () => void;
  private closed = false;
  /** Lower-case names of the headers {@link withIncoming} carries over. */
  private readonly propagate: readonly string[];
  /** The incoming request's headers to carry (flat, lower-case names); made on first use. */
  private incoming: AsyncLocalStorage<readonly string[]> | undefined;

  constructor(options: MeshAgentOptions) {
    super();
    this.engine = new MeshEngine(options, (origin, poolOptions) => new Pool(origin, poolOptions));
    this.ownsPassthrough = options.passthrough === undefined;
    this.passthrough = options.passthrough ?? new Agent();
    this.isMeshHost = options.isMeshHost ?? ((host) => this.engine.isMeshService(host));
    // A host that was not a service may become one (and the other way round): forget verdicts.
    this.onDiscoveryChange = () => {
      if (this.verdicts.size > 0) this.verdicts.clear();
      this.lastOrigin = undefined;
    };
    options.discovery.on('change', this.onDiscoveryChange);
    this.propagate = (options.propagateHeaders ?? DEFAULT_PROPAGATE).map((h) => h.toLowerCase());
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
    const carried: string[] = [];
    const get =
      typeof (headers as { get?: unknown }).get === 'function'
        ? (name: string) => (headers as { get(name: string): string | null | undefined }).get(name) ?? undefined
        : (name: string) => getHeader(headers as Record<string, string | string[] | undefined>, name);
    for (const name of this.propagate) {
      const value = get(name);
      if (value !== undefined && value !== '') carried.push(name, value);
    }
    this.incoming ??= new AsyncLocalStorage();
    return this.incoming.run(carried, fn);
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
    return this.originOf(origin)?.service ?? null;
  }

  /** The service and authority of an origin (cached), or null when it is not a mesh service. */
  private originOf(origin: string | URL | undefined): HostVerdict {
    if (origin === undefined) return null;
    const key = typeof origin === 'string' ? origin : origin.origin;
    const routerVersion = this.engine.router?.version;
    if (routerVersion !== this.routerVersion) {
      // New rules may name new services: forget what was decided about hosts.
      this.routerVersion = routerVersion;
      this.verdicts.clear();
      this.lastOrigin = undefined;
    }
    // Most calls of a process go to the same origin as the one before.
    if (key === this.lastOrigin) return this.lastVerdict;
    let verdict = this.verdicts.get(key);
    if (verdict !== undefined) {
      this.lastOrigin = key;
      this.lastVerdict = verdict;
      return verdict;
    }
    let url: URL;
    try {
      url = typeof origin === 'string' ? new URL(origin) : origin;
    } catch {
      return null;
    }
    const host = url.hostname;
    // `url.host` keeps a non-default port: `http://reviews:9080` is for `reviews:9080`.
    verdict = this.isMeshHost(host) ? { service: host, authority: url.host } : null;
    if (this.verdicts.size > 10_000) this.verdicts.clear();
    this.verdicts.set(key, verdict);
    return verdict;
  }

  override dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const h = typeof handler.onRequestStart === 'function' ? handler : wrapHandler(handler);
    if (this.closed) {
      const err = Object.assign(new Error('MeshAgent is closed'), { code: 'UND_ERR_CLOSED' });
      if (typeof h.onResponseError !== 'function') throw err;
      h.onResponseError(null as unknown as Dispatcher.DispatchController, err);
      return false;
    }
    const origin = this.originOf(opts.origin);
    if (origin === null) return this.passthrough.dispatch(opts, h);
    const carried = this.incoming?.getStore();
    this.engine.call(
      origin.service,
      opts,
      h,
      carried === undefined || carried.length === 0 ? undefined : inherit(opts, carried),
      origin.authority,
    );
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
      this.engine.discovery.off('change', this.onDiscoveryChange);
    }
    await Promise.all([
      hard ? this.engine.destroy() : this.engine.close(),
      this.ownsPassthrough ? (hard ? this.passthrough.destroy() : this.passthrough.close()) : Promise.resolve(),
    ]);
  }
}
