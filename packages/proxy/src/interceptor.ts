import { InvalidArgumentError } from '@weft/core';
import type { Dispatcher } from 'undici';
import { MeshEngine, type MeshEngineOptions } from './engine/engine.js';
import { type Downstream, interceptorPools } from './interceptor-endpoint.js';
import { IncomingContext, type IncomingHeaders, MeshHosts, toV2Handler } from './mesh-front.js';
import type { MeshMetrics } from './telemetry/metrics.js';
import { MeshTlsClient } from './tls/client.js';

/**
 * Options of {@link mesh}: MeshAgent's engine options, without `pool` — the dispatcher the
 * interceptor is composed on owns the connections (configure its pools there: `new Agent({
 * connections, keepAliveTimeout })`). For the same reason a rule backend's `max_connections` and
 * `max_requests_per_connection` do not apply (its bulkhead, `max_requests`, does).
 */
export interface MeshInterceptorOptions extends Omit<MeshEngineOptions, 'pool'> {
  /**
   * Decides whether an origin host is a mesh service. Default: Discovery knows the service or a
   * rule names it. Requests to any other host go down the chain untouched.
   */
  isMeshHost?: (host: string) => boolean;
  /**
   * Headers that calls made inside {@link MeshInterceptor.withIncoming} copy from the incoming
   * request when they do not set them. Default `x-request-id`, `traceparent`, `tracestate`,
   * `baggage`.
   */
  propagateHeaders?: readonly string[];
}

/**
 * An undici interceptor (`Dispatcher.DispatcherComposeInterceptor`) that routes mesh hosts through
 * Weft's engine, made by {@link mesh}; also the handle on what it keeps between requests.
 */
export interface MeshInterceptor {
  /** The interceptor proper: `dispatcher.compose(interceptor)` calls it with the dispatcher's `dispatch`. */
  (dispatch: Dispatcher.Dispatch): Dispatcher.Dispatch;
  /**
   * Runs `fn` on behalf of an incoming request: mesh calls made inside it carry that request's
   * propagated headers ({@link MeshInterceptorOptions.propagateHeaders}) unless they set them.
   */
  withIncoming<T>(headers: IncomingHeaders, fn: () => T): T;
  /** The mesh's metrics (shared by every dispatcher it is composed on), or undefined with `metrics: false`. */
  readonly metrics: MeshMetrics | undefined;
  /** Service name for an origin, or null when the origin is not a mesh service. */
  serviceOf(origin: string | URL | undefined): string | null;
  /**
   * Lets go of Discovery and the engine's timers, flushes the access log, and fails later mesh
   * requests (`UND_ERR_CLOSED`). Closing the composed dispatcher does not reach the interceptor
   * (undici gives interceptors no lifecycle), and closing the interceptor leaves the dispatcher's
   * connections to the dispatcher.
   */
  close(): Promise<void>;
}

/** One composition: an engine whose attempts go down that dispatcher's chain. */
class Composition {
  readonly engine: MeshEngine;
  readonly hosts: MeshHosts;
  readonly downstream: Downstream = { dispatch: undefined };
  /** mTLS to endpoints that announce an identity (`mtls` option). */
  private readonly tls: MeshTlsClient | undefined;

  constructor(options: MeshInterceptorOptions) {
    this.tls = options.mtls === undefined ? undefined : new MeshTlsClient(options.mtls);
    this.engine = new MeshEngine(options, interceptorPools(this.downstream, this.tls));
    this.hosts = new MeshHosts(this.engine, options.isMeshHost);
  }

  async close(): Promise<void> {
    this.hosts.close();
    await this.engine.close();
    this.tls?.close();
  }
}

/**
 * The mesh as an undici interceptor: `new Agent().compose(mesh({ discovery }))` is a dispatcher
 * that sends `http://reviews/…` through the same engine as {@link MeshAgent} — rules, balancing,
 * breakers, outlier ejection, retries, faults, telemetry — and every other host down the chain
 * untouched. Each attempt goes to the dispatcher it is composed on with the origin rewritten to
 * the picked instance (`http://10.0.0.7:9080`), so that dispatcher keeps the connection pools.
 *
 * Order matters: `compose(a, b)` makes `b` the outer one. Put `mesh()` first (innermost), so
 * undici's `redirect` (a `Location: http://details/…` goes back through the mesh) and `cache`
 * (keyed by the service's URL, not an instance's) see service URLs; their retry, outside the
 * mesh, re-runs a whole mesh call (a new pick, the mesh's own retries inside each). Inside the
 * mesh (`compose(interceptors.retry(), mesh())`) undici's retry would repeat one attempt on the
 * same instance, hiding failures from the breakers and outlier detection: leave retries to the
 * mesh there. `interceptors.dns` belongs inside the mesh too (it resolves instance addresses,
 * not service names).
 *
 * Composing it on a second dispatcher gives that one an engine of its own (endpoint state, as a
 * second MeshAgent would have), sharing the metrics, the access log and `withIncoming`. It must
 * be composed on a dispatcher that routes by origin (an `Agent`, `ProxyAgent`, …), not on a
 * `Pool` or `Client` of one origin: that throws `WEFT_ERR_INVALID_ARGUMENT`, as do bad options.
 *
 * @example
 * ```ts
 * import { Discovery, MemoryRegistry } from '@weft/core';
 * import { mesh } from '@weft/proxy';
 * import { Agent, fetch, interceptors } from 'undici';
 *
 * const discovery = new Discovery({ sources: [new MemoryRegistry().asSource()] });
 * const weft = mesh({ discovery, identity: { name: 'productpage' } });
 * const dispatcher = new Agent().compose(weft, interceptors.redirect({ maxRedirections: 3 }));
 * const res = await fetch('http://reviews/api/1', { dispatcher });
 * console.log(res.status, weft.serviceOf('http://reviews')); // 200 'reviews' once reviews has instances
 * await weft.close(); // then dispatcher.close()
 * ```
 */
export function mesh(options: MeshInterceptorOptions): MeshInterceptor {
  // The first engine is made now, so bad options fail here rather than at compose().
  const first = new Composition(options);
  const compositions: Composition[] = [];
  const incoming = new IncomingContext(options.propagateHeaders);
  let closed = false;

  const compose = (dispatch: Dispatcher.Dispatch, dispatcherOrigin?: string | null): Dispatcher.Dispatch => {
    // undici passes the origin a Pool or Client is bound to (null for a BalancedPool): those
    // send every request to their own origins, whatever origin the mesh picks.
    if (dispatcherOrigin !== undefined)
      throw new InvalidArgumentError('mesh interceptor composition', [
        {
          path: 'dispatcher',
          message: `must route by origin (an Agent), not be bound to ${dispatcherOrigin ?? 'its own upstreams'} like a Pool or Client`,
        },
      ]);
    const c =
      compositions.length === 0
        ? first
        : new Composition({
            ...options,
            metrics: first.engine.metrics ?? false,
            accessLog: first.engine.accessLog ?? false,
          });
    c.downstream.dispatch = dispatch;
    compositions.push(c);
    const { engine, hosts } = c;
    return function meshDispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
      const origin = hosts.of(opts.origin);
      if (origin === null) return dispatch(opts, handler);
      const h = toV2Handler(handler);
      if (closed) {
        h.onResponseError?.(
          null as unknown as Dispatcher.DispatchController,
          Object.assign(new Error('the mesh interceptor is closed'), { code: 'UND_ERR_CLOSED' }),
        );
        return false;
      }
      engine.call(origin.service, opts, h, incoming.initFor(opts), origin.authority);
      return true;
    };
  };

  return Object.assign(compose, {
    withIncoming: <T>(headers: IncomingHeaders, fn: () => T): T => incoming.run(headers, fn),
    metrics: first.engine.metrics,
    serviceOf: (origin: string | URL | undefined): string | null => first.hosts.of(origin)?.service ?? null,
    close: async (): Promise<void> => {
      if (closed) return;
      closed = true;
      // The first composition's engine exists before any compose(); close it even if never composed.
      await Promise.all((compositions.length === 0 ? [first] : compositions).map((c) => c.close()));
    },
  });
}
