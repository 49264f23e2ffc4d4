/**
 * undici's pools with mTLS (MeshAgent, the `mesh()` interceptor): a custom `connect` that opens
 * TLS with the current certificate for endpoints that announce a workload identity; every other
 * endpoint gets the same Pool as before.
 */
import { buildConnector, Pool } from 'undici';
import type { PoolFactory, PoolTarget } from '../engine/options.js';
import { handshakeError, type MeshTlsClient } from './client.js';

/**
 * An undici `connect` function for one endpoint's Pool: TLS whatever the origin's scheme (the
 * pool keeps the endpoint's `http://` origin, so Host headers stay as they were), with the
 * connector rebuilt after a rotation so each new socket presents the current certificate.
 * `timeout` is the connect timeout (undici's `connectTimeout`, which a custom connector must
 * apply itself).
 */
export function mtlsConnect(
  tls: MeshTlsClient,
  expected: string,
  service: string | undefined,
  timeout: number | null | undefined,
): buildConnector.connector {
  let generation = -1;
  let inner: buildConnector.connector | undefined;
  return (options, callback) => {
    try {
      if (inner === undefined || generation !== tls.generation) {
        generation = tls.generation;
        inner = buildConnector({
          ...tls.connectionOptions(expected, service),
          allowH2: false,
          maxCachedSessions: 0,
          timeout: timeout ?? 10_000,
        });
      }
    } catch (err) {
      // No certificate yet: the connection fails, as one that could not be opened.
      callback(err as Error, null);
      return;
    }
    inner({ ...options, protocol: 'https:' }, (err, socket) => {
      if (err !== null) callback(handshakeError(err, expected), null);
      else callback(null, socket as NonNullable<typeof socket>);
    });
  };
}

/** Pool options of an endpoint that announces an identity, or undefined for one that announces none. */
export function mtlsUndiciOptions(
  tls: MeshTlsClient,
  options: Pool.Options,
  target: PoolTarget | undefined,
): Pool.Options | undefined {
  const expected = target?.peerIdentity;
  if (expected === undefined) return undefined;
  return { ...options, connect: mtlsConnect(tls, expected, target?.service, options.connectTimeout) };
}

/** MeshAgent's pools: undici's Pool for every endpoint, with {@link mtlsConnect} for those that announce an identity. */
export function undiciPools(tls: MeshTlsClient | undefined): PoolFactory {
  if (tls === undefined) return (origin, options) => new Pool(origin, options);
  return (origin, options, target) => new Pool(origin, mtlsUndiciOptions(tls, options, target) ?? options);
}
