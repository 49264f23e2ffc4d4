import type { Registry } from '@weft/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ProxyLog } from '../watch/proxy-log.js';
import type { WatchLimits } from '../watch/serve-read.js';
import type { Failure } from './errors.js';
import type { RegistryReads } from './reads.js';
import { isSecure } from './secure.js';

/** What the route modules share. */
export interface RouteContext {
  readonly registry: Registry;
  readonly reads: RegistryReads;
  readonly watch: WatchLimits;
  /** The proxies that read this registry (`x-weft-proxy`), for `GET /api/v1/proxies`. */
  readonly proxies: ProxyLog;
  /** The mount prefix, for the links registrations answer with. */
  readonly prefix: string;
}

/** Sends a failure (its body goes through the plugin's Go-style serialiser). */
export function fail(reply: FastifyReply, f: Failure): FastifyReply {
  return reply.code(f.status).send(f.body);
}

/**
 * Answers with no body, as Amalgam8 did for heartbeats and deregistrations (`WriteHeader(200)`),
 * which still carried its JSON content type.
 */
export function empty(reply: FastifyReply, status = 200): FastifyReply {
  return reply.code(status).header('content-type', 'application/json; charset=utf-8').send();
}

/**
 * The namespace the request acts in, as the authenticator decided it. Fails closed: a route
 * reached without one (an app-level auth hook that skipped it) is a server bug, never the default
 * namespace.
 */
export function namespaceOf(request: FastifyRequest): string {
  const ns = request.namespace;
  if (typeof ns !== 'string' || ns === '')
    throw new Error('the request has no namespace: the registry routes need authenticate() (or an authenticator)');
  return ns;
}

/** `scheme://host` and the mount prefix: where links point (Amalgam8 built them from the request too). */
export function linkBase(request: FastifyRequest, prefix: string): string {
  return `${isSecure(request) ? 'https' : 'http'}://${request.headers.host ?? request.host}${prefix}`;
}
