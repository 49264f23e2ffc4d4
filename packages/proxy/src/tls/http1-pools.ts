/**
 * The sidecar's pools with mTLS: its own HTTP/1.1 pool over TLS for endpoints that announce a
 * workload identity, and every other endpoint exactly as before (the same factory call).
 */
import type { PoolFactory } from '../engine/options.js';
import { Http1Pool, type Http1PoolOptions } from '../http1/client.js';
import type { MeshTlsClient } from './client.js';

/** `plain` makes the pools of endpoints without an identity (the sidecar's default, or its `upstreamPool`). */
export function http1Pools(tls: MeshTlsClient, plain: PoolFactory): PoolFactory {
  return (origin, options, target) => {
    const expected = target?.peerIdentity;
    if (expected === undefined) return plain(origin, options, target);
    const http1: Http1PoolOptions = {
      ...(options as Http1PoolOptions),
      // As the plaintext default: the front end follows the read-buffer lending protocol.
      lendReadBuffers: true,
      tls: tls.http1(expected, target?.service),
    };
    return new Http1Pool(origin, http1);
  };
}
