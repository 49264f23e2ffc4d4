import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AuthError, type Authenticator, principalOf } from './authenticator.js';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The namespace (tenant) the request acts in, decided by the server's authenticator before
     * any handler runs. Handlers read and write this namespace only: no route takes a namespace
     * from anywhere else, so cross-tenant access cannot be expressed.
     */
    namespace: string;
    /**
     * The services the request's credentials are bound to (a JWT's services claim), or
     * `undefined` when they act for the whole namespace. The CA signs only these services'
     * identities, the registry's writes (`/api/v1`, Eureka) touch only their instances, and the
     * controller refuses such credentials its writes — rules and authorization policies belong to
     * the whole namespace (see `./binding.ts`). Reads act in `namespace` as a whole.
     */
    boundServices: readonly string[] | undefined;
  }
}

/**
 * Adds the `namespace` (and `boundServices`) of every request under `app` (a 401 JSON error when
 * no mode accepts it).
 */
export function authenticate(
  app: FastifyInstance,
  authenticator: Authenticator,
  skip?: (req: FastifyRequest) => boolean,
): void {
  app.decorateRequest('namespace', '');
  app.decorateRequest('boundServices', undefined);
  app.addHook('onRequest', async (request, reply) => {
    if (skip?.(request) === true) return;
    await resolveNamespace(authenticator, request, reply, request.headers.authorization, 'Bearer');
  });
}

/**
 * Sets `request.namespace` (and `request.boundServices`) from `authorization` (and the request's headers) through
 * `authenticator`; when no mode accepts the request, answers 401 with a JSON error and
 * `challenge` as its `WWW-Authenticate`. For an `onRequest` hook; errors other than
 * `AuthError` are thrown on.
 */
export async function resolveNamespace(
  authenticator: Authenticator,
  request: FastifyRequest,
  reply: FastifyReply,
  authorization: string | undefined,
  challenge: string,
): Promise<void> {
  try {
    const principal = await principalOf(authenticator, {
      authorization,
      header: (name) => {
        const v = request.headers[name];
        return Array.isArray(v) ? v[0] : v;
      },
    });
    request.namespace = principal.namespace;
    // Set only when bound: requests of apps that did not decorate it keep their shape.
    if (principal.services !== undefined) request.boundServices = principal.services;
  } catch (err) {
    if (!(err instanceof AuthError)) throw err;
    await reply
      .code(401)
      .header('www-authenticate', challenge)
      .send({ error: err.message, code: err.code, status: 401 });
  }
}
