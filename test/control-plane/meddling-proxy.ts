import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** What the proxy does to event-stream requests (`Accept: text/event-stream`). */
export type SseBehaviour =
  /** Passes them through. */
  | 'pass'
  /** Answers 502 itself, as a gateway that does not allow streaming would. */
  | 'refuse'
  /** Passes them, sends the answer's headers, but holds back every byte of its body (a buffering reverse proxy). */
  | 'buffer'
  /** Passes them, but holds back the whole answer, headers too, until the upstream ends it. */
  | 'hold'
  /** Drops the Accept header, so the server answers plain JSON (a server that ignores it). */
  | 'plain';

/** One request the proxy saw. */
export interface SeenRequest {
  readonly method: string;
  /** Path and query as the client sent them. */
  readonly url: string;
  readonly accept: string;
  readonly lastEventId: string | undefined;
}

/**
 * An HTTP reverse proxy for the control-plane tests that can get in the way the way real ones do:
 * refuse or buffer Server-Sent Events, or hide revisions (strip `index`/`wait` from queries and
 * `x-weft-index` from answers, like a plain Amalgam8 server). It logs every request it sees, and
 * its upstream can be switched between servers.
 */
export class MeddlingProxy {
  sse: SseBehaviour = 'pass';
  /** The status `refuse` answers with. */
  refuseStatus = 502;
  /** Strip `index`/`wait` from queries and `x-weft-index` from answers. */
  hideRevisions = false;
  /** Requests whose path matches get a 404 from the proxy (a server without that route). */
  notFound: RegExp | undefined;
  readonly seen: SeenRequest[] = [];
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private boundPort = 0;

  private constructor(public upstreamPort: number) {
    this.server = createServer((req, res) => this.forward(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
  }

  static async start(upstreamPort: number): Promise<MeddlingProxy> {
    const proxy = new MeddlingProxy(upstreamPort);
    await new Promise<void>((resolve) => proxy.server.listen({ host: '127.0.0.1', port: 0 }, resolve));
    const addr = proxy.server.address();
    proxy.boundPort = typeof addr === 'object' && addr !== null ? addr.port : 0;
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${this.boundPort}`;
  }

  /** Requests seen with `Accept: text/event-stream`. */
  get streamRequests(): SeenRequest[] {
    return this.seen.filter((r) => r.accept.includes('text/event-stream'));
  }

  /** Requests seen with a long-poll `index`. */
  get longPolls(): SeenRequest[] {
    return this.seen.filter((r) => /[?&]index=/.test(r.url));
  }

  /** Severs every connection through the proxy (streams and keep-alive sockets). */
  cutAll(): void {
    for (const s of this.sockets) s.destroy();
  }

  async close(): Promise<void> {
    this.cutAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private forward(req: IncomingMessage, res: ServerResponse): void {
    const accept = String(req.headers.accept ?? '');
    const lastEventId = req.headers['last-event-id'];
    this.seen.push({
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      accept,
      lastEventId: typeof lastEventId === 'string' ? lastEventId : undefined,
    });
    if (this.notFound?.test(req.url ?? '') === true) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"Resource not found"}');
      return;
    }
    const isStream = accept.includes('text/event-stream');
    if (isStream && this.sse === 'refuse') {
      res
        .writeHead(this.refuseStatus, { 'content-type': 'text/plain' })
        .end('streaming responses are not allowed here');
      return;
    }
    const headers = { ...req.headers };
    if (isStream && this.sse === 'plain') headers.accept = 'application/json';
    if (this.sse === 'plain' || this.hideRevisions) delete headers['last-event-id'];
    let path = req.url ?? '/';
    if (this.hideRevisions) {
      const u = new URL(path, 'http://x');
      u.searchParams.delete('index');
      u.searchParams.delete('wait');
      path = `${u.pathname}${u.search}`;
    }
    const buffer = isStream && (this.sse === 'buffer' || this.sse === 'hold');
    const upstream = request(
      { host: '127.0.0.1', port: this.upstreamPort, method: req.method, path, headers },
      (up) => {
        const out = { ...up.headers };
        if (this.hideRevisions) delete out['x-weft-index'];
        res.writeHead(up.statusCode ?? 502, out);
        if (isStream && this.sse === 'buffer') res.flushHeaders();
        if (buffer) {
          const held: Buffer[] = [];
          up.on('data', (c: Buffer) => held.push(c));
          up.on('end', () => res.end(Buffer.concat(held)));
        } else up.pipe(res);
        up.on('error', () => res.destroy());
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end('upstream unreachable');
      else res.destroy();
    });
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  }
}
