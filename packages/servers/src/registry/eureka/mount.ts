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

/** Where the Eureka API is mounted unless `eureka.prefix` says otherwise (Eureka's own servers use it too). */
export const DEFAULT_EUREKA_PREFIX = '/eureka';

/** Where a server mounts the Eureka API: its own prefix, and Amalgam8's path below the registry's. */
export interface EurekaMount {
  /** `registry.eureka.prefix`. */
  readonly prefix: string;
  /** Amalgam8's `/api/eureka/{token}` below the `/api/v1` routes' prefix. */
  readonly amalgam8Base: string;
}

/** Where the Eureka API is mounted, or undefined when it is off. */
export function eurekaMount(settings: EurekaSettings | undefined, registryPrefix: string): EurekaMount | undefined {
  if (settings?.enabled === false) return undefined;
  return { prefix: settings?.prefix ?? DEFAULT_EUREKA_PREFIX, amalgam8Base: `${registryPrefix}/api/eureka/:token` };
}

/**
 * True for a request to a Eureka route: those authenticate themselves (Basic credentials, a
 * token in the path), so the app-wide authentication skips them.
 */
export function servedByEureka(request: FastifyRequest, mount: EurekaMount | undefined): boolean {
  const url = request.routeOptions.url;
  if (mount === undefined || url === undefined) return false;
  return url.startsWith(`${mount.prefix}/`) || url.startsWith(`${mount.amalgam8Base}/`);
}

/** Mounts the Eureka API on a server, when on, with the server's authenticator. */
export async function mountEureka(
  app: FastifyInstance,
  mount: EurekaMount | undefined,
  options: { registry: Registry; authenticator: Authenticator; requireHttps?: boolean | undefined },
): Promise<void> {
  if (mount === undefined) return;
  await app.register(eurekaRoutes, {
    registry: options.registry,
    authenticator: options.authenticator,
    bases: [mount.prefix, mount.amalgam8Base],
    ...(options.requireHttps === undefined ? {} : { requireHttps: options.requireHttps }),
  });
}
