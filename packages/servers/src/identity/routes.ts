import { InvalidArgumentError, type ValidationIssue } from '@weft/core';
import type { FastifyPluginAsync } from 'fastify';
import { controllerErrorHandler } from '../controller/http-errors.js';
import { WatchTracker } from '../controller/watch-tracker.js';
import { serveRead, type WatchLimits } from '../watch/serve-read.js';
import type { Watchable } from '../watch/types.js';
import type { TrustBundle } from './authority.js';
import type { OpenedAuthority } from './open-authority.js';

/** Options of {@link identityRoutes}. */
export interface IdentityRoutesOptions {
  /** The CA (see `openAuthority`). The routes never close it. */
  readonly authority: OpenedAuthority;
  /** Limits of bundle watches: long-poll waits and SSE heartbeats. */
  readonly watch?: WatchLimits | undefined;
}

/** The certificate request body: `{csr: "<PEM>", service: "<name>"}`. */
function requestBody(body: unknown): { csr: string; service: string } {
  const issues: ValidationIssue[] = [];
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    issues.push({ path: '', message: 'must be a JSON object {csr, service}' });
  if (typeof b.csr !== 'string' || b.csr === '')
    issues.push({ path: 'csr', message: 'is required: the PKCS#10 certificate request, PEM' });
  if (typeof b.service !== 'string' || b.service === '')
    issues.push({ path: 'service', message: 'is required: the service the identity is for' });
  if (issues.length > 0) throw new InvalidArgumentError('certificate request', issues);
  return { csr: b.csr as string, service: b.service as string };
}

/** The CA's bundle as a watchable read, the CA made on the first read or watch. */
function lazyBundle(authority: OpenedAuthority): Watchable<TrustBundle> {
  return {
    current: async () => (await authority.get()).trustBundle(),
    subscribe: (listener, onEnd) => {
      let stop: (() => void) | undefined;
      let stopped = false;
      authority.get().then(
        (ca) => {
          if (!stopped) stop = ca.bundle.subscribe(listener, onEnd);
        },
        (err: unknown) => onEnd?.(err),
      );
      return () => {
        stopped = true;
        stop?.();
      };
    },
  };
}

/**
 * The controller's identity API, as a fastify plugin (register `authenticate` first: a
 * certificate is issued for `request.namespace` only):
 *
 * - `POST /v1/identity/certificates` `{csr, service}` → **201** the signed workload certificate
 *   (`spiffeId`, `certificate`, `chain`, `roots`, `serialNumber`, `notBefore`, `notAfter`); 400 for
 *   a bad CSR, 403 `WEFT_ERR_IDENTITY_FORBIDDEN` for an identity of another namespace or service,
 *   or of a service outside the credentials' binding (`request.boundServices`);
 * - `GET /v1/identity/bundle` → `{trustDomain, roots, namespace}` (the credentials' namespace), watchable (SSE, long-poll) like every
 *   read: a CA rotation is a new revision, pushed to the proxies that watch it.
 */
export const identityRoutes: FastifyPluginAsync<IdentityRoutesOptions> = async (app, options) => {
  if (!app.hasRequestDecorator('namespace'))
    throw new Error('identityRoutes needs authenticate(app, authenticator) registered first (request.namespace)');
  const { authority } = options;
  const limits = options.watch ?? {};
  const tracker = new WatchTracker();
  const bundle = lazyBundle(authority);
  app.addHook('preClose', async () => tracker.endAll(new Error('server closing')));
  app.setErrorHandler(controllerErrorHandler);

  app.post('/v1/identity/certificates', async (request, reply) => {
    const { csr, service } = requestBody(request.body);
    const ca = await authority.get();
    const issued = await ca.issue({ csr, service, namespace: request.namespace, services: request.boundServices });
    request.log.info(
      { spiffeId: issued.spiffeId, serialNumber: issued.serialNumber, notAfter: issued.notAfter },
      'workload certificate issued',
    );
    return reply.code(201).send(issued);
  });

  // The answer names the namespace the credentials give, so a workload learns the identity it may
  // ask for from its token; one renderer per namespace, so its watchers share serialised frames.
  const renderers = new Map<string, (value: TrustBundle) => unknown>();
  const renderFor = (namespace: string) => {
    let render = renderers.get(namespace);
    if (render === undefined) {
      render = (value: TrustBundle) => ({ ...value, namespace });
      renderers.set(namespace, render);
    }
    return render;
  };

  app.get('/v1/identity/bundle', (request, reply) =>
    serveRead(request, reply, tracker.track(bundle), renderFor(request.namespace), limits),
  );
};
