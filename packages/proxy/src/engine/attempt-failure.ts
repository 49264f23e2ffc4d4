import { parseRetryAfter } from '@weft/core';
import { MeshRequestError } from '../errors.js';

// What a failed attempt tells its call beyond its outcome: whether the caller (not the upstream)
// is at fault, whether a reset may be the keep-alive race, and when the upstream asks to retry.

type Headers = Record<string, string | string[] | undefined>;

/**
 * An error a pool raised about the request or its configuration before anything was sent:
 * undici's `InvalidArgumentError` (`UND_ERR_INVALID_ARG`: an invalid header, method or path) or
 * the sidecar pool's `WEFT_ERR_INVALID_ARGUMENT` (an endpoint it cannot serve).
 */
export function isCallerError(error: Error): boolean {
  const code = (error as { code?: unknown }).code;
  return code === 'UND_ERR_INVALID_ARG' || (error instanceof MeshRequestError && code === 'WEFT_ERR_INVALID_ARGUMENT');
}

/**
 * True when a reset hit a socket that had served a response before, and no byte of this
 * attempt's response had arrived: the server may have closed the idle keep-alive socket just as
 * the request was written (the race every keep-alive client has), so one transparent retry on a
 * new connection is in order. A fresh connection that fails is a real failure (normal policy).
 *
 * - The sidecar's {@link Http1Pool} marks such errors `reusedSocket: true`.
 * - undici's Pool gives no such flag, but its `SocketError` (`UND_ERR_SOCKET`: "other side
 *   closed", what a keep-alive client sees when the server closed first) carries the socket's
 *   counters (`socket.bytesRead`, a documented field): bytes read before this attempt's response
 *   started can only be earlier responses on the same socket (undici sends one request at a time
 *   per connection by default). A bare `ECONNRESET` from undici carries no counters and is
 *   taken as a real failure: when in doubt, the normal retry policy applies.
 */
export function onReusedSocket(error: Error): boolean {
  const e = error as { reusedSocket?: unknown; code?: unknown; socket?: { bytesRead?: unknown } | null };
  if (e.reusedSocket === true) return true;
  const read = e.code === 'UND_ERR_SOCKET' ? e.socket?.bytesRead : undefined;
  return typeof read === 'number' && read > 0;
}

/** An upstream answer's `Retry-After`, ms (-1 for none): read only for answers that may be retried. */
export function retryAfterOf(headers: Headers): number {
  const raw = headers['retry-after'];
  if (raw === undefined) return -1;
  return parseRetryAfter(Array.isArray(raw) ? raw[0] : raw, Date.now()) ?? -1;
}
