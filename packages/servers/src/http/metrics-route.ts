import type { FastifyInstance, FastifyRequest, onRequestHookHandler } from 'fastify';
import { type MetricFamily, PROMETHEUS_TEXT, processFamilies, renderFamilies } from '../metrics/exposition.js';
import { HttpMetrics, type WatchTransport } from '../metrics/http-metrics.js';
import { type StateSources, stateFamilies } from '../metrics/state-metrics.js';

/** Where every server serves its Prometheus metrics. */
export const METRICS_PATH = '/metrics';

/**
 * The transport of a watch request, if it is one: an event stream (`Accept: text/event-stream`)
 * or a long-poll (`?index=`). As `serveRead` decides it; a GET only (heartbeats never look).
 */
function watchTransport(request: FastifyRequest): WatchTransport | undefined {
  if (request.method !== 'GET') return undefined;
  if (request.headers.accept?.includes('text/event-stream') === true) return 'sse';
  const query = request.query as Record<string, unknown> | null | undefined;
  return query?.index === undefined ? undefined : 'long-poll';
}

/**
 * Serves `GET /metrics` (Prometheus text) on `app` and records every request: call it before
 * the routes are registered, on the root app, so its hooks see them all. Like `/health`, the
 * route is meant to be served without credentials (the caller skips it in its authentication
 * hook): scrapers carry none, and what it shows is counts, namespace names and store states —
 * keep the port off untrusted networks, as for `/health`.
 *
 * The request path pays one `onResponse` hook (after the response is sent) bumping plain
 * numbers; GET routes also an `onRequest` hook that spots watches, and watches one listener on
 * their response's `close`. The stores' gauges are computed when scraped.
 */
export function serveMetrics(
  app: FastifyInstance,
  sources: StateSources,
  /** More families, computed when scraped (the telemetry hub's counters). */
  extra?: () => readonly MetricFamily[],
): HttpMetrics {
  const metrics = new HttpMetrics();
  const countWatch: onRequestHookHandler = (request, reply, done) => {
    const transport = watchTransport(request);
    if (transport !== undefined) reply.raw.once('close', metrics.watchOpened(transport));
    done();
  };
  // Only GET routes can be watched: the others (heartbeats) do not even call the hook.
  app.addHook('onRoute', (route) => {
    if (!(route.method === 'GET' || (Array.isArray(route.method) && route.method.includes('GET')))) return;
    const own = route.onRequest;
    route.onRequest = own === undefined ? [countWatch] : [countWatch, ...(Array.isArray(own) ? own : [own])];
  });
  app.addHook('onResponse', (request, reply, done) => {
    // Set by the authentication hook; absent on an app without one.
    if (request.namespace) metrics.namespace(request.namespace);
    const watch = watchTransport(request) !== undefined;
    metrics.record(
      request.method,
      request.routeOptions.url,
      reply.statusCode,
      watch ? undefined : reply.elapsedTime / 1000,
    );
    done();
  });
  app.get(METRICS_PATH, { exposeHeadRoute: false }, async (_request, reply) => {
    const families = [
      ...metrics.families(),
      ...(await stateFamilies(sources, metrics.namespaces())),
      ...(extra?.() ?? []),
      ...processFamilies(),
    ];
    return reply.header('content-type', PROMETHEUS_TEXT).send(renderFamilies(families));
  });
  return metrics;
}
