import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type DashboardFiles, type DashboardSource, loadDashboard, locateDashboard } from './assets.js';

/** Where the control plane serves its dashboard. */
export const DASHBOARD_PATH = '/ui/';

/**
 * Marks the dashboard's own routes (route config), which are served without credentials: the page
 * asks for the API's token itself. A mark rather than a list of paths, so a route an embedder adds
 * at the same path is never let through.
 */
const PUBLIC = { config: { weftDashboard: true } } as const;

/** True for a request to one of the dashboard's routes, which carry no credentials. */
export function servedByDashboard(request: FastifyRequest): boolean {
  return (request.routeOptions.config as { weftDashboard?: unknown } | undefined)?.weftDashboard === true;
}

/** Options of the dashboard (`createControlPlaneServer({dashboard})`). */
export interface DashboardOptions {
  /** A directory of built files (`index.html`, `assets/`) to serve instead of the package's own. */
  readonly directory?: string | undefined;
}

const TYPES: Readonly<Record<string, string>> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
  ico: 'image/x-icon',
  json: 'application/json',
  txt: 'text/plain; charset=utf-8',
};

/**
 * Everything the page loads is its own (`'self'`): no CDN, no inline script, no framing. The
 * stylesheet allows inline `style` attributes, which Preact sets for computed sizes.
 */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
} as const;

interface Served {
  readonly body: Buffer;
  readonly gzip: Buffer | undefined;
  readonly type: string;
  readonly etag: string;
  /** Hashed names never change content: cached for a year. index.html is revalidated each time. */
  readonly immutable: boolean;
}

function prepare(path: string, contents: Uint8Array): Served {
  const body = Buffer.from(contents);
  const ext = path.slice(path.lastIndexOf('.') + 1);
  const type = TYPES[ext] ?? 'application/octet-stream';
  const compressible = type.startsWith('text/') || type === 'image/svg+xml' || type === 'application/json';
  const gzip = compressible && body.length > 1024 ? gzipSync(body) : undefined;
  return {
    body,
    gzip,
    type,
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
    immutable: path.startsWith('assets/'),
  };
}

/**
 * Serves the dashboard under `/ui/` (and redirects `/` there): the built files, held in memory
 * (a few hundred kB), gzipped once for clients that accept it, with ETags; the hashed assets as
 * immutable. The files are loaded on the first request — in a clone of the repository that is
 * when they are bundled from the sources — so servers that nobody opens the dashboard of pay
 * nothing. A package that was never built answers 503 saying how to build it.
 */
export function serveDashboard(app: FastifyInstance, options: DashboardOptions = {}): void {
  const source: DashboardSource =
    options.directory === undefined ? locateDashboard() : { kind: 'directory', path: options.directory };
  let loading: Promise<Map<string, Served> | undefined> | undefined;
  const files = (): Promise<Map<string, Served> | undefined> => {
    loading ??= loadDashboard(source).then((loaded: DashboardFiles | undefined) =>
      loaded === undefined
        ? undefined
        : new Map([...loaded].map(([path, contents]) => [path, prepare(path, contents)])),
    );
    // A failed build is not cached: the next request tries again (after the sources are fixed).
    loading.catch(() => {
      loading = undefined;
    });
    return loading;
  };

  const send = async (request: FastifyRequest, reply: FastifyReply, path: string): Promise<FastifyReply> => {
    reply.headers(SECURITY_HEADERS);
    let served: Map<string, Served> | undefined;
    try {
      served = await files();
    } catch (err) {
      request.log.error({ err }, 'the dashboard could not be loaded');
      return reply
        .code(503)
        .type('text/plain; charset=utf-8')
        .send(`The Weft dashboard could not be loaded: ${err instanceof Error ? err.message : String(err)}\n`);
    }
    if (served === undefined)
      return reply
        .code(503)
        .type('text/plain; charset=utf-8')
        .send(
          `The Weft dashboard is not built into this copy of @weft/servers (looked in ${
            source.kind === 'missing' ? source.looked.join(', ') : 'its dist'
          }): run \`npm run build -w @weft/servers\`.\n`,
        );
    const file = served.get(path);
    if (file === undefined) return reply.code(404).type('text/plain; charset=utf-8').send('no such dashboard file\n');
    reply
      .header('content-type', file.type)
      .header('etag', file.etag)
      .header('vary', 'accept-encoding')
      .header('cache-control', file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    if (request.headers['if-none-match'] === file.etag) return reply.code(304).send();
    const gzip = file.gzip !== undefined && /\bgzip\b/.test(request.headers['accept-encoding'] ?? '');
    if (gzip) reply.header('content-encoding', 'gzip');
    return reply.send(gzip ? file.gzip : file.body);
  };

  app.get('/ui', PUBLIC, (_request, reply) => reply.redirect(DASHBOARD_PATH, 301));
  app.get('/ui/', PUBLIC, (request, reply) => send(request, reply, 'index.html'));
  app.get<{ Params: { file: string } }>('/ui/assets/:file', PUBLIC, (request, reply) =>
    send(request, reply, `assets/${request.params.file}`),
  );
  // The port's root opens the dashboard, unless the app already answers there.
  if (!app.hasRoute({ method: 'GET', url: '/' }))
    app.get('/', PUBLIC, (_request, reply) => reply.redirect(DASHBOARD_PATH, 302));
}
