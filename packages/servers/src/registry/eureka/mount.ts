import type { Registry } from '@weft/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Authenticator } from '../../auth/authenticator.js';
import { eurekaRoutes } from './plugin.js';

/** The Eureka API's settings in a registry server's options (`registry.eureka.*`). */
export interface EurekaSettings {
  /** Serve Eureka's API beside Amalgam8's. Default true. */
  readonly enabled?: boolean | undefined;
  /** Where: `<prefix>/apps…` and `<prefix>/v2/apps…`. Default `/eureka`. */
  readonly prefix?: string | undefined;
}

export const DEFAULT_EUREKA_PREFIX = '/eureka';

/** Where the Eureka API is mounted, or undefined when it is off. */
export function eurekaPrefix(settings: EurekaSettings | undefined): string | undefined {
  if (settings?.enabled === false) return undefined;
  return settings?.prefix ?? DEFAULT_EUREKA_PREFIX;
}

/**
 * True for a request to a Eureka route: those authenticate themselves (Basic credentials), so
 * the app-wide authentication skips them.
 */
export function servedByEureka(request: FastifyRequest, prefix: string | undefined): boolean {
  const url = request.routeOptions.url;
  return prefix !== undefined && url?.startsWith(`${prefix}/`) === true;
}

/** Mounts the Eureka API on a server, when on, with the server's authenticator. */
export async function mountEureka(
  app: FastifyInstance,
  prefix: string | undefined,
  options: { registry: Registry; authenticator: Authenticator; requireHttps?: boolean | undefined },
): Promise<void> {
  if (prefix === undefined) return;
  await app.register(eurekaRoutes, {
    prefix,
    registry: options.registry,
    authenticator: options.authenticator,
    ...(options.requireHttps === undefined ? {} : { requireHttps: options.requireHttps }),
  });
}
