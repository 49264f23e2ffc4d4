import type { FastifyInstance } from 'fastify';
import type { Authenticator } from '../../auth/authenticator.js';
import { resolveNamespace } from '../../auth/fastify.js';

/**
 * Eureka clients cannot send a bearer token; they put credentials in the server URL
 * (`http://user:password@host/eureka/`), which arrives as HTTP Basic. The password is read as
 * the bearer token every mode of the authenticator expects (the user name is ignored), so a
 * Eureka client joins a namespace with the same token as an Amalgam8 client. Any other
 * `Authorization` is passed on as it is.
 */
export function basicAsBearer(authorization: string | undefined): string | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization ?? '');
  if (m === null) return authorization;
  const decoded = Buffer.from(m[1] ?? '', 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const password = colon < 0 ? '' : decoded.slice(colon + 1);
  return password === '' ? undefined : `Bearer ${password}`;
}

/**
 * Gives every request of the Eureka routes its namespace (and service binding), through
 * `authenticator` with Basic credentials read as bearer tokens, or the `:token` of Amalgam8's path
 * as one. A request no mode accepts gets a 401 with a Basic challenge (what Eureka clients answer
 * to).
 */
export function authenticateEureka(app: FastifyInstance, authenticator: Authenticator): void {
  if (!app.hasRequestDecorator('namespace')) app.decorateRequest('namespace', '');
  // The service binding the write handlers check; decorated so requests keep one shape.
  if (!app.hasRequestDecorator('boundServices')) app.decorateRequest('boundServices', undefined);
  app.addHook('onRequest', async (request, reply) => {
    // Amalgam8's Eureka API took the token in the path (`/api/eureka/{token}/v2`).
    const token = (request.params as { token?: unknown } | undefined)?.token;
    const authorization =
      typeof token === 'string' && token !== '' ? `Bearer ${token}` : basicAsBearer(request.headers.authorization);
    await resolveNamespace(authenticator, request, reply, authorization, 'Basic realm="weft"');
  });
}
