import { ClosedError, type Registry } from '@weft/core';
import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import type { Authenticator } from '../auth/authenticator.js';
import { authenticate } from '../auth/fastify.js';
import { ProxyLog } from '../watch/proxy-log.js';
import type { WatchLimits } from '../watch/serve-read.js';
import { installBodyParsers } from './body-parsers.js';
import { fail, type RouteContext } from './context.js';
import { errorHandler } from './error-handler.js';
import { Amalgam8Errors, failure, WireCodes } from './errors.js';
import { goJson } from './go-json.js';
import { HEARTBEAT, INSTANCE, INSTANCES, PROXIES, SERVICE, SERVICES, STATUS } from './paths.js';
import { readRoutes } from './read-routes.js';
import { RegistryReads } from './reads.js';
import { REQUEST_ID_HEADER, requestIds } from './request-id.js';
import { redirectToHttps } from './secure.js';
import { writeRoutes } from './write-routes.js';

/** Options of {@link registryRoutes}. */
export interface RegistryRoutesOptions {
  /** The store behind the API: any {@link Registry} (in-memory, etcd, Consul…). Not closed by the plugin. */
  registry: Registry;
  /**
   * Authenticates the plugin's routes itself (only them). Without it the app must already give
   * every request its namespace — call `authenticate(app, …)` before registering the plugin — and
   * a request that reaches a route without one is refused (500), never served from a default.
   */
  authenticator?: Authenticator;
  /** Redirect plain-HTTP requests to HTTPS with a 301, before authentication (Amalgam8's `--require_https`). */
  requireHttps?: boolean;
  /** Limits of long-polls and event streams. */
  watch?: WatchLimits;
  /**
   * How long a registry watch opened for readers is kept after the last one leaves, ms, so
   * repeated reads and reconnecting watchers share it. Default 30 000; 0 closes it at once.
   */
  watchLingerMs?: number;
}

const METHODS: readonly HTTPMethods[] = ['DELETE', 'GET', 'HEAD', 'PATCH', 'POST', 'PUT', 'OPTIONS'];

/** Each path of the API and the methods it answers, for Amalgam8's 405 on the others. */
const ALLOWED: ReadonlyMap<string, readonly HTTPMethods[]> = new Map([
  [INSTANCES, ['GET', 'POST']],
  [INSTANCE, ['DELETE']],
  [HEARTBEAT, ['PUT']],
  [STATUS, ['PUT']],
  [SERVICES, ['GET']],
  [SERVICE, ['GET']],
  [PROXIES, ['GET']],
] as const);

/** Routes whose JSON body is read; the others ignore any body, as Amalgam8 did. */
const BODY_ROUTES: ReadonlySet<string> = new Set([`POST ${INSTANCES}`, `PUT ${STATUS}`]);

/**
 * Amalgam8's registry API (`/api/v1`), byte for byte, on any {@link Registry}: a fastify plugin,
 * to register under any prefix (`app.register(registryRoutes, { prefix: '/registry', registry })`).
 *
 * Every route acts in `request.namespace`, and only there: no path, query or body field can name
 * another namespace, so one tenant cannot reach another's instances; credentials bound to
 * services (`request.boundServices`) write only those services' instances (403
 * `WEFT_ERR_BINDING_FORBIDDEN`), and read every one. Every GET can be watched:
 * `Accept: text/event-stream` for Server-Sent Events, `?index=N&wait=30s` for a long-poll (see
 * `serveRead`); each answer carries the namespace's revision in `x-weft-index`. Weft adds
 * `PUT /api/v1/instances/{id}/status` (`{"status": "OUT_OF_SERVICE"}`).
 *
 * The plugin is encapsulated: its JSON parser, serialiser, error handler and hooks apply to its
 * routes only.
 */
export async function registryRoutes(app: FastifyInstance, options: RegistryRoutesOptions): Promise<void> {
  const registry = checkRegistry(options.registry);
  const lingerMs = options.watchLingerMs ?? 30_000;
  if (typeof lingerMs !== 'number' || !(lingerMs >= 0))
    throw new TypeError('registryRoutes: watchLingerMs must be ≥ 0');
  const reads = new RegistryReads(registry, lingerMs);
  const watch = options.watch ?? {};
  // A long-poller counts as seen for two of its longest waits after its last request.
  const proxies = new ProxyLog({ seenForMs: 2 * (watch.maxWaitMs ?? 300_000) });
  const ctx: RouteContext = { registry, reads, watch, proxies, prefix: app.prefix };

  // Watches end before the server waits for its connections: event streams would hold it open.
  app.addHook('preClose', (done) => {
    reads.close(new ClosedError('registry routes'));
    done();
  });
  app.addHook('onClose', (_app, done) => {
    reads.close(new ClosedError('registry routes'));
    done();
  });

  const nextId = requestIds();
  app.addHook('onRequest', (_request, reply, done) => {
    reply.header(REQUEST_ID_HEADER, nextId());
    done();
  });
  if (options.requireHttps === true) app.addHook('onRequest', redirectToHttps);
  const fallbacks = new Set<unknown>();
  if (options.authenticator !== undefined) {
    if (app.hasRequestDecorator('namespace'))
      throw new TypeError(
        'registryRoutes: the app already authenticates requests; leave out the `authenticator` option',
      );
    // Amalgam8's router answered 404/405 before any authentication.
    authenticate(app, options.authenticator, (request) => fallbacks.has(request.routeOptions.handler));
  } else if (!app.hasRequestDecorator('namespace'))
    throw new TypeError(
      'registryRoutes: requests have no namespace; pass `authenticator`, or call authenticate() on the app first',
    );

  app.setReplySerializer((payload) => goJson(payload));
  app.setErrorHandler(errorHandler);
  installBodyParsers(app, BODY_ROUTES);

  writeRoutes(app, ctx);
  readRoutes(app, ctx);

  const methodNotAllowed = async (_request: FastifyRequest, reply: FastifyReply) =>
    fail(reply, failure(405, Amalgam8Errors.methodNotAllowed, WireCodes.methodNotAllowed, 'method not allowed here'));
  const notFound = async (_request: FastifyRequest, reply: FastifyReply) =>
    fail(reply, failure(404, Amalgam8Errors.notFound, WireCodes.notFound, 'no such path in the registry API'));
  fallbacks.add(methodNotAllowed).add(notFound);
  for (const [url, allowed] of ALLOWED) {
    const others = METHODS.filter((m) => !allowed.includes(m));
    app.route({ method: others, url, handler: methodNotAllowed, exposeHeadRoute: false });
  }
  app.route({ method: [...METHODS], url: '/api/v1/*', handler: notFound, exposeHeadRoute: false });
}

function checkRegistry(registry: Registry | undefined): Registry {
  const methods = ['register', 'renew', 'deregister', 'setStatus', 'services', 'instances', 'watch'] as const;
  if (
    typeof registry !== 'object' ||
    registry === null ||
    methods.some((m) => typeof (registry as unknown as Record<string, unknown>)[m] !== 'function')
  )
    throw new TypeError(`registryRoutes: \`registry\` must implement Registry (${methods.join(', ')})`);
  return registry;
}
