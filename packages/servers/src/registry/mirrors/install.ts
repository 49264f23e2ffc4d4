import { InvalidArgumentError, type Registry, type ValidationIssue } from '@weft/core';
import type { FastifyInstance, preSerializationAsyncHookHandler } from 'fastify';
import { checkMirrors } from './check.js';
import { mirrorHealth, mirrorRoutes } from './mirror-routes.js';
import { MirroredRegistry } from './mirrored-registry.js';
import { openMirrors, type RegistryMirrorOptions } from './open-mirrors.js';

/**
 * Puts the configured mirrors in front of `native`: the registry to serve, or `native` itself
 * when there are none (nothing changes then, not even a wrapper on the hot path).
 *
 * @throws InvalidArgumentError naming every bad field (`<optionPath>[0].source.type`).
 */
export async function mirrorRegistry(
  native: Registry,
  mirrors: readonly RegistryMirrorOptions[] | undefined,
  app: FastifyInstance,
  optionPath = 'mirrors',
): Promise<Registry> {
  if (mirrors === undefined || mirrors.length === 0) return native;
  const issues: ValidationIssue[] = [];
  checkMirrors(mirrors, (path, message) => issues.push({ path, message }), optionPath);
  if (issues.length > 0) throw new InvalidArgumentError('registry mirrors', issues);
  const specs = await openMirrors(mirrors, { warn: (details, message) => app.log.warn(details, message) });
  return new MirroredRegistry(native, specs, {
    onListenerError: (err) => app.log.error({ err }, 'a registry watch listener failed'),
  });
}

/**
 * The server side of mirrors, for a registry {@link mirrorRegistry} wrapped: `GET /api/v1/mirrors`
 * under `prefix`, the mirrors' states in `/health` (whichever plugin declares it: call this before
 * the route is declared), and the mirrors stopped when the server closes. Does nothing for a
 * registry without mirrors.
 */
export async function installMirrors(app: FastifyInstance, registry: Registry, prefix: string): Promise<void> {
  if (!(registry instanceof MirroredRegistry)) return;
  const addMirrors: preSerializationAsyncHookHandler = async (_request, _reply, payload) => {
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return payload;
    const health = mirrorHealth(registry);
    const body = payload as Record<string, unknown>;
    // A store that is down stays `unavailable`; a failing mirror only degrades an `ok`.
    return { ...body, status: body.status === 'ok' ? health.status : body.status, mirrors: health.mirrors };
  };
  app.addHook('onRoute', (route) => {
    if (route.url !== '/health') return;
    const own = route.preSerialization;
    route.preSerialization = own === undefined ? [addMirrors] : [...(Array.isArray(own) ? own : [own]), addMirrors];
  });
  await app.register(mirrorRoutes, { registry, prefix });
  app.addHook('onClose', () => registry.close());
}
