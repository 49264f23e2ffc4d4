/**
 * The client side of mTLS between proxies: one per proxy, it turns the workload's credentials
 * into what each transport needs to open a verified connection to an endpoint that announces a
 * workload identity: node:tls options, for the sidecar's own HTTP/1.1 pool here and for undici's
 * pools in undici-pools.ts (kept apart: the sidecar entry never loads undici).
 */
import { createSecureContext, type PeerCertificate, type SecureContext } from 'node:tls';
import { InvalidArgumentError } from '@weft/core';
import type { Http1TlsConnector } from '../http1/client.js';
import { type MeshCredentials, PeerIdentityError, verifyPeerIdentity } from './credentials.js';

/** The node:tls options of an mTLS connection to a mesh endpoint (host and port aside). */
export interface MeshTlsConnectionOptions {
  secureContext: SecureContext;
  rejectUnauthorized: true;
  checkServerIdentity: (host: string, cert: PeerCertificate) => Error | undefined;
  ALPNProtocols: string[];
}

/** The `mtls` option of a proxy: reach endpoints that announce an identity over mTLS. */
export interface MeshTlsOptions {
  /**
   * The workload's identity: its current certificate and key, and the trust bundle that
   * upstreams' certificates must chain to (@weft/adapters' `WorkloadIdentity`). Read again after
   * each `rotated`, so new connections present the new certificate; open ones are kept.
   */
  credentials: MeshCredentials;
}

/**
 * OpenSSL's verification failures, as node:tls reports them (`authorizationError` codes): the
 * server's chain does not lead to the bundle, or is out of date, or is not meant for a server.
 */
const VERIFY_FAILURES: ReadonlySet<string> = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_CHAIN_TOO_LONG',
  'CERT_REVOKED',
  'INVALID_CA',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
]);

/** The error a failed handshake to an endpoint announcing `expected` fails the connection with. */
export function handshakeError(error: Error, expected: string): Error {
  const code = (error as { code?: unknown }).code;
  if (error instanceof PeerIdentityError || typeof code !== 'string' || !VERIFY_FAILURES.has(code)) return error;
  return new PeerIdentityError(`the upstream's certificate is not trusted for ${expected}: ${error.message}`, {
    expected,
    cause: error,
  });
}

/** Refuses a `mtls` option that is not `{credentials}` with the parts a proxy calls. */
function checkOptions(options: MeshTlsOptions): void {
  const c = (options as Partial<MeshTlsOptions> | null)?.credentials as Partial<MeshCredentials> | undefined;
  const missing = (['tlsOptions', 'on', 'off'] as const).filter((m) => typeof c?.[m] !== 'function');
  if (missing.length > 0)
    throw new InvalidArgumentError('mesh options', [
      {
        path: 'mtls.credentials',
        message: `must be a workload identity (tlsOptions(), on(), off()); missing ${missing.join(', ')}`,
      },
    ]);
}

/**
 * A proxy's mTLS client: the secure context of the current credentials, built once and again
 * after each `rotated` (building one parses keys and certificates: not per connection), and the
 * per-endpoint connection settings that present it and verify the server's identity.
 */
export class MeshTlsClient {
  private readonly credentials: MeshCredentials;
  private context: SecureContext | undefined;
  /** Listening for `rotated` (from the first connection on, so a proxy never used holds nothing). */
  private following = false;
  /** Bumped on each rotation: connectors made for an older one are rebuilt. */
  generation = 0;
  private readonly onRotated = (): void => {
    this.context = undefined;
    this.generation++;
  };

  constructor(options: MeshTlsOptions) {
    checkOptions(options);
    this.credentials = options.credentials;
  }

  /** The secure context for a new connection. Throws while the credentials have no certificate. */
  secureContext(): SecureContext {
    if (!this.following) {
      this.following = true;
      this.credentials.on('rotated', this.onRotated);
    }
    if (this.context === undefined) {
      const { key, cert, ca } = this.credentials.tlsOptions();
      // Only these three: the bundle is the one set of roots (not node's public CAs).
      this.context = createSecureContext({ key, cert, ca });
    }
    return this.context;
  }

  /**
   * node:tls options for a connection to an endpoint announcing `expected` (host and port are
   * the caller's): the current certificate, the bundle as the only roots, and the server's
   * identity checked instead of its host name. No session resumption: a resumed session skips
   * the identity check on both ends, and each connection should present the current certificate.
   */
  connectionOptions(expected: string, service: string | undefined): MeshTlsConnectionOptions {
    return {
      secureContext: this.secureContext(),
      rejectUnauthorized: true,
      checkServerIdentity: (_host: string, cert: PeerCertificate) => verifyPeerIdentity(cert, expected, service),
      ALPNProtocols: ['http/1.1'],
    };
  }

  /** The TLS settings of the sidecar's {@link Http1Pool} for one endpoint. */
  http1(expected: string, service: string | undefined): Http1TlsConnector {
    return {
      connectOptions: () => this.connectionOptions(expected, service),
      handshakeError: (error) => handshakeError(error, expected),
    };
  }

  /** Stops following the credentials' rotations. */
  close(): void {
    if (!this.following) return;
    this.following = false;
    this.context = undefined;
    this.credentials.off('rotated', this.onRotated);
  }
}
