import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import type { SecureContextOptions, TlsOptions, Server as TlsServer } from 'node:tls';
import { ChunkedDecoder, chunkHeader, LAST_CHUNK } from './chunked.js';
import { Framing, findHeadEnd, Http1ParseError, parseRequestHead, type RequestHead } from './parse.js';
import { reasonPhrase } from './status-text.js';

/** Limits and timeouts of an {@link Http1Server}. */
export interface Http1ServerOptions {
  /** Largest request head, bytes (431 above). */
  maxHeaderSize: number;
  /** Time to receive a request head once its first byte arrived, ms (408 after). */
  headersTimeout: number;
  /** Time to receive a whole request, ms. */
  requestTimeout: number;
  /** Idle time of a keep-alive connection between requests, ms. */
  keepAliveTimeout: number;
  /** Serve HTTPS with these options (key and certificate, or pfx; `requestCert` + `ca` for mTLS). */
  tls?: TlsOptions | undefined;
}

/** Pipelined bytes buffered while a response is in progress before the socket is paused. */
const PIPELINE_LIMIT = 64 * 1024;
/** An unread request body shorter than this is read and dropped to keep the connection; longer ones close it. */
const DISCARD_LIMIT = 256 * 1024;

const enum_ = { Head: 0, Body: 1, Wait: 2, Upgraded: 3, Closed: 4 } as const;
type State = (typeof enum_)[keyof typeof enum_];

/** Header lines (`name: value\r\n` each) of flat `[name, value, …]` headers. */
function headerLines(headers: readonly string[]): string {
  let lines = '';
  for (let i = 0; i + 1 < headers.length; i += 2) lines += `${headers[i]}: ${headers[i + 1]}\r\n`;
  return lines;
}

/** What a request's handler hears from its exchange besides the request itself. */
export interface ExchangeListener {
  /** The client went away before the response finished. */
  onClientAbort(): void;
  /** The socket drained after a `write` returned false. */
  onDrain(): void;
}

/** A request body as a Readable; reading it is what lets more bytes in (and sends `100 Continue`). */
class RequestBody extends Readable {
  constructor(private readonly exchange: Http1Exchange) {
    super();
  }

  override _read(): void {
    this.exchange.conn.bodyWanted(this.exchange);
  }
}

/**
 * One request and its response on an {@link Http1Server} connection. The response head is held
 * until the first body bytes (or the end, or the end of the current tick), so a small response
 * leaves in one write.
 */
export class Http1Exchange {
  /** The request body, or null when it has none. */
  readonly body: RequestBody | null;
  headersSent = false;
  finished = false;
  /** The response is chunked (no length known, HTTP/1.1 client). */
  private chunked = false;
  /** Close the connection after this response. */
  closeAfter = false;
  /** @internal The response head, held for the first body bytes. */
  pendingHead: string | null = null;
  /** Told when the client goes away before the response finished, and when the socket drains. */
  listener: ExchangeListener | undefined;
  /** A `write` returned false: the listener waits for `drain`. */
  waitingForDrain = false;
  /** `100 Continue` was sent (or is not needed). */
  continued: boolean;

  constructor(
    readonly conn: ServerConnection,
    readonly head: RequestHead,
  ) {
    this.body = head.framing === Framing.None || head.upgrade ? null : new RequestBody(this);
    this.continued = !head.expectContinue || head.minor === 0;
  }

  /** The client's address. */
  get remoteAddress(): string {
    return this.conn.socket.remoteAddress ?? '';
  }

  /**
   * Starts the response. `headers` is flat (`[name, value, …]`) and must not hold framing or
   * connection headers; `length` is the body length, or -1 when unknown (chunked for HTTP/1.1
   * clients, close-delimited for HTTP/1.0 ones).
   */
  writeHead(status: number, reason: string, headers: readonly string[], length: number): void {
    this.writeHeadLines(status, reason, headerLines(headers), length);
  }

  /**
   * {@link writeHead} with the header lines already formatted (`name: value\r\n` each), as the
   * sidecar builds them from an upstream response in one pass.
   */
  writeHeadLines(status: number, reason: string, lines: string, length: number): void {
    if (this.headersSent) return;
    this.headersSent = true;
    const head = this.head;
    let s = `HTTP/1.1 ${status} ${reason}\r\n${lines}`;
    const noBody = head.method === 'HEAD' || status === 204 || status === 304;
    if (length >= 0) {
      if (status !== 204 && status !== 304) s += `content-length: ${length}\r\n`;
    } else if (!noBody) {
      if (head.minor === 1) {
        this.chunked = true;
        s += 'transfer-encoding: chunked\r\n';
      } else this.closeAfter = true;
    }
    if (!head.keepAlive || this.conn.server.draining || !this.continued || this.conn.bodyTooLargeToDrop)
      this.closeAfter = true;
    if (this.closeAfter) s += 'connection: close\r\n';
    else if (head.minor === 0) s += 'connection: keep-alive\r\n';
    this.pendingHead = `${s}\r\n`;
    // Body bytes usually follow in the same tick; if not, the head leaves at the end of it.
    queueMicrotask(this.conn.flushHead);
  }

  /** Writes body bytes; false when the socket's buffer is full (wait for {@link onDrain}). */
  write(chunk: Buffer): boolean {
    if (this.finished || this.conn.state === enum_.Closed) return true;
    if (this.head.method === 'HEAD' || chunk.length === 0) return true;
    const socket = this.conn.socket;
    const h = this.pendingHead;
    this.pendingHead = null;
    if (this.chunked) {
      socket.cork();
      socket.write(h === null ? chunkHeader(chunk.length) : h + chunkHeader(chunk.length), 'latin1');
      socket.write(chunk);
      const ok = socket.write('\r\n', 'latin1');
      socket.uncork();
      return ok;
    }
    if (h === null) return socket.write(chunk);
    if (chunk.length <= 16 * 1024) {
      // Head and a small body in one buffer: one write, one segment.
      const size = h.length;
      const out = Buffer.allocUnsafe(size + chunk.length);
      out.write(h, 0, 'latin1');
      chunk.copy(out, size);
      return socket.write(out);
    }
    socket.cork();
    socket.write(h, 'latin1');
    const ok = socket.write(chunk);
    socket.uncork();
    return ok;
  }

  /** Ends the response (with a last chunk of body bytes, if given). */
  end(chunk?: Buffer): void {
    if (this.finished) return;
    if (chunk !== undefined) this.write(chunk);
    this.finished = true;
    const socket = this.conn.socket;
    if (this.conn.state !== enum_.Closed) {
      const h = this.pendingHead;
      this.pendingHead = null;
      if (this.chunked) socket.write(h === null ? LAST_CHUNK : h + LAST_CHUNK, 'latin1');
      else if (h !== null) socket.write(h, 'latin1');
    }
    this.conn.responseDone(this);
  }

  /** Cuts the connection (a response that failed after it started). */
  destroy(): void {
    this.finished = true;
    this.conn.close();
  }

  /**
   * Answers `101` with the header lines given (formatted as for {@link writeHeadLines}) and turns
   * the connection into a byte pipe to `upstream`.
   */
  upgrade(status: number, reason: string, lines: string, upstream: Socket | NodeJS.ReadWriteStream): void {
    this.headersSent = true;
    this.finished = true;
    this.conn.upgrade(`HTTP/1.1 ${status} ${reason}\r\n${lines}\r\n`, upstream as Socket);
  }
}

/** One client connection: parses requests one after the other, bodies streamed. */
export class ServerConnection {
  state: State = enum_.Head;
  private buf: Buffer | null = null;
  exchange: Http1Exchange | null = null;
  /** Body bytes still expected (Length framing). */
  private remaining = 0;
  private decoder: ChunkedDecoder | null = null;
  /** The current request body is being read and dropped (its response is done). */
  private discarding = false;
  /** The peer stopped reading body pushes: socket paused until `_read`. */
  private paused = false;
  /** Start of the current timeout window (performance.now() ms) and its kind. */
  since = performance.now();
  private readonly pushBody = (buf: Buffer, start: number, end: number): void => this.bodyBytes(buf, start, end);
  /** Writes the current exchange's held response head (queued as a microtask by writeHead). */
  readonly flushHead = (): void => {
    const ex = this.exchange;
    const h = ex?.pendingHead;
    if (h == null || this.state === enum_.Closed) return;
    (ex as Http1Exchange).pendingHead = null;
    this.socket.write(h, 'latin1');
  };

  constructor(
    readonly server: Http1Server,
    readonly socket: Socket,
  ) {
    socket.on('data', this.onData);
    socket.on('error', () => this.close());
    socket.on('close', () => this.onClose());
    socket.on('drain', () => {
      const ex = this.exchange;
      if (ex?.waitingForDrain) {
        ex.waitingForDrain = false;
        ex.listener?.onDrain();
      }
    });
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.state === enum_.Closed || this.state === enum_.Upgraded) return;
    if (this.buf === null) {
      if (this.state === enum_.Head && this.exchange === null) this.since = performance.now();
      this.buf = chunk;
    } else this.buf = Buffer.concat([this.buf, chunk]);
    this.process();
  };

  /** Parses what is buffered, as far as the state allows. */
  private process(): void {
    try {
      while (this.buf !== null && this.state !== enum_.Closed) {
        const buf = this.buf;
        if (this.state === enum_.Head) {
          if (this.exchange !== null) {
            // A pipelined request: wait for the current response; stop reading if it piles up.
            if (buf.length > PIPELINE_LIMIT) this.socket.pause();
            return;
          }
          const at = findHeadEnd(buf, 0);
          const max = this.server.options.maxHeaderSize;
          if (at < 0) {
            if (buf.length > max) throw new Http1ParseError(431, `request head larger than ${max} bytes`);
            return;
          }
          if (at > max) throw new Http1ParseError(431, `request head larger than ${max} bytes`);
          const head = parseRequestHead(buf, 0, at);
          this.buf = at + 4 < buf.length ? buf.subarray(at + 4) : null;
          if (head.method === 'CONNECT') throw new Http1ParseError(501, 'CONNECT is not supported');
          const ex = new Http1Exchange(this, head);
          this.exchange = ex;
          this.since = performance.now();
          this.discarding = false;
          if (head.upgrade) this.state = enum_.Wait;
          else if (head.framing === Framing.Length) {
            this.state = enum_.Body;
            this.remaining = head.contentLength;
          } else if (head.framing === Framing.Chunked) {
            this.state = enum_.Body;
            this.decoder = new ChunkedDecoder(400);
          } else this.state = enum_.Wait;
          this.server.onRequest(ex);
          continue;
        }
        if (this.state === enum_.Body) {
          if (this.paused) return;
          this.buf = null;
          let at: number;
          if (this.decoder !== null) {
            at = this.decoder.push(buf, 0, buf.length, this.pushBody);
            if (at >= 0) this.bodyEnd();
          } else {
            const n = Math.min(this.remaining, buf.length);
            this.remaining -= n;
            this.bodyBytes(buf, 0, n);
            at = n;
            if (this.remaining === 0) this.bodyEnd();
          }
          if (at >= 0 && at < buf.length) this.buf = buf.subarray(at);
          continue;
        }
        // Wait / Upgraded: the bytes stay buffered (the next request, or the upgraded protocol's).
        return;
      }
    } catch (err) {
      this.reject(err as Error);
    }
  }

  private bodyBytes(buf: Buffer, start: number, end: number): void {
    if (end <= start || this.discarding) return;
    const body = this.exchange?.body;
    if (body == null || body.destroyed) return;
    if (!body.push(start === 0 && end === buf.length ? buf : buf.subarray(start, end))) {
      this.paused = true;
      this.socket.pause();
    }
  }

  private bodyEnd(): void {
    this.decoder = null;
    const ex = this.exchange;
    ex?.body?.push(null);
    if (ex === null || ex.finished) this.awaitNextRequest();
    else this.state = enum_.Wait;
  }

  /** The exchange is over, request and response: the next request head may come. */
  private awaitNextRequest(): void {
    this.exchange = null;
    this.state = enum_.Head;
    this.since = performance.now();
  }

  /** The body's reader wants more: resume reading, and say `100 Continue` once. */
  bodyWanted(ex: Http1Exchange): void {
    if (ex !== this.exchange) return;
    if (!ex.continued) {
      ex.continued = true;
      if (!ex.headersSent) this.socket.write('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');
    }
    if (this.paused) {
      this.paused = false;
      this.socket.resume();
      setImmediate(() => this.process());
    }
  }

  /** The response of `ex` was written in full. */
  responseDone(ex: Http1Exchange): void {
    if (ex !== this.exchange || this.state === enum_.Closed) return;
    if (ex.closeAfter || this.server.draining) {
      this.state = enum_.Closed;
      this.socket.end();
      this.server.forget(this);
      return;
    }
    if (this.state === enum_.Body) {
      // The request body is still arriving: drop the rest if it is small, else close.
      if (this.decoder === null && this.remaining > DISCARD_LIMIT) {
        this.close();
        return;
      }
      this.discarding = true;
      ex.body?.destroy();
      if (this.paused) {
        this.paused = false;
        this.socket.resume();
      }
      return;
    }
    this.awaitNextRequest();
    if (this.buf !== null) {
      this.socket.resume();
      setImmediate(() => this.process());
    }
  }

  /** Hands the socket to a protocol upgrade: writes `head`, then pipes bytes both ways. */
  upgrade(head: string, upstream: Socket): void {
    const socket = this.socket;
    this.state = enum_.Upgraded;
    this.server.forget(this);
    socket.off('data', this.onData);
    socket.write(head, 'latin1');
    const rest = this.buf;
    this.buf = null;
    if (rest !== null) upstream.write(rest);
    socket.pipe(upstream);
    upstream.pipe(socket);
    const cut = (): void => {
      socket.destroy();
      upstream.destroy();
    };
    socket.on('close', cut);
    upstream.on('close', cut);
    upstream.on('error', cut);
  }

  /** Answers a request that cannot be parsed or served, then closes. */
  private reject(err: Error): void {
    const status = err instanceof Http1ParseError ? err.status : 400;
    if (this.exchange === null || !this.exchange.headersSent) {
      const body = JSON.stringify({ error: err.message, code: 'WEFT_ERR_BAD_REQUEST', status });
      this.socket.end(
        `HTTP/1.1 ${status} ${reasonPhrase(status) || 'Bad Request'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
        'latin1',
      );
    } else this.socket.destroy();
    this.exchange?.body?.destroy(err);
    this.state = enum_.Closed;
    this.server.forget(this);
  }

  private onClose(): void {
    const wasUpgraded = this.state === enum_.Upgraded;
    this.state = enum_.Closed;
    this.server.forget(this);
    if (wasUpgraded) return;
    const ex = this.exchange;
    if (ex !== null && !ex.finished) {
      ex.finished = true;
      ex.body?.destroy(new Error('the client closed the connection'));
      ex.listener?.onClientAbort();
    }
  }

  /** The request body still to come is too large to read and drop: the connection closes after the response. */
  get bodyTooLargeToDrop(): boolean {
    return this.state === enum_.Body && this.decoder === null && this.remaining > DISCARD_LIMIT;
  }

  /** True between requests (nothing buffered, no response in progress). */
  get idle(): boolean {
    return this.exchange === null && this.buf === null && this.state === enum_.Head;
  }

  /** Closes the socket now. */
  close(): void {
    if (this.state === enum_.Closed) return;
    this.socket.destroy();
    this.onClose();
  }

  /** Sweeper: enforces the head, request and keep-alive timeouts. */
  sweep(now: number): void {
    const o = this.server.options;
    if (this.state === enum_.Head && this.exchange === null) {
      const limit = this.buf === null ? o.keepAliveTimeout : o.headersTimeout;
      if (now - this.since > limit) {
        if (this.buf === null) this.close();
        else this.reject(new Http1ParseError(408, `request head not received within ${limit} ms`));
      }
    } else if (this.state === enum_.Body && now - this.since > o.requestTimeout) {
      this.reject(new Http1ParseError(408, `request not received within ${o.requestTimeout} ms`));
    }
  }
}

/**
 * The sidecar's HTTP/1.1 front end on a plain `net` server: parses request heads itself and hands
 * each request to `onRequest` as an {@link Http1Exchange}. It does less than node:http (no
 * HTTP/2, no automatic date header, one response at a time per connection, pipelined requests
 * queue), and costs about half its CPU per request, which is the point.
 */
export class Http1Server {
  readonly server: Server;
  readonly connections = new Set<ServerConnection>();
  /** Set by {@link drain}: responses close their connections. */
  draining = false;
  private sweeper: ReturnType<typeof setInterval> | undefined;

  constructor(
    readonly options: Http1ServerOptions,
    readonly onRequest: (exchange: Http1Exchange) => void,
  ) {
    const accept = (socket: Socket): void => {
      const conn = new ServerConnection(this, socket);
      this.connections.add(conn);
      this.sweeper ??= setInterval(() => this.sweep(), 1_000).unref();
    };
    const tls = options.tls;
    if (tls === undefined) {
      this.server = createServer({ noDelay: true }, accept);
      this.secure = false;
    } else {
      // node:tls (and with it node:crypto, ~3 MB resident) is loaded only for an HTTPS listener.
      const { createServer: createTlsServer } = process.getBuiltinModule('node:tls');
      this.server = createTlsServer(
        // HTTP/1.1 only, said in ALPN so an HTTP/2-capable client does not try h2; a client
        // that has not finished its handshake within the head timeout is cut off.
        { handshakeTimeout: options.headersTimeout, ...tls, ALPNProtocols: ['http/1.1'], noDelay: true },
        accept,
      );
      // A failed or timed-out handshake (garbage, plain HTTP, a silent client) is only reported;
      // the connection would stay open without this.
      this.server.on('tlsClientError', (_err: Error, socket: Socket) => socket.destroy());
      this.secure = true;
    }
  }

  /** True when the listener serves HTTPS. */
  readonly secure: boolean;

  /**
   * Changes secure-context options (a renewed key and certificate, say) for new connections;
   * established connections keep theirs. The options given are merged over the current ones: node
   * replaces the whole context, and a renewal that names only `key` and `cert` must not drop the
   * client CA, ciphers or minimum version.
   */
  setSecureContext(options: SecureContextOptions): void {
    const current = this.options.tls;
    if (current === undefined) throw new TypeError('the listener serves plain HTTP; it has no secure context');
    const merged = { ...current, ...options };
    (this.server as TlsServer).setSecureContext(merged);
    this.options.tls = merged;
  }

  /** Listens; resolves with the bound port. */
  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  /** A connection ended. */
  forget(conn: ServerConnection): void {
    this.connections.delete(conn);
    if (this.connections.size === 0 && this.sweeper !== undefined) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }

  private sweep(): void {
    const now = performance.now();
    for (const conn of this.connections) conn.sweep(now);
  }

  /** Stops accepting; idle connections close now, busy ones after their response. */
  drain(): Promise<void> {
    this.draining = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.closeIdle();
    return closed;
  }

  /** Stops accepting and closes every connection now; resolves once the listener is closed. */
  close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.closeAll();
    return closed;
  }

  /** Closes connections that are between requests. */
  closeIdle(): void {
    for (const conn of [...this.connections]) if (conn.idle) conn.close();
  }

  /** Closes every connection now. */
  closeAll(): void {
    for (const conn of [...this.connections]) conn.close();
  }
}
