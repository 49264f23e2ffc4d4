/**
 * The contract of mTLS between proxies: what a proxy needs of a workload identity, the metadata
 * key an endpoint announces its identity under, and the check a client makes of a server's
 * certificate. The server side (the sidecar's inbound listener) and the client side (the
 * upstream pools) both build on it.
 */
import type { PeerCertificate, SecureContextOptions } from 'node:tls';
import { brandErrorClass, parseSpiffeId, WeftError, type WeftErrorOptions } from '@weft/core';
import { subjectAltNames } from './subject-alt-names.js';

/** What a proxy needs of a workload identity; @weft/adapters' WorkloadIdentity satisfies it. */
export interface MeshCredentials {
  /**
   * The current certificate chain and key, and the mesh's trust bundle (PEM, as node:tls takes
   * them); throws before the first certificate.
   */
  tlsOptions(): Pick<SecureContextOptions, 'key' | 'cert' | 'ca'>;
  /**
   * Subscribes to new certificates and bundles. The listener takes no arguments, so node's
   * EventEmitter and eventemitter3's both satisfy this (a `(...args: never[])` listener would
   * satisfy neither).
   */
  on(event: 'rotated', listener: () => void): unknown;
  off(event: 'rotated', listener: () => void): unknown;
}

/** The instance metadata key naming the SPIFFE ID an endpoint presents over mTLS. */
export const MTLS_METADATA_KEY = 'weft_mtls';

/**
 * The SPIFFE ID an instance announces in its `weft_mtls` metadata, or undefined when it has none
 * (it is reached in plaintext). Anything but a non-empty string counts as none.
 */
export function announcedIdentity(metadata: Readonly<Record<string, unknown>> | undefined): string | undefined {
  const id = metadata?.[MTLS_METADATA_KEY];
  return typeof id === 'string' && id !== '' ? id : undefined;
}

/** Options of a {@link PeerIdentityError}. */
export interface PeerIdentityErrorOptions extends WeftErrorOptions {
  /** The SPIFFE ID the endpoint announced. */
  expected?: string;
  /** The URI SANs the certificate carried (empty when the handshake failed before one was seen). */
  presented?: readonly string[];
}

/**
 * `WEFT_ERR_PEER_IDENTITY`: an upstream reached over mTLS did not prove the identity its endpoint
 * announces. Core's outcome classifier counts it as a connect failure, so retries, breakers and
 * outlier detection treat the endpoint as unreachable — which, for this caller, it is.
 */
export class PeerIdentityError extends WeftError {
  static {
    brandErrorClass(PeerIdentityError, 'PeerIdentityError');
  }

  /** The SPIFFE ID the endpoint announced. */
  readonly expected: string | undefined;
  /** The URI SANs the certificate carried. */
  readonly presented: readonly string[];

  constructor(message: string, options: PeerIdentityErrorOptions = {}) {
    super('WEFT_ERR_PEER_IDENTITY', message, options);
    this.name = 'PeerIdentityError';
    this.expected = options.expected;
    this.presented = Object.freeze([...(options.presented ?? [])]);
  }
}

/** The `URI:` entries of a certificate's subjectAltName (`"URI:spiffe://…, DNS:…"`), without the prefix. */
export function uriSans(subjectAltName: string | undefined): string[] {
  if (subjectAltName === undefined) return [];
  return subjectAltNames(subjectAltName)
    .filter(([type]) => type === 'URI')
    .map(([, value]) => value);
}

/**
 * The replacement of node:tls's `checkServerIdentity` for mesh upstreams: accepts the server's
 * certificate only when its one URI SAN is exactly `expected` (a SPIFFE ID) and, when `service`
 * is given, that ID names `service` — the destination the call is for, so an endpoint listed
 * under one service cannot announce another's identity. Host names and IP SANs are not looked
 * at: in a mesh, the workload identity is what is verified (the chain to the trust bundle is
 * checked by node:tls before this runs). Returns the error to fail the connection with, or
 * undefined.
 */
export function verifyPeerIdentity(
  cert: Pick<PeerCertificate, 'subjectaltname'> | undefined,
  expected: string,
  service?: string,
): PeerIdentityError | undefined {
  const presented = uriSans(cert?.subjectaltname);
  if (service !== undefined) {
    let named: string | undefined;
    try {
      named = parseSpiffeId(expected, MTLS_METADATA_KEY).service;
    } catch {
      return new PeerIdentityError(`the endpoint announces ${JSON.stringify(expected)}, not a Weft SPIFFE ID`, {
        expected,
        presented,
      });
    }
    if (named !== service)
      return new PeerIdentityError(
        `an endpoint of ${service} announces the identity of another service (${expected})`,
        { expected, presented },
      );
  }
  // A SPIFFE SVID carries exactly one URI SAN; a certificate with more vouches for several
  // workloads at once, which no mesh CA issues.
  if (presented.length !== 1 || presented[0] !== expected)
    return new PeerIdentityError(
      `the upstream presented ${presented.length === 0 ? 'no SPIFFE ID' : presented.join(', ')} instead of ${expected}`,
      { expected, presented },
    );
  return undefined;
}
