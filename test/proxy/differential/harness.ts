/**
 * Differential harness: the same raw bytes, over real loopback TCP, to node:http (llhttp, strict
 * mode) and to the sidecar's own HTTP/1.1 engine; what each delivered is recorded server-side and
 * what each answered is read client-side, then the two outcomes are compared.
 *
 * Requests: {@link NodeRecorder} (node:http server, default options) and {@link EngineRecorder}
 * (`Http1Server` with the Sidecar's limits) record every request their handler sees; the handler
 * reads the whole body and answers 200 with a 2-byte body. {@link SidecarRecorder} puts a full
 * `Sidecar` in front of recording node:http upstreams: what reaches an upstream is what counts.
 * Responses: {@link RawResponder} serves raw response bytes to node's `http.request` client and to
 * `Http1Pool`.
 */
import { Buffer } from 'node:buffer';
import http from 'node:http';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { Discovery, ManualSource } from '@weft/core';
import type { Dispatcher } from 'undici';
import { Http1Pool } from '../../../packages/proxy/src/http1/client.js';
import { type Http1Exchange, Http1Server } from '../../../packages/proxy/src/http1/server.js';
import { Sidecar } from '../../../packages/proxy/src/index.js';
import { loopbackInstance } from '../helpers.js';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Header names whose values are kept in a {@link Delivered} (framing, routing, connection). */
const KEPT_HEADERS = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'upgrade', 'expect']);

/** One request a server's handler saw. */
export interface Delivered {
  method: string;
  /** The target as the handler got it (node's `req.url`, the engine's `head.target`, the upstream's path). */
  rawTarget: string;
  /** Origin-form target: an absolute-form target's path (see {@link splitTarget}), or `*`. */
  target: string;
  /** The authority: an absolute-form target's, else the Host header (first one). */
  authority: string | undefined;
  /** The headers that matter here (lower-case names), in order. */
  headers: Array<[string, string]>;
  body: Buffer;
  /** The body ended cleanly (false: it failed, or the connection went away, or it is still arriving). */
  complete: boolean;
  /** Through the sidecar: the service whose upstream got the request. */
  service?: string;
}

/**
 * `[origin-form target, authority]` of a request target: `http://a/x?q` → `['/x?q', 'a']`,
 * anything else unchanged with no authority. Used to compare node's `req.url` (which keeps the
 * absolute form) with the engine's target (which reduces it).
 */
export function splitTarget(target: string): [string, string | undefined] {
  const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)/.exec(target);
  if (m === null) return [target, undefined];
  const rest = target.slice(m[0].length);
  return [rest === '' ? '/' : rest.startsWith('?') ? `/${rest}` : rest, m[1]];
}

function delivered(method: string, rawTarget: string, flatHeaders: readonly string[]): Delivered {
  const headers: Array<[string, string]> = [];
  let host: string | undefined;
  for (let i = 0; i + 1 < flatHeaders.length; i += 2) {
    const name = (flatHeaders[i] as string).toLowerCase();
    const value = flatHeaders[i + 1] as string;
    if (KEPT_HEADERS.has(name)) headers.push([name, value]);
    if (name === 'host' && host === undefined) host = value;
  }
  const [target, authority] = splitTarget(rawTarget);
  return { method, rawTarget, target, authority: authority ?? host, headers, body: Buffer.alloc(0), complete: false };
}

const OK = Buffer.from('ok');

/** Per-connection records, keyed by the client's `address:port` as the server saw it. */
class Records {
  private readonly byClient = new Map<string, Delivered[]>();

  /** A new connection from `key`: forget what an earlier connection from the same address and port left. */
  reset(key: string): void {
    this.byClient.set(key, []);
  }

  add(key: string, d: Delivered): void {
    let list = this.byClient.get(key);
    if (list === undefined) {
      list = [];
      this.byClient.set(key, list);
    }
    list.push(d);
  }

  /** The requests delivered on the connection from `key` (and forgets them). */
  take(key: string): Delivered[] {
    const list = this.byClient.get(key) ?? [];
    this.byClient.delete(key);
    return list;
  }
}

const keyOf = (s: { remoteAddress?: string | undefined; remotePort?: number | undefined }): string =>
  `${s.remoteAddress ?? '?'}:${s.remotePort ?? 0}`;

/** Something the harness can send requests to: it says what it delivered on each connection. */
export interface RequestTarget {
  readonly name: string;
  readonly port: number;
  /** The requests delivered on the connection whose client end is `local` (`address:port`). */
  take(local: string): Delivered[];
  close(): Promise<void>;
}

/** A node:http server with default options (llhttp strict, `insecureHTTPParser` off), recording requests. */
export class NodeRecorder implements RequestTarget {
  readonly name = 'node:http';
  readonly server: http.Server;
  port = 0;
  private readonly records = new Records();

  constructor() {
    const onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => {
      const key = keyOf(req.socket);
      const d = delivered(req.method ?? '', req.url ?? '', req.rawHeaders);
      this.records.add(key, d);
      const parts: Buffer[] = [];
      req.on('data', (chunk: Buffer) => parts.push(chunk));
      req.on('error', () => {});
      req.on('end', () => {
        d.body = Buffer.concat(parts);
        d.complete = true;
        const body = req.method === 'HEAD' ? Buffer.alloc(0) : OK;
        res.writeHead(200, { 'content-length': body.length });
        res.end(body);
      });
    };
    this.server = http.createServer(onRequest);
    // node:http answers 417 to an Expect other than 100-continue when nobody listens for it: an
    // application choice (RFC 9110 lets a server ignore expectations), not llhttp's verdict.
    this.server.on('checkExpectation', onRequest);
    this.server.on('connection', (s: Socket) => this.records.reset(keyOf(s)));
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  take(local: string): Delivered[] {
    return this.records.take(local);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/** The sidecar's front end, `Http1Server`, with the limits the Sidecar gives it, recording requests. */
export class EngineRecorder implements RequestTarget {
  readonly name = 'Http1Server';
  readonly front: Http1Server;
  port = 0;
  private readonly records = new Records();

  constructor() {
    // As Sidecar constructs it with default options (packages/proxy/src/sidecar/sidecar.ts).
    this.front = new Http1Server(
      { maxHeaderSize: 16 * 1024, headersTimeout: 10_000, requestTimeout: 300_000, keepAliveTimeout: 65_000 },
      (ex) => this.onRequest(ex),
    );
    this.front.server.on('connection', (s: Socket) => this.records.reset(keyOf(s)));
  }

  private onRequest(ex: Http1Exchange): void {
    const head = ex.head;
    const d = delivered(head.method, head.target, head.headers);
    // The engine reduces an absolute-form target itself and says its authority in `host`.
    if (head.host !== undefined) d.authority = head.host;
    this.records.add(keyOf(ex.conn.socket), d);
    const answer = (): void => {
      const body = head.method === 'HEAD' ? Buffer.alloc(0) : OK;
      ex.writeHead(200, 'OK', [], body.length);
      ex.end(body);
    };
    const stream = ex.body;
    if (stream === null) {
      d.complete = true;
      answer();
      return;
    }
    const parts: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => parts.push(chunk));
    stream.on('error', () => {});
    stream.on('end', () => {
      d.body = Buffer.concat(parts);
      d.complete = true;
      answer();
    });
  }

  async listen(): Promise<this> {
    this.port = await this.front.listen(0, '127.0.0.1');
    return this;
  }

  take(local: string): Delivered[] {
    return this.records.take(local);
  }

  async close(): Promise<void> {
    await this.front.close();
  }
}

/**
 * A full Sidecar (default routing: a Host naming a service wins, else the first path segment) in
 * front of recording node:http upstreams, one per service in `services`. Retries, outlier
 * ejection and the retry budget are off so each client request reaches an upstream at most once.
 * Requests are attributed to the client by the last `x-forwarded-for` element: clients bind
 * distinct loopback addresses (127.0.0.2 …) so cases can run concurrently.
 */
export class SidecarRecorder implements RequestTarget {
  readonly name = 'Sidecar→upstream';
  sidecar: Sidecar | undefined;
  port = 0;
  private readonly upstreams: http.Server[] = [];
  private readonly records = new Records();

  constructor(readonly services: readonly string[]) {}

  async listen(): Promise<this> {
    const instances = [];
    for (const service of this.services) {
      const onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => {
        const xff = String(req.headers['x-forwarded-for'] ?? '').split(',');
        const client = (xff[xff.length - 1] as string).trim();
        const d = delivered(req.method ?? '', req.url ?? '', req.rawHeaders);
        d.service = service;
        this.records.add(client, d);
        const parts: Buffer[] = [];
        req.on('data', (chunk: Buffer) => parts.push(chunk));
        req.on('error', () => {});
        req.on('end', () => {
          d.body = Buffer.concat(parts);
          d.complete = true;
          const body = req.method === 'HEAD' ? Buffer.alloc(0) : OK;
          res.writeHead(200, { 'content-length': body.length });
          res.end(body);
        });
      };
      const server = http.createServer(onRequest);
      server.on('checkExpectation', onRequest);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      this.upstreams.push(server);
      instances.push(loopbackInstance(service, 'http', (server.address() as AddressInfo).port));
    }
    const discovery = new Discovery({ sources: [new ManualSource('differential', instances)] });
    this.sidecar = new Sidecar({
      discovery,
      port: 0,
      admin: false,
      accessLog: false,
      metrics: false,
      tracer: false,
      retry: false,
      retryBudget: false,
      outlier: false,
    });
    this.port = (await this.sidecar.listen()).port;
    return this;
  }

  /** By client address only (the sidecar tells the upstream the address, not the port). */
  take(local: string): Delivered[] {
    return this.records.take(local.slice(0, local.lastIndexOf(':')));
  }

  async close(): Promise<void> {
    await this.sidecar?.close();
    for (const s of this.upstreams) {
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    }
  }
}

/** What the client read back on one connection. */
export interface ClientResult {
  /** Final (non-1xx) statuses of the responses read, in order. */
  statuses: number[];
  /** The server closed (or reset) the connection before the client stopped waiting. */
  closed: boolean;
  /** The client end, `address:port`, as the server sees it. */
  local: string;
  /** Everything read. */
  raw: Buffer;
}

/** Timing of one exchange. */
export interface ExchangeTiming {
  /** Stop waiting this long after the last write or read, ms. */
  idleMs: number;
  /** Stop waiting after this long in all, ms. */
  maxMs: number;
  /** Pause between two pieces, ms. */
  gapMs: number;
}

export const DEFAULT_TIMING: ExchangeTiming = { idleMs: 150, maxMs: 4000, gapMs: 2 };

/**
 * Statuses of the responses in `buf` (a response stream): 1xx skipped, bodies skipped by
 * Content-Length or chunked framing; a response with neither runs to the end of the stream.
 */
export function responseStatuses(buf: Buffer): number[] {
  const out: number[] = [];
  let pos = 0;
  for (;;) {
    const at = buf.indexOf('\r\n\r\n', pos, 'latin1');
    if (at < 0) return out;
    const lines = buf.toString('latin1', pos, at).split('\r\n');
    const status = Number(/^HTTP\/\d\.\d (\d{3})/.exec(lines[0] ?? '')?.[1] ?? Number.NaN);
    if (Number.isNaN(status)) return out;
    pos = at + 4;
    if (status < 200) continue;
    out.push(status);
    let length = -1;
    let chunked = false;
    for (const line of lines.slice(1)) {
      const c = line.indexOf(':');
      const name = line.slice(0, c).trim().toLowerCase();
      const value = line.slice(c + 1).trim();
      if (name === 'content-length') length = Number(value);
      else if (name === 'transfer-encoding' && value.toLowerCase() === 'chunked') chunked = true;
    }
    if (chunked) {
      for (;;) {
        const eol = buf.indexOf('\r\n', pos, 'latin1');
        if (eol < 0) return out;
        const size = Number.parseInt(buf.toString('latin1', pos, eol), 16);
        if (!(size >= 0)) return out;
        if (size === 0) {
          const end = buf.indexOf('\r\n\r\n', eol - 2, 'latin1');
          if (end < 0) return out;
          pos = end + 4;
          break;
        }
        pos = eol + 2 + size + 2;
      }
    } else if (length >= 0) pos += length;
    else return out;
  }
}

/**
 * Sends `pieces` on a fresh connection to `port` (TCP_NODELAY; one write per piece, `gapMs`
 * apart), then waits until the server closes the connection or nothing happened for `idleMs`.
 */
export function exchange(
  port: number,
  pieces: readonly Buffer[],
  timing: ExchangeTiming = DEFAULT_TIMING,
  localAddress?: string,
): Promise<ClientResult> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let closed = false;
    let done = false;
    let idle: ReturnType<typeof setTimeout> | undefined;
    let local = '';
    let writing = true;
    const socket = connect({ port, host: '127.0.0.1', noDelay: true, ...(localAddress ? { localAddress } : {}) });
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(idle);
      clearTimeout(max);
      socket.destroy();
      const raw = Buffer.concat(parts);
      resolve({ statuses: responseStatuses(raw), closed, local, raw });
    };
    const max = setTimeout(finish, timing.maxMs);
    const arm = (): void => {
      clearTimeout(idle);
      idle = setTimeout(finish, timing.idleMs);
    };
    socket.on('data', (d: Buffer) => {
      parts.push(d);
      if (writing === false) arm();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      closed = true;
      // Give the server's records a moment to settle (a handler still running on another tick).
      setTimeout(finish, 5);
    });
    socket.on('connect', async () => {
      local = `${socket.localAddress}:${socket.localPort}`;
      try {
        for (const [i, piece] of pieces.entries()) {
          if (closed || socket.destroyed) break;
          if (i > 0 && timing.gapMs > 0) await sleep(timing.gapMs);
          if (closed || socket.destroyed) break;
          socket.write(piece);
        }
      } catch (err) {
        if (!closed) reject(err);
      }
      writing = false;
      if (!closed) arm();
    });
  });
}

/** How a connection ended, after the requests accepted on it. */
export type EndState =
  /** A 4xx/5xx answer (the parser's, as the recording handlers answer 200). */
  | 'rejected'
  /** Closed (or reset) without a 4xx/5xx. */
  | 'closed'
  /** Still open when the client stopped waiting. */
  | 'open';

/** One server's outcome for one input. */
export interface Outcome {
  server: string;
  delivered: Delivered[];
  statuses: number[];
  closed: boolean;
  /** The leading delivered requests whose bodies completed: what the server accepted. */
  accepted: Delivered[];
  end: EndState;
}

export function outcomeOf(server: string, result: ClientResult, delivered: Delivered[]): Outcome {
  const accepted: Delivered[] = [];
  for (const d of delivered) {
    if (!d.complete) break;
    accepted.push(d);
  }
  const end: EndState = result.statuses.some((s) => s >= 400) ? 'rejected' : result.closed ? 'closed' : 'open';
  return { server, delivered, statuses: result.statuses, closed: result.closed, accepted, end };
}

/** Sends `pieces` to `target` and reads its outcome. */
export async function run(
  target: RequestTarget,
  pieces: readonly Buffer[],
  timing: ExchangeTiming = DEFAULT_TIMING,
  localAddress?: string,
): Promise<Outcome> {
  const result = await exchange(target.port, pieces, timing, localAddress);
  return outcomeOf(target.name, result, target.take(result.local));
}

/** The result of comparing the engine's outcome (`ours`) with node's for the same bytes. */
export type Comparison =
  | { kind: 'same' }
  /** Ours accepted fewer requests and then rejected or closed: stricter, allowed. */
  | { kind: 'stricter' }
  /** Same requests accepted; then ours rejected / closed where node still waits: stricter, allowed. */
  | { kind: 'ends-where-node-waits' }
  /** Same requests accepted; then node rejected / closed and ours still waits for more bytes. Not an acceptance. */
  | { kind: 'waits-where-node-ends' }
  /** FAIL: ours accepted a request node did not (rejected, or framed differently). */
  | { kind: 'accepts-more'; extra: number }
  /** FAIL: an accepted request differs. */
  | { kind: 'differs'; index: number; field: 'method' | 'target' | 'authority' | 'body'; node: string; ours: string }
  /** FAIL: ours accepted fewer requests but neither rejected nor closed: it waits where node saw a request. */
  | { kind: 'fewer-without-rejection'; missing: number };

export const FAILING_KINDS: ReadonlySet<Comparison['kind']> = new Set([
  'accepts-more',
  'differs',
  'fewer-without-rejection',
]);

const show = (b: Buffer): string => JSON.stringify(b.toString('latin1'));

/** Compares two outcomes request by request (method, target, authority, body), then their ends. */
export function compare(
  node: Outcome,
  ours: Outcome,
  fields: { authority: boolean } = { authority: true },
): Comparison {
  const n = Math.min(node.accepted.length, ours.accepted.length);
  for (let i = 0; i < n; i++) {
    const a = node.accepted[i] as Delivered;
    const b = ours.accepted[i] as Delivered;
    if (a.method !== b.method) return { kind: 'differs', index: i, field: 'method', node: a.method, ours: b.method };
    if (a.target !== b.target) return { kind: 'differs', index: i, field: 'target', node: a.target, ours: b.target };
    if (fields.authority && (a.authority ?? '') !== (b.authority ?? ''))
      return { kind: 'differs', index: i, field: 'authority', node: String(a.authority), ours: String(b.authority) };
    if (!a.body.equals(b.body))
      return { kind: 'differs', index: i, field: 'body', node: show(a.body), ours: show(b.body) };
  }
  if (ours.accepted.length > node.accepted.length)
    return { kind: 'accepts-more', extra: ours.accepted.length - node.accepted.length };
  if (ours.accepted.length < node.accepted.length)
    return ours.end === 'open'
      ? { kind: 'fewer-without-rejection', missing: node.accepted.length - ours.accepted.length }
      : { kind: 'stricter' };
  if (node.end === 'open' && ours.end !== 'open') return { kind: 'ends-where-node-waits' };
  if (node.end !== 'open' && ours.end === 'open') return { kind: 'waits-where-node-ends' };
  return { kind: 'same' };
}

/**
 * Sends the same `pieces` to node and to `ours` at once and compares the outcomes. A failing
 * comparison is run again, alone and with `retry` timing, before it counts: a slow answer under
 * load must not pass for a hang.
 */
export async function comparePair(
  node: RequestTarget,
  ours: RequestTarget,
  pieces: readonly Buffer[],
  options: { authority?: boolean; localAddress?: boolean; timing?: ExchangeTiming; retry?: ExchangeTiming } = {},
): Promise<[Outcome, Outcome, Comparison]> {
  const once = async (timing: ExchangeTiming): Promise<[Outcome, Outcome, Comparison]> => {
    const addr = options.localAddress ? clientAddress() : undefined;
    const [n, o] = await Promise.all([run(node, pieces, timing), run(ours, pieces, timing, addr)]);
    return [n, o, compare(n, o, { authority: options.authority ?? true })];
  };
  const first = await once(options.timing ?? DEFAULT_TIMING);
  if (!FAILING_KINDS.has(first[2].kind)) return first;
  return once(options.retry ?? { ...DEFAULT_TIMING, idleMs: 600 });
}

/**
 * True when two outcomes of the same server for the same bytes (delivered in different pieces)
 * agree: the same requests accepted, and both ended (rejected or closed) or both still open. A
 * rejection and a plain close count alike: a server that closes while the client is still
 * writing resets the connection, which can discard its 400 before the client reads it.
 */
export function sameOutcome(a: Outcome, b: Outcome): boolean {
  const c = compare(a, b);
  if (c.kind !== 'same') return false;
  return (a.end === 'open') === (b.end === 'open');
}

/** `accepted 2 [GET /a; POST /b body=5B] then rejected 400,closed` */
export function describeOutcome(o: Outcome): string {
  const reqs = o.accepted.map((d) => `${d.method} ${d.rawTarget}${d.body.length > 0 ? ` body=${show(d.body)}` : ''}`);
  const partial =
    o.delivered.length > o.accepted.length ? ` (+${o.delivered.length - o.accepted.length} incomplete)` : '';
  const end =
    o.end === 'rejected'
      ? `rejected ${o.statuses.filter((s) => s >= 400).join(',')}${o.closed ? ', closed' : ''}`
      : o.end;
  return `${o.accepted.length === 0 ? 'accepted none' : `accepted ${o.accepted.length} [${reqs.join('; ')}]`}${partial}, then ${end}`;
}

/** Escapes bytes for a report: printable ASCII as is, the rest as \r \n \t \xHH. */
export function escapeBytes(b: Buffer, max = 400): string {
  let s = '';
  for (const c of b.subarray(0, max)) {
    if (c === 13) s += '\\r';
    else if (c === 10) s += '\\n';
    else if (c === 9) s += '\\t';
    else if (c === 92) s += '\\\\';
    else if (c >= 32 && c < 127) s += String.fromCharCode(c);
    else s += `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return b.length > max ? `${s}… (${b.length} bytes)` : s;
}

/** Runs `fn` over `items`, at most `limit` at a time, results in order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Distinct client addresses for concurrent sidecar cases: 127.0.0.2 … 127.0.0.254, round robin. */
let nextAddress = 0;
export function clientAddress(): string {
  const a = `127.0.0.${2 + (nextAddress % 253)}`;
  nextAddress++;
  return a;
}

// ---- responses ------------------------------------------------------------------------------

/**
 * A raw TCP server: answers a request for `/case/<id>` with the bytes registered for `id` (in
 * the pieces registered, `gapMs` apart), then closes the connection `closeAfterMs` later.
 */
export class RawResponder {
  readonly server: Server;
  port = 0;
  private readonly cases = new Map<string, readonly Buffer[]>();
  private nextId = 0;
  private readonly sockets = new Set<Socket>();

  constructor(
    /** Time between writing the response and closing the connection, ms. */
    readonly closeAfterMs = 30,
    /** Pause between two pieces, ms. */
    readonly gapMs = 2,
  ) {
    this.server = createServer((s) => {
      s.setNoDelay(true);
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      s.on('error', () => {});
      let head = '';
      const onData = async (d: Buffer): Promise<void> => {
        head += d.toString('latin1');
        if (!head.includes('\r\n\r\n')) return;
        s.off('data', onData);
        const id = /^[A-Z]+ \/case\/(\d+) /.exec(head)?.[1] ?? '';
        const pieces = this.cases.get(id);
        if (pieces === undefined) {
          s.destroy();
          return;
        }
        for (const [i, piece] of pieces.entries()) {
          if (i > 0 && this.gapMs > 0) await sleep(this.gapMs);
          if (s.destroyed) return;
          s.write(piece);
        }
        setTimeout(() => s.end(), this.closeAfterMs);
      };
      s.on('data', onData);
    });
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  /** Registers response bytes (one piece, or the pieces given); returns the path that serves them. */
  register(bytes: Buffer | readonly Buffer[]): string {
    const id = String(this.nextId++);
    this.cases.set(id, Buffer.isBuffer(bytes) ? [bytes] : bytes);
    return `/case/${id}`;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/** What a client made of one response. */
export interface ResponseOutcome {
  client: string;
  /** The final status, if a final response head was accepted. */
  status: number | undefined;
  body: Buffer;
  /** The response ended cleanly. */
  complete: boolean;
  /** Why it failed, if it did. */
  error: string | undefined;
}

/**
 * GETs `path` from the raw responder with node's http client (no agent: one connection). A
 * response counts as complete when `res` ended, even if the request reports a parse error for
 * bytes after it (node emits that error before the body's `data` and `end` events).
 */
export function nodeFetch(port: number, path: string, maxMs = 3000): Promise<ResponseOutcome> {
  return new Promise((resolve) => {
    let status: number | undefined;
    let complete = false;
    let error: string | undefined;
    let responded = false;
    const parts: Buffer[] = [];
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      resolve({
        client: 'node:http',
        status,
        body: Buffer.concat(parts),
        complete,
        error: complete ? undefined : (error ?? 'closed'),
      });
    };
    const timer = setTimeout(() => {
      error ??= 'timeout';
      finish();
    }, maxMs);
    const req = http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      responded = true;
      status = res.statusCode;
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => {
        complete = true;
        finish();
      });
      res.on('error', (e: Error) => {
        error ??= e.message;
      });
      res.on('aborted', () => {
        error ??= 'aborted';
      });
      res.on('close', () => setImmediate(finish));
    });
    req.on('error', (e: Error) => {
      error ??= `${(e as { code?: string }).code ?? ''} ${e.message}`.trim();
      if (!responded) finish();
    });
    // A 101 to a request that asked for no upgrade: node hands over the socket, no response.
    req.on('upgrade', (res: http.IncomingMessage, socket: Socket) => {
      status = res.statusCode;
      error = 'switched protocols (101) unasked';
      socket.destroy();
      finish();
    });
  });
}

/** GETs `path` from the raw responder through a fresh `Http1Pool` (undici's dispatch, v2 handler). */
export function poolFetch(port: number, path: string, maxMs = 3000): Promise<ResponseOutcome> {
  const pool = new Http1Pool(`http://127.0.0.1:${port}`, { connections: 1, maxHeaderSize: 16 * 1024 });
  return new Promise<ResponseOutcome>((resolve) => {
    let status: number | undefined;
    const parts: Buffer[] = [];
    let done = false;
    const finish = (complete: boolean, error?: string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({
        client: 'Http1Pool',
        status,
        body: Buffer.concat(parts),
        complete,
        error: complete ? undefined : error,
      });
    };
    const timer = setTimeout(() => finish(false, 'timeout'), maxMs);
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart: () => {},
      onResponseStart: (_c, code) => {
        if (code >= 200) status = code;
      },
      onResponseData: (_c, chunk) => {
        if (!done) parts.push(Buffer.from(chunk));
      },
      onResponseEnd: () => finish(true),
      onResponseError: (_c, err) => finish(false, `${(err as { code?: string }).code ?? ''} ${err.message}`.trim()),
    };
    pool.dispatch({ origin: `http://127.0.0.1:${port}`, method: 'GET', path, headers: { host: 'upstream' } }, handler);
  }).finally(() => pool.destroy());
}

/** The result of comparing the pool's response with node's client's. */
export type ResponseComparison =
  | { kind: 'same' }
  /** Ours failed a response node's client accepted: stricter, allowed. */
  | { kind: 'stricter' }
  /** FAIL: ours accepted a response node's client rejected. */
  | { kind: 'accepts-rejected' }
  /** FAIL: both accepted, status or body differ. */
  | { kind: 'differs'; field: 'status' | 'body'; node: string; ours: string };

export function compareResponses(node: ResponseOutcome, ours: ResponseOutcome): ResponseComparison {
  if (!node.complete && ours.complete) return { kind: 'accepts-rejected' };
  if (node.complete && !ours.complete) return { kind: 'stricter' };
  if (!node.complete && !ours.complete) return { kind: 'same' };
  if (node.status !== ours.status)
    return { kind: 'differs', field: 'status', node: String(node.status), ours: String(ours.status) };
  if (!node.body.equals(ours.body))
    return { kind: 'differs', field: 'body', node: show(node.body), ours: show(ours.body) };
  return { kind: 'same' };
}

/** Two outcomes of the same client for the same response bytes agree: both failed, or both read the same status and body. */
export function sameResponse(a: ResponseOutcome, b: ResponseOutcome): boolean {
  if (a.complete !== b.complete) return false;
  return !a.complete || (a.status === b.status && a.body.equals(b.body));
}

export function describeResponse(o: ResponseOutcome): string {
  if (o.complete) return `${o.status} body=${show(o.body)}`;
  return `failed${o.status !== undefined ? ` after ${o.status} (body so far ${show(o.body)})` : ''}: ${o.error ?? '?'}`;
}
