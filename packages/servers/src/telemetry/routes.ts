import { InvalidArgumentError, type Registry, WeftError } from '@weft/core';
import type { FastifyPluginAsync } from 'fastify';
import { controllerErrorHandler } from '../controller/http-errors.js';
import { queryValue } from '../controller/query.js';
import { WatchTracker } from '../controller/watch-tracker.js';
import { INDEX_HEADER, serveRead, type WatchLimits } from '../watch/serve-read.js';
import { accessLogBatchSchema, batchBodyLimit, parseAccessLogBatch } from './access-log-batch.js';
import { readStream, streamQueryOf } from './access-log-query.js';
import type { RingView } from './access-log-ring.js';
import { parseRecipeRun, RECIPE_RUN_BODY_LIMIT, type RecipeRunsView } from './recipe-runs.js';
import { RegisteredVersions } from './registered-versions.js';
import { resolveTelemetry, type TelemetrySettings } from './settings.js';
import type { TelemetryHub } from './telemetry-hub.js';
import { buildTopology, type TopologyView, windowOf } from './topology.js';

/** Options of {@link telemetryRoutes}. */
export interface TelemetryRoutesOptions {
  /** Where records and runs are kept (the server's; it outlives the routes). */
  readonly hub: TelemetryHub;
  readonly watch?: WatchLimits | undefined;
  /**
   * The limits the routes apply (on/off, records per batch, topology windows; the hub applies
   * its own). Default: {@link TelemetrySettings}' defaults.
   */
  readonly settings?: TelemetrySettings | undefined;
  /**
   * The registry of the same process (the control plane's): `GET /v1/topology` then adds every
   * registered service and version (instances' `version=` tags) as a node, idle ones included,
   * from one registry watch per namespace read (see `RegisteredVersions`).
   */
  readonly registry?: Registry | undefined;
}

/** The answer of the access-log and topology routes while `telemetry.enabled` is false. */
function telemetryOff(): never {
  // 404, not 503: a sidecar's AccessLogStream drops the records and asks again a minute later,
  // where a 5xx would make it retry and queue them; the dashboard shows "not available".
  throw new WeftError(
    'WEFT_ERR_NOT_FOUND',
    'telemetry is turned off on this server (telemetry.enabled: false): access-log records are neither taken nor served',
  );
}

/**
 * The control plane's observability API, as a fastify plugin beside `controllerRoutes` (the
 * same authentication: every route acts in `request.namespace`):
 * `POST /v1/telemetry/access-log` (a batch of access-log records from a sidecar or agent),
 * `GET /v1/telemetry/access-log` (the namespace's recent records, filtered), `GET /v1/topology`
 * (the call graph they draw), `POST` / `GET /v1/recipes/runs` (recipe reports). Every GET is
 * watchable (`serveRead`: Server-Sent Events, long-poll). `settings` bound the batches and the
 * topology's windows, or turn the access-log routes and the topology off (404); with `registry`,
 * the topology also shows registered services and versions that took no call. See
 * `src/controller/README.md` (Telemetry).
 *
 * @throws InvalidArgumentError (at registration) naming each bad field of `settings`.
 */
export const telemetryRoutes: FastifyPluginAsync<TelemetryRoutesOptions> = async (app, options) => {
  if (!app.hasRequestDecorator('namespace'))
    throw new Error('telemetryRoutes needs authenticate(app, authenticator) registered first (request.namespace)');
  const { hub } = options;
  const settings = resolveTelemetry(options.settings);
  const limits = options.watch ?? {};
  const tracker = new WatchTracker();
  const registered =
    options.registry === undefined || !settings.enabled
      ? undefined
      : new RegisteredVersions(options.registry, { maxNamespaces: settings.maxNamespaces });
  app.addHook('preClose', async () => {
    tracker.endAll(new Error('server closing'));
    registered?.close();
  });
  app.setErrorHandler(controllerErrorHandler);

  // One renderer per window: serveRead serialises a change once per renderer for all its streams.
  const topologyRenders = new Map<number, (view: RingView) => TopologyView>();
  const topologyOf = (windowS: number) => {
    let render = topologyRenders.get(windowS);
    if (render === undefined) {
      render = (view) => buildTopology(view, windowS, Date.now(), registered?.latest(view.ring.namespace));
      topologyRenders.set(windowS, render);
    }
    return render;
  };

  if (settings.enabled) {
    const batchSchema = accessLogBatchSchema(settings.maxBatchRecords);
    const bodyLimit = batchBodyLimit(settings.maxBatchRecords);
    const windows = { defaultS: settings.topologyWindowS, maxS: settings.topologyMaxWindowS };

    app.post('/v1/telemetry/access-log', { bodyLimit }, async (request, reply) => {
      const records = parseAccessLogBatch(request.body, batchSchema);
      const index = hub.ingest(request.namespace, records);
      return reply.code(202).header(INDEX_HEADER, String(index)).send({ accepted: records.length, index });
    });

    app.get('/v1/telemetry/access-log', (request, reply) => {
      const q = streamQueryOf(request.query);
      return serveRead(
        request,
        reply,
        tracker.track(hub.records(request.namespace)),
        (view) => readStream(view, q),
        limits,
      );
    });

    app.get('/v1/topology', async (request, reply) => {
      const render = topologyOf(windowOf(request.query, windows));
      // The registry's catalogue of the namespace is at hand before the first picture is drawn.
      await registered?.ready(request.namespace);
      return serveRead(request, reply, tracker.track(hub.records(request.namespace)), render, limits);
    });
  } else {
    // Answered at onRequest (after authentication), before a body is read: nothing is parsed or kept.
    const off = { onRequest: async () => telemetryOff() };
    app.post('/v1/telemetry/access-log', off, telemetryOff);
    app.get('/v1/telemetry/access-log', off, telemetryOff);
    app.get('/v1/topology', off, telemetryOff);
  }

  app.post('/v1/recipes/runs', { bodyLimit: RECIPE_RUN_BODY_LIMIT }, async (request, reply) => {
    const report = parseRecipeRun(request.body);
    const index = hub.runs(request.namespace).add(report);
    return reply.code(201).header(INDEX_HEADER, String(index)).send({ runId: report.runId, index });
  });

  app.get('/v1/recipes/runs', (request, reply) => {
    const text = queryValue(request.query, 'limit');
    const limit = text === undefined ? undefined : Number(text);
    if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 1))
      throw new InvalidArgumentError('recipe runs query', [
        { path: 'limit', message: `must be a whole number of 1 or more (got ${JSON.stringify(text)})` },
      ]);
    return serveRead(
      request,
      reply,
      tracker.track(hub.runs(request.namespace)),
      (view: RecipeRunsView) => (limit === undefined ? view : { runs: view.runs.slice(0, limit), index: view.index }),
      limits,
    );
  });
};
