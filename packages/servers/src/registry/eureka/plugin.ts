import { ClosedError, type Registry } from '@weft/core';
import type { FastifyInstance } from 'fastify';
import type { Authenticator } from '../../auth/authenticator.js';
import { redirectToHttps } from '../secure.js';
import { authenticateEureka } from './auth.js';
import { installEurekaBodyParsers } from './body-parsers.js';
import { ChangeLogs } from './change-log.js';
import type { EurekaContext } from './context.js';
import { eurekaReadHandlers } from './read-handlers.js';
import { eurekaErrorHandler } from './replies.js';
import { eurekaWriteHandlers } from './write-handlers.js';

/** Options of {@link eurekaRoutes}. */
export interface EurekaRoutesOptions {
  /** The registry behind the API — the same one `/api/v1` serves. Not closed by the plugin. */
  registry: Registry;
  /**
   * Authenticates the plugin's routes itself, reading HTTP Basic credentials (the password) as
   * bearer tokens, since Eureka clients can send nothing else. Without it the app must already
   * give every request its namespace (`authenticate()`), and Basic credentials are not read.
   */
  authenticator?: Authenticator;
  /** Redirect plain-HTTP requests to HTTPS with a 301, before authentication. */
  requireHttps?: boolean;
  /** How long a change stays in the delta (Eureka's `retentionTimeInMSInDeltaQueue`), ms. Default 180 000. */
  deltaRetentionMs?: number;
  /**
   * The bases the API answers below, relative to the plugin's prefix; each also with `/v2`.
   * Default `['']`. A base with a `:token` parameter reads the token as the request's bearer
   * token — Amalgam8's form, `/api/eureka/{token}/v2/apps` (see `mountEureka`).
   */
  bases?: readonly string[];
}

/**
 * Eureka's REST API (v2) on any {@link Registry}, a fastify plugin to register under a prefix
 * (`app.register(eurekaRoutes, { prefix: '/eureka', registry })`). Every route answers at both
 * `<prefix>/…` and `<prefix>/v2/…`: Spring Cloud and py_eureka_client are usually given
 * `http://host/eureka/`, Netflix's own client `http://host/eureka/v2/`.
 *
 * Routes (below either base): `POST /apps/{app}` (register, 204), `PUT /apps/{app}/{id}`
 * (renew; 404 when unknown, so the client registers again), `DELETE /apps/{app}/{id}`,
 * `GET /apps`, `/apps/delta`, `/apps/{app}`, `/apps/{app}/{id}`, `/instances/{id}`,
 * `/vips/{vip}`, `/svips/{svip}`, `PUT|DELETE /apps/{app}/{id}/status?value=…` (override) and
 * `PUT /apps/{app}/{id}/metadata?key=value`. JSON or XML, by `Content-Type` and `Accept`.
 *
 * Every route acts in `request.namespace` only, as the Amalgam8 API does.
 */
export async function eurekaRoutes(app: FastifyInstance, options: EurekaRoutesOptions): Promise<void> {
  const { registry } = options;
  const retention = options.deltaRetentionMs ?? 180_000;
  if (typeof retention !== 'number' || !(retention > 0))
    throw new TypeError('eurekaRoutes: deltaRetentionMs must be > 0');
  const logs = new ChangeLogs(registry, retention);
  const stop = (_app: unknown, done: () => void): void => {
    logs.close(new ClosedError('Eureka routes'));
    done();
  };
  app.addHook('onClose', stop);

  if (options.requireHttps === true) app.addHook('onRequest', redirectToHttps);
  if (options.authenticator !== undefined) authenticateEureka(app, options.authenticator);
  else if (!app.hasRequestDecorator('namespace'))
    throw new TypeError(
      'eurekaRoutes: requests have no namespace; pass `authenticator`, or call authenticate() on the app first',
    );
  app.setErrorHandler(eurekaErrorHandler);
  installEurekaBodyParsers(app);

  const ctx: EurekaContext = { registry, logs };
  const api = async (scope: FastifyInstance): Promise<void> => {
    eurekaWriteHandlers(scope, ctx);
    eurekaReadHandlers(scope, ctx);
  };
  for (const base of options.bases ?? ['']) {
    await app.register(api, { prefix: base });
    await app.register(api, { prefix: `${base}/v2` });
  }
}
