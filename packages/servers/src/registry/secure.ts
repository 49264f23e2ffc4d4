import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * Whether a request came over TLS, directly or through a proxy that says so: Amalgam8's test
 * (registry/server/middleware/secure.go) — the socket, `X-Forwarded-Proto: https`, or the
 * `$WSSC` header IBM's load balancers set. It decides the scheme of the links the registry
 * answers with, and what `requireHttps` lets through.
 */
export function isSecure(request: FastifyRequest): boolean {
  return (
    request.protocol === 'https' ||
    request.headers['x-forwarded-proto'] === 'https' ||
    request.headers.$wssc === 'https'
  );
}

/**
 * Amalgam8's HTTPS-only mode: a request that did not come over TLS is sent to the same URL with
 * `https`, with a 301 and nothing else done (before authentication, so credentials sent in clear
 * are never checked — they should be rotated, but the server does not act on them).
 */
export async function redirectToHttps(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  if (isSecure(request)) return;
  const host = request.headers.host ?? request.host;
  await reply.code(301).header('location', `https://${host}${request.url}`).send();
}
