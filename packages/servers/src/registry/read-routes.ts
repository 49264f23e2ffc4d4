import { type ServiceInstance, UnknownServiceError } from '@weft/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { INDEX_HEADER, serveRead } from '../watch/serve-read.js';
import { fail, namespaceOf, type RouteContext } from './context.js';
import { Amalgam8Errors, failure, failureOf, WireCodes } from './errors.js';
import { readSelection, SelectionError } from './instance-filter.js';
import { INSTANCES, PROXIES, SERVICE, SERVICES } from './paths.js';
import type { Instances } from './reads.js';
import { Renderers } from './renderers.js';
import { wireInstance } from './wire.js';

/**
 * Serves a read through `serveRead` (plainly, as Server-Sent Events or by long-poll), answering a
 * failure to read (a closed store) with Amalgam8's text when nothing was sent yet.
 */
async function read(reply: FastifyReply, text: string, serve: () => Promise<FastifyReply>): Promise<FastifyReply> {
  try {
    return await serve();
  } catch (err) {
    if (reply.sent) throw err;
    return fail(reply, failureOf(text, err));
  }
}

type Render = (instances: Instances) => unknown;

/** `GET /api/v1/services`: the same for every reader. */
const renderServices: Render = (instances) => ({ services: serviceNames(instances) });

/** `GET /api/v1/services/{name}` in a stream, where there is no 404 to answer: the (maybe empty) list. */
const serviceRenderer =
  (name: string): Render =>
  (instances) => ({ service_name: name, instances: instances.map((i: ServiceInstance) => wireInstance(i)) });

/** True when `serveRead` will answer with an event stream (its own test). */
const streaming = (request: FastifyRequest): boolean => (request.headers.accept ?? '').includes('text/event-stream');

/** Every GET of Amalgam8's API; each is watchable (SSE with `Accept: text/event-stream`, or `?index=N`). */
export function readRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { reads } = ctx;
  const selections = new Renderers<Render>();
  const services = new Renderers<Render>();
  // Amalgam8 answered HEAD with 405, so fastify's automatic HEAD routes stay off.
  const get = { exposeHeadRoute: false } as const;

  app.get(INSTANCES, get, async (request, reply) => {
    let selection: ReturnType<typeof readSelection>;
    try {
      selection = readSelection(request.query as Record<string, unknown>);
    } catch (err) {
      if (err instanceof SelectionError) return fail(reply, failureOf(err.text, err));
      throw err;
    }
    const source = reads.scope(namespaceOf(request), selection.service);
    const render = selections.get(selection.key, () => (instances: Instances) => ({
      instances: instances.filter(selection.matches).map((i) => wireInstance(i, selection.fields)),
    }));
    return read(reply, Amalgam8Errors.instanceEnumeration, () =>
      serveRead(request, reply, source, render, ctx.watch, ctx.proxies),
    );
  });

  app.get(SERVICES, get, async (request, reply) => {
    const source = reads.scope(namespaceOf(request), undefined);
    return read(reply, Amalgam8Errors.serviceEnumeration, () =>
      serveRead(request, reply, source, renderServices, ctx.watch, ctx.proxies),
    );
  });

  app.get<{ Params: { name: string } }>(SERVICE, get, async (request, reply) => {
    const name = request.params.name;
    // Amalgam8's router never matched an empty name: its catch-all 404.
    if (name === '')
      return fail(reply, failure(404, Amalgam8Errors.notFound, WireCodes.notFound, 'no service name in the path'));
    const source = reads.scope(namespaceOf(request), name);
    // Every status, as Amalgam8 listed a service. A service without instances is unknown (404),
    // except in an event stream, whose status line is long gone: there it is simply empty.
    const render: Render = streaming(request)
      ? services.get(name, () => serviceRenderer(name))
      : (instances) => {
          if (instances.length > 0) return serviceRenderer(name)(instances);
          const unknown = failureOf(Amalgam8Errors.serviceEnumeration, new UnknownServiceError(name));
          reply.code(unknown.status);
          return unknown.body;
        };
    return read(reply, Amalgam8Errors.serviceEnumeration, () =>
      serveRead(request, reply, source, render, ctx.watch, ctx.proxies),
    );
  });

  // Weft's: the proxies that read this namespace, and how far behind each is (`weft status`).
  app.get(PROXIES, get, async (request, reply) => {
    const ns = namespaceOf(request);
    const { revision } = await reads.scope(ns, undefined).current();
    return reply.header(INDEX_HEADER, String(revision)).send({ proxies: ctx.proxies.list(ns, revision) });
  });
}

/** Names of the services with an instance (any status), sorted (Amalgam8's order was a Go map's). */
function serviceNames(instances: Instances): string[] {
  return [...new Set(instances.map((i) => i.service))].sort();
}
