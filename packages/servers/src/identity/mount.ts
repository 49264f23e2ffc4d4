import type { FastifyInstance } from 'fastify';
import type { WatchLimits } from '../watch/serve-read.js';
import { openAuthority } from './open-authority.js';
import { identityRoutes } from './routes.js';
import type { IdentitySettings } from './settings.js';

/**
 * Serves the identity API on `app` (after `authenticate`) unless `settings.enabled` is false: opens
 * the CA (the operator's files are checked now: a bad one rejects, naming the setting) and closes
 * its bundle watches with the app. The CA is decorated as `app.certificateAuthority` (the
 * `ControllerServer` and `ControlPlaneServer` types show it).
 *
 * (A `declare module 'fastify'` augmentation would be simpler, but a package's ESM and CJS type
 * files would then declare it twice with two distinct `OpenedAuthority` types, which a consumer
 * compiling both refuses — TS2717.)
 */
export async function mountIdentity(
  app: FastifyInstance,
  settings: IdentitySettings | undefined,
  watch: WatchLimits | undefined,
): Promise<void> {
  if (settings?.enabled === false) return;
  const authority = await openAuthority(settings);
  // Embedding code reaches the CA through the app (to rotate it, to read its bundle).
  app.decorate('certificateAuthority', authority);
  app.addHook('onClose', async () => authority.close());
  await app.register(identityRoutes, { authority, watch });
}
