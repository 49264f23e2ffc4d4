import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { accessLogQueryOf, type RecentAccessLog } from './recent-access-log.js';

/** Where a sidecar's admin listener serves the records, and where these helpers serve them by default. */
export const ACCESS_LOG_PATH = '/debug/access-log';

/** What the access-log endpoint says about the app besides its records. */
export interface AccessLogEndpointOptions {
  /** The app's own service (the `MeshAgent`'s identity), shown as `service` as a sidecar shows its app's. */
  readonly service?: { readonly name: string; readonly tags?: readonly string[] };
  /**
   * The rules revision the app's `MeshAgent` runs with (e.g. `() => following.revision` of
   * `WeftRulesSource.follow`): the recipe runner waits until it reaches the revision that added
   * the run's rules before sending load. Without it the runner cannot tell, and does not wait.
   */
  readonly rulesRevision?: () => number | undefined;
  /** The path served (default {@link ACCESS_LOG_PATH}, what the recipe runner reads). */
  readonly path?: string;
}

/** A request handler that answers the access-log path and tells whether it did. */
export type AccessLogHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * A `node:http` handler serving `GET /debug/access-log` from `log` — the ring a `MeshAgent` was
 * given as its `accessLog` — with the body and query string (`request_id_prefix`, `field` +
 * `value`, `since`, `limit`) of a `weft sidecar`'s admin listener. A Node service on `MeshAgent`
 * (no sidecar) so exposes its outgoing calls' records to `weft recipe-run --proxy <its URL>` and
 * `runRecipe({ proxies })`, as a sidecar does. It returns false, answering nothing, for any other
 * path, so an app calls it first:
 *
 * ```ts
 * const recent = new RecentAccessLog();
 * const mesh = new MeshAgent({ discovery, router, identity: { name: 'api' }, accessLog: recent });
 * const accessLog = accessLogHandler(recent, { service: { name: 'api' } });
 * createServer((req, res) => { if (!accessLog(req, res)) app(req, res); });
 * ```
 *
 * The records show the app's calls (paths, request ids, peers): serve them only where the
 * app's admin endpoints may be seen, as a sidecar's admin port.
 */
export function accessLogHandler(log: RecentAccessLog, options: AccessLogEndpointOptions = {}): AccessLogHandler {
  const path = options.path ?? ACCESS_LOG_PATH;
  const service =
    options.service === undefined ? null : { name: options.service.name, tags: [...(options.service.tags ?? [])] };
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://app');
    if (url.pathname !== path) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      sendJson(res, 405, { error: `${path} answers GET only` });
      return true;
    }
    const query = accessLogQueryOf(url.searchParams);
    if ('error' in query) sendJson(res, 400, query);
    else sendJson(res, 200, { service, rules_revision: options.rulesRevision?.() ?? null, ...log.query(query) });
    return true;
  };
}

/**
 * Serves `GET /debug/access-log` (see {@link accessLogHandler}) on an app's existing `node:http`
 * server: the request listeners the server has now (the app's handler given to `createServer`)
 * get every other request, unchanged. Call it once the app's handler is attached; returns `server`.
 */
export function serveAccessLog(server: Server, log: RecentAccessLog, options: AccessLogEndpointOptions = {}): Server {
  const handle = accessLogHandler(log, options);
  const app = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (handle(req, res)) return;
    for (const listener of app) listener.call(server, req, res);
  });
  return server;
}
