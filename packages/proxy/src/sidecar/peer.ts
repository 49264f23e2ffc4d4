import type { TLSSocket } from 'node:tls';
import { type AuthzPeer, parseSpiffeId, type SpiffeId } from '@weft/core';
import { uriSans } from '../tls/credentials.js';

/**
 * The workload identity a verified client certificate carries: its first `URI:spiffe://…` SAN
 * that is a Weft workload identity. Undefined for an unverified or identity-less certificate —
 * a certificate the front end's CA did not verify proves nothing.
 */
export function verifiedIdentity(socket: TLSSocket): SpiffeId | undefined {
  if (!socket.authorized) return undefined;
  for (const uri of uriSans(socket.getPeerX509Certificate()?.subjectAltName)) {
    if (!uri.startsWith('spiffe://')) continue;
    try {
      return parseSpiffeId(uri);
    } catch {
      // Another SPIFFE layout than Weft's: not an identity the policies can name.
    }
  }
  return undefined;
}

/**
 * The caller of a front-end connection, as authorization policies see it: the peer address and,
 * on a TLS front end, the verified identity. One object per connection (cached by the caller),
 * so judging a request allocates nothing for it.
 */
export function connectionPeer(socket: { readonly remoteAddress?: string | undefined }, secure: boolean): AuthzPeer {
  const identity = secure ? verifiedIdentity(socket as TLSSocket) : undefined;
  return { ip: socket.remoteAddress, identity };
}
