import { type Dispatcher, Pool } from 'undici';
import type { EndpointPool, PoolFactory } from './engine/engine.js';
import type { MeshTlsClient } from './tls/client.js';
import { mtlsUndiciOptions } from './tls/undici-pools.js';

/** The dispatch function an interceptor is composed on, once the composition gives it. */
export interface Downstream {
  dispatch: Dispatcher.Dispatch | undefined;
}

/**
 * An endpoint's "pool" for the {@link mesh} interceptor: it owns no connection. Each attempt goes
 * to the dispatcher the interceptor is composed on, with the origin rewritten to the endpoint's
 * (`http://reviews` → `http://10.0.0.7:9080`), so that dispatcher — an undici `Agent`, say — keeps
 * the keep-alive pools, as it does for any origin, and drops an origin's pool once its sockets
 * are gone. Closing it is a no-op for the same reason: the engine retires endpoints that left
 * discovery, and the Agent forgets their idle pools by itself.
 */
export class DownstreamEndpoint implements EndpointPool {
  constructor(
    /** `http://host:port` of the endpoint. */
    private readonly origin: string,
    private readonly downstream: Downstream,
  ) {}

  dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const dispatch = this.downstream.dispatch;
    // The engine creates endpoints only for calls, and calls come only through a composition.
    if (dispatch === undefined) throw new Error('the mesh interceptor is not composed on a dispatcher');
    return dispatch({ ...options, origin: this.origin }, handler);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  destroy(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * The interceptor's endpoints: each attempt goes down the composition — except to an endpoint
 * that announces a workload identity when the mesh has `mtls`: the dispatcher below knows
 * nothing of the mesh's certificate or of the identity to verify, so such an endpoint gets an
 * undici Pool of its own, whose `connect` presents the current certificate.
 */
export function interceptorPools(downstream: Downstream, tls: MeshTlsClient | undefined): PoolFactory {
  return (origin, options, target) => {
    const mtls = tls === undefined ? undefined : mtlsUndiciOptions(tls, options, target);
    return mtls === undefined ? new DownstreamEndpoint(origin, downstream) : new Pool(origin, mtls);
  };
}
