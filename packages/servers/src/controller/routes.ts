import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { RuleKind, RulesStore, StoredRule, WriteResult } from '../rules-store/types.js';
import { ProxyLog } from '../watch/proxy-log.js';
import { INDEX_HEADER, serveRead, type WatchLimits } from '../watch/serve-read.js';
import { authorizationRoutes } from './authorization-routes.js';
import { explain, explainInputFromBody, explainInputFromQuery } from './explain.js';
import { controllerErrorHandler, errorBody } from './http-errors.js';
import { namespaceWrite } from './namespace-writes.js';
import { writeOptions } from './preconditions.js';
import { filterFromQuery } from './query.js';
import { rulesOfBody, withIds } from './rules-body.js';
import { rulesView, servicesView } from './views.js';
import { type InstancesOf, type RuleWarning, warningsFor } from './warnings.js';
import { WatchTracker } from './watch-tracker.js';

/** Options of {@link controllerRoutes}. */
export interface ControllerRoutesOptions {
  /** Where rules are kept. The routes never close it. */
  readonly store: RulesStore;
  /** Limits of watch requests: long-poll waits and SSE heartbeats. */
  readonly watch?: WatchLimits | undefined;
  /**
   * The known instances of a namespace (e.g. the registry's, when both run in one process), so
   * that write warnings can name backends, actions and destinations no instance matches.
   */
  readonly instances?: InstancesOf | undefined;
}

type DestinationParams = { Params: { destination: string } };

/**
 * Amalgam8's controller API (`/v1/rules`, `/health`), plus push and `explain`, as a fastify
 * plugin. Every rule route acts in `request.namespace` — decided by the server's authenticator
 * (`authenticate`), never by the request's path, query or body — so one tenant cannot name
 * another's rules. Register `authenticate` first: the plugin refuses to start without it.
 *
 * Every `GET` read is watchable (see `serveRead`): plainly, as Server-Sent Events
 * (`Accept: text/event-stream`, event id = revision, `Last-Event-ID` resumes), or by long-poll
 * (`?index=<revision>&wait=30s`). Write answers carry the new revision in `x-weft-index` and
 * the body. Writes of rules and policies take namespace-wide credentials: a request whose
 * credentials are bound to services (`request.boundServices`) gets 403
 * `WEFT_ERR_BINDING_FORBIDDEN` (reads and explains answer it). See `src/controller/README.md`
 * for every route.
 */
export const controllerRoutes: FastifyPluginAsync<ControllerRoutesOptions> = async (app, options) => {
  if (!app.hasRequestDecorator('namespace'))
    throw new Error('controllerRoutes needs authenticate(app, authenticator) registered first (request.namespace)');
  const { store, instances } = options;
  const limits = options.watch ?? {};
  const tracker = new WatchTracker();
  // A long-poller counts as seen for two of its longest waits after its last request.
  const proxies = new ProxyLog({ seenForMs: 2 * (limits.maxWaitMs ?? 300_000) });
  // SSE streams and long-polls never complete on their own; end ours before the server waits for them.
  app.addHook('preClose', async () => tracker.endAll(new Error('server closing')));
  app.setErrorHandler(controllerErrorHandler);

  const watchOf = (request: FastifyRequest) => tracker.track(store.watch(request.namespace));
  const rulesWrite = namespaceWrite('rules');

  /** Answers a write: status, revision header and body, with lint warnings about the rules written. */
  const answer = async (
    request: FastifyRequest,
    reply: FastifyReply,
    status: number,
    written: readonly StoredRule[],
    result: WriteResult,
  ): Promise<FastifyReply> => {
    let warnings: RuleWarning[] = [];
    try {
      const after = await store.get(request.namespace);
      const known = instances === undefined ? undefined : await instances(request.namespace);
      warnings = warningsFor(written, after, known);
    } catch (err) {
      // The write is done and must be reported as done: warnings are advice, not part of it.
      request.log.warn({ err }, 'could not compute the warnings of a rules write');
    }
    return reply
      .code(status)
      .header(INDEX_HEADER, String(result.revision))
      .send({ ids: result.ids, removed: result.removed, revision: result.revision, warnings });
  };

  app.get('/health', async (_request, reply) => {
    try {
      await store.check();
      return reply.send({ status: 'ok' });
    } catch (err) {
      const body = errorBody(err);
      return reply.code(503).send({ status: 'unavailable', error: body.error, code: body.code });
    }
  });

  // The proxies that read this namespace's rules, and how far behind each is (`weft status`).
  app.get('/v1/proxies', async (request, reply) => {
    const { revision } = await store.get(request.namespace);
    return reply.header(INDEX_HEADER, String(revision)).send({ proxies: proxies.list(request.namespace, revision) });
  });

  app.post('/v1/rules', rulesWrite, async (request, reply) => {
    const rules = withIds(rulesOfBody(request.body, { nonEmpty: true }));
    const result = await store.add(request.namespace, rules, writeOptions(request));
    return answer(request, reply, 201, rules, result);
  });

  app.get('/v1/rules', (request, reply) =>
    serveRead(request, reply, watchOf(request), rulesView(filterFromQuery(request.query)), limits, proxies),
  );

  app.put('/v1/rules', rulesWrite, async (request, reply) => {
    const rules = rulesOfBody(request.body, { nonEmpty: true, ids: true }) as StoredRule[];
    const result = await store.update(request.namespace, rules, writeOptions(request));
    return answer(request, reply, 200, rules, result);
  });

  app.delete('/v1/rules', rulesWrite, async (request, reply) => {
    const result = await store.delete(request.namespace, filterFromQuery(request.query), writeOptions(request));
    return reply
      .header(INDEX_HEADER, String(result.revision))
      .send({ removed: result.removed, revision: result.revision });
  });

  app.get('/v1/rules/explain', (request, reply) => {
    const input = explainInputFromQuery(request.query);
    return serveRead(request, reply, watchOf(request), (ns) => explain(ns, input), limits, proxies);
  });

  app.post('/v1/rules/explain', async (request, reply) => {
    const input = explainInputFromBody(request.body);
    const ns = await store.get(request.namespace);
    return reply.header(INDEX_HEADER, String(ns.revision)).send(explain(ns, input));
  });

  authorizationRoutes(app, { store, watchOf, limits, proxies });

  for (const [segment, kind] of [
    ['routes', 'route'],
    ['actions', 'actions'],
  ] as const satisfies readonly (readonly [string, RuleKind])[]) {
    app.get(`/v1/rules/${segment}`, (request, reply) =>
      serveRead(request, reply, watchOf(request), servicesView(filterFromQuery(request.query, kind)), limits, proxies),
    );

    app.get<DestinationParams>(`/v1/rules/${segment}/:destination`, (request, reply) => {
      const filter = { ...filterFromQuery(request.query, kind), destinations: [request.params.destination] };
      return serveRead(request, reply, watchOf(request), rulesView(filter), limits, proxies);
    });

    // Replaces every rule of this kind of the destination (a8ctl's route-set, action-add): 201, as Amalgam8.
    app.put<DestinationParams>(`/v1/rules/${segment}/:destination`, rulesWrite, async (request, reply) => {
      const destination = request.params.destination;
      const rules = withIds(rulesOfBody(request.body, { scope: { destination, kind } }));
      const result = await store.replace(
        request.namespace,
        { destinations: [destination], kind },
        rules,
        writeOptions(request),
      );
      return answer(request, reply, 201, rules, result);
    });

    app.delete<DestinationParams>(`/v1/rules/${segment}/:destination`, rulesWrite, async (request, reply) => {
      const filter = { destinations: [request.params.destination], kind };
      const result = await store.delete(request.namespace, filter, writeOptions(request));
      return reply
        .header(INDEX_HEADER, String(result.revision))
        .send({ removed: result.removed, revision: result.revision });
    });
  }
};
