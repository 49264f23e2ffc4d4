import { connect, type OnReadOpts, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { type ConnectionOptions, connect as connectTls } from 'node:tls';
import type { Dispatcher } from 'undici';
import { ChunkedDecoder, chunkHeader, LAST_CHUNK } from './chunked.js';
import {
  Framing,
  findHeadEnd,
  Http1ParseError,
  headerNameLower,
  parseResponseHead,
  type ResponseHead,
} from './parse.js';
import { acquireReadBuffer, beginLending, endLending, releaseReadBuffer } from './read-buffers.js';

type Handler = Dispatcher.DispatchHandler;
type Controller = Dispatcher.DispatchController;
type Options = Dispatcher.DispatchOptions;

/** TLS for an {@link Http1Pool}'s sockets (mTLS between proxies builds one: see tls/client.ts). */
export interface Http1TlsConnector {
  /**
   * node:tls options of a new socket, called per connection so that a rotated certificate is
   * used at once; `host`, `port`, `noDelay` and `onread` are the pool's. When it throws, the
   * connection fails with that error.
   */
  connectOptions(): ConnectionOptions;
  /** The error a request fails with when the handshake fails. Default: the handshake's own. */
  handshakeError?(error: Error): Error;
}

/** Options of an {@link Http1Pool}; the names and defaults follow undici's Pool where they overlap. */
export interface Http1PoolOptions {
  /** Most sockets open at once; `null` / undefined for no limit. */
  connections?: number | null;
  /** Idle time after which a keep-alive socket is closed, ms. Default 4 000. */
  keepAliveTimeout?: number;
  /**
   * Upper bound for the idle time, ms. Default 600 000. A server's `Keep-Alive: timeout` hint
   * (less `keepAliveTimeoutThreshold`) shortens the idle time, never lengthens it.
   */
  keepAliveMaxTimeout?: number;
  /** Subtracted from a server's hint, so the client closes first, ms. Default 1 000. */
  keepAliveTimeoutThreshold?: number;
  /** Time to connect, ms. Default 10 000. */
  connectTimeout?: number | null;
  /** Time to the response head once the request was written, ms. Default 300 000. */
  headersTimeout?: number | null;
  /** Longest silence between two body reads, ms. Default 300 000. */
  bodyTimeout?: number | null;
  /** Largest response head, bytes. Default 16 KiB. */
  maxHeaderSize?: number;
  /**
   * Hand `onResponseData` views of a per-socket read buffer instead of copies (see
   * read-buffers.ts): no copy and no garbage per read, so memory stays flat however much streams
   * through. Only for handlers that follow that protocol (the sidecar's front end does). Default
   * false: each chunk is a copy the handler may keep.
   */
  lendReadBuffers?: boolean;
  /**
   * Connect over TLS (required for an `https:` origin): each socket is a TLS one, used once its
   * handshake is done. Keep-alive sockets keep the certificate they were opened with.
   */
  tls?: Http1TlsConnector;
}

/** An error with a Node / undici style `code`, which core's outcome classifier maps. */
class Http1ClientError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'Http1ClientError';
  }
}

/**
 * One read buffer shared by every upstream socket: reads are handled one at a time on the event
 * loop and everything kept past a read is copied out, so no socket needs its own 64 KiB, and no
 * read allocates.
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);
const BAD_VALUE = /[\0\r\n]/;
/** Request headers the connection itself decides (framing, reuse); the caller's are dropped. */
const OWN_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade']);
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'QUERY']);
const EMPTY: Record<string, string> = Object.freeze({}) as Record<string, string>;
/** The context undici passes to `onRequestStart`: nothing here. */
const NO_CONTEXT = Object.freeze({});

const enum_ = { Connecting: 0, Idle: 1, Head: 2, Body: 3, Closed: 4 } as const;
type State = (typeof enum_)[keyof typeof enum_];

/** One request on the pool: the controller its handler sees. */
class Http1Request implements Controller {
  aborted = false;
  paused = false;
  reason: Error | null = null;
  rawHeaders = null;
  rawTrailers = null;
  /** The response ended or failed: no more callbacks. */
  done = false;
  /** The request body was written in full. */
  bodySent = false;
  conn: Http1Connection | null = null;

  constructor(
    readonly pool: Http1Pool,
    readonly opts: Options,
    readonly handler: Handler,
  ) {}

  pause(): void {
    this.paused = true;
    this.conn?.socket.pause();
  }

  resume(): void {
    this.paused = false;
    this.conn?.socket.resume();
  }

  abort(reason: Error): void {
    if (this.aborted || this.done) return;
    this.aborted = true;
    this.reason = reason;
    const conn = this.conn;
    if (conn !== null) conn.fail(reason);
    else {
      this.pool.unqueue(this);
      this.error(reason);
    }
  }

  /** Reports `error` to the handler once. */
  error(error: Error): void {
    if (this.done) return;
    this.done = true;
    this.handler.onResponseError?.(this, error);
  }
}

/** One upstream socket, one request at a time (no pipelining: RFC 9112 §9.3.2 makes it unsafe to retry). */
class Http1Connection {
  readonly socket: Socket;
  state: State = enum_.Connecting;
  req: Http1Request | null = null;
  /** Bytes of a response head split across reads. */
  private partial: Buffer | null = null;
  private head: ResponseHead | null = null;
  private remaining = 0;
  private decoder: ChunkedDecoder | null = null;
  /** Keep-alive deadline while idle (performance.now() ms). */
  retireAt = 0;
  /** When the current phase (connect, head, body read) last made progress. */
  lastActivity = performance.now();
  /** A response was read in full on this socket before: a reset now may be a stale keep-alive. */
  reused = false;
  /** Bytes of the current response were received. */
  private responding = false;
  /** With `lendReadBuffers`: this socket's read buffer, lent to the handler read by read. */
  private readBuf: Buffer | null = null;
  /** The handler kept `readBuf` (the client's socket queued it): read into another one next. */
  private readBufTaken = false;
  private readonly deliver = (buf: Buffer, start: number, end: number): void => this.data(buf, start, end);

  constructor(
    readonly pool: Http1Pool,
    /** A connection for one protocol upgrade: read with `data` events, handed over on 101. */
    readonly forUpgrade: boolean,
  ) {
    const p = pool.target;
    const callback = (n: number, buf: Uint8Array): boolean => this.onRead(n, buf as Buffer);
    const tls = pool.tls;
    if (tls !== undefined) this.socket = this.connectTls(tls, callback);
    else
      this.socket = forUpgrade
        ? connect({ host: p.host, port: p.port, noDelay: true })
        : connect({
            host: p.host,
            port: p.port,
            noDelay: true,
            // Called before each read: the same buffer again unless the handler kept it.
            onread: { buffer: pool.lendReadBuffers ? this.nextReadBuffer : READ_BUFFER, callback },
          });
    if (forUpgrade) this.socket.on('data', this.onData);
    // A TLS socket carries requests once its handshake (and the server's identity check) is done.
    this.socket.on(tls === undefined ? 'connect' : 'secureConnect', () => {
      this.lastActivity = performance.now();
      if (this.state !== enum_.Connecting) return;
      const req = this.req;
      this.state = enum_.Idle;
      if (req !== null) this.send(req);
      else pool.release(this);
    });
    this.socket.on('error', (err) =>
      this.fail(tls?.handshakeError !== undefined && this.state === enum_.Connecting ? tls.handshakeError(err) : err),
    );
    this.socket.on('end', () => this.onEnd());
    this.socket.on('close', () => this.onClose());
  }

  /** A TLS socket to the pool's target, read like a plain one; one that fails to start reports its error. */
  private connectTls(tls: Http1TlsConnector, callback: (n: number, buf: Uint8Array) => boolean): Socket {
    const p = this.pool.target;
    let options: ConnectionOptions;
    try {
      options = tls.connectOptions();
    } catch (err) {
      // E.g. no certificate yet: the connection fails like one that could not be opened.
      const socket = new Socket();
      socket.destroy(err as Error);
      return socket;
    }
    // node:tls takes net's `onread` (its types leave it out): TLS reads land in the same buffers.
    const socket = connectTls({
      ...options,
      host: p.host,
      port: p.port,
      onread: this.forUpgrade
        ? undefined
        : { buffer: this.pool.lendReadBuffers ? this.nextReadBuffer : READ_BUFFER, callback },
    } as ConnectionOptions & { onread?: OnReadOpts | undefined });
    return socket.setNoDelay(true);
  }

  private readonly onData = (chunk: Buffer): void => {
    this.ingest(chunk, 0, chunk.length);
  };

  private onRead(n: number, buf: Buffer): boolean {
    if (this.pool.lendReadBuffers) {
      beginLending(buf);
      try {
        this.ingest(buf, 0, n);
      } finally {
        if (endLending()) this.readBufTaken = true;
      }
    } else this.ingest(buf, 0, n);
    return this.req === null || !this.req.paused;
  }

  private readonly nextReadBuffer = (): Buffer => {
    if (this.readBuf === null || this.readBufTaken) {
      this.readBuf = acquireReadBuffer();
      this.readBufTaken = false;
    }
    return this.readBuf;
  };

  /** Writes `req` on this (connected, idle) socket. */
  send(req: Http1Request): void {
    this.req = req;
    req.conn = this;
    if (this.state === enum_.Connecting) return;
    this.state = enum_.Head;
    this.responding = false;
    this.lastActivity = performance.now();
    const o = req.opts;
    this.text = `${o.method} ${o.path} HTTP/1.1\r\n`;
    this.hasHost = false;
    this.length = -1;
    this.bad = undefined;
    const h = o.headers;
    if (Array.isArray(h)) for (let i = 0; i + 1 < h.length; i += 2) this.header(h[i] as string, h[i + 1]);
    else if (h != null) {
      if (typeof (h as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function')
        for (const [n, v] of h as Iterable<[string, unknown]>) this.header(n, v);
      else for (const n in h) this.header(n, (h as Record<string, unknown>)[n]);
    }
    const bad = this.bad;
    let head = this.text;
    const hasHost = this.hasHost;
    const length = this.length;
    this.text = '';
    if (bad !== undefined) {
      this.fail(new Http1ClientError('UND_ERR_INVALID_ARG', `invalid request header ${JSON.stringify(bad)}`), false);
      return;
    }
    if (!hasHost) head += this.pool.hostLine;
    if (o.upgrade != null) head += `connection: upgrade\r\nupgrade: ${String(o.upgrade)}\r\n`;
    const body = o.body;
    const socket = this.socket;
    if (body == null) {
      if (length < 0 && BODY_METHODS.has(o.method)) head += 'content-length: 0\r\n';
      socket.write(`${head}\r\n`, 'latin1');
      this.bodyDone(req);
      return;
    }
    if (typeof body === 'string' || body instanceof Uint8Array) {
      const size = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
      if (length >= 0 && length !== size) {
        this.fail(
          new Http1ClientError('UND_ERR_REQ_CONTENT_LENGTH_MISMATCH', 'content-length does not match the body'),
          false,
        );
        return;
      }
      if (length < 0) head += `content-length: ${size}\r\n`;
      socket.cork();
      socket.write(`${head}\r\n`, 'latin1');
      socket.write(body);
      socket.uncork();
      this.bodyDone(req);
      return;
    }
    const chunked = length < 0;
    if (chunked) head += 'transfer-encoding: chunked\r\n';
    socket.write(`${head}\r\n`, 'latin1');
    void this.pump(req, body as AsyncIterable<unknown>, chunked, length);
  }

  // The request head being written (instance scratch, so adding a header allocates no closure).
  private text = '';
  private hasHost = false;
  private length = -1;
  private bad: string | undefined;

  private header(name: string, value: unknown): void {
    if (value == null) return;
    if (Array.isArray(value)) {
      for (const v of value) this.header(name, v);
      return;
    }
    const v = typeof value === 'string' ? value : String(value);
    const lower = headerNameLower(name);
    if (lower === undefined || BAD_VALUE.test(v)) {
      this.bad ??= name;
      return;
    }
    const len = name.length;
    if (len === 4 || len === 7 || len === 10 || len === 14 || len === 17) {
      if (lower === 'host') this.hasHost = true;
      else if (lower === 'content-length') this.length = Number(v);
      else if (OWN_HEADERS.has(lower)) return;
    }
    this.text += `${name}: ${v}\r\n`;
  }

  private bodyDone(req: Http1Request): void {
    req.bodySent = true;
    req.handler.onRequestSent?.();
  }

  /** Streams a request body, with backpressure; a failing source fails the request. */
  private async pump(req: Http1Request, body: AsyncIterable<unknown>, chunked: boolean, length: number): Promise<void> {
    const socket = this.socket;
    let sent = 0;
    try {
      for await (const item of body) {
        if (req.done || this.req !== req) return;
        const chunk = typeof item === 'string' ? Buffer.from(item) : (item as Uint8Array);
        if (chunk.byteLength === 0) continue;
        sent += chunk.byteLength;
        if (!chunked && sent > length)
          throw new Http1ClientError(
            'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH',
            'request body longer than its content-length',
          );
        let ok: boolean;
        if (chunked) {
          socket.cork();
          socket.write(chunkHeader(chunk.byteLength), 'latin1');
          socket.write(chunk);
          ok = socket.write('\r\n', 'latin1');
          socket.uncork();
        } else ok = socket.write(chunk);
        if (!ok && !(await drained(socket))) return;
      }
      if (req.done || this.req !== req) return;
      if (!chunked && sent !== length)
        throw new Http1ClientError(
          'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH',
          'request body shorter than its content-length',
        );
      if (chunked) socket.write(LAST_CHUNK, 'latin1');
      this.bodyDone(req);
    } catch (err) {
      if (this.req === req) this.fail(err as Error);
      else req.error(err as Error);
    }
  }

  /** Response bytes. */
  ingest(buf: Buffer, start: number, end: number): void {
    const req = this.req;
    if (req === null || this.state < enum_.Head) {
      // Bytes nobody asked for: the connection is out of step; drop it.
      this.socket.destroy();
      return;
    }
    this.lastActivity = performance.now();
    this.responding = true;
    try {
      while (start < end) {
        if (this.state === enum_.Head) {
          let data = buf;
          let s = start;
          let e = end;
          const partial = this.partial;
          if (partial !== null) {
            data = Buffer.concat([partial, buf.subarray(start, end)]);
            s = 0;
            e = data.length;
            this.partial = null;
          }
          const at = findHeadEnd(data, partial === null ? s : Math.max(0, partial.length - 3));
          const max = this.pool.maxHeaderSize;
          if (at < 0 || at + 4 > e) {
            if (e - s > max) throw new Http1ParseError(502, `response head larger than ${max} bytes`);
            this.partial = Buffer.from(data.subarray(s, e));
            return;
          }
          if (at - s > max) throw new Http1ParseError(502, `response head larger than ${max} bytes`);
          const head = parseResponseHead(data, s, at, req.opts.method);
          s = at + 4;
          if (head.status < 200) {
            if (head.status === 101) {
              // A switch nobody asked for, or before the request body was sent in full: what
              // follows is not HTTP, or not in step with us. Neither can be relayed.
              if (!this.forUpgrade) throw new Http1ParseError(502, 'the upstream switched protocols unasked (101)');
              if (!req.bodySent)
                throw new Http1ParseError(502, 'the upstream switched protocols before the request body was sent');
              this.upgrade(req, head, data.subarray(s, e));
              return;
            }
            req.handler.onResponseStart?.(req, head.status, head.record, head.reason);
            buf = data;
            start = s;
            end = e;
            continue;
          }
          this.head = head;
          this.state = enum_.Body;
          if (head.framing === Framing.Chunked) this.decoder = new ChunkedDecoder(502);
          else this.remaining = head.contentLength;
          req.handler.onResponseStart?.(req, head.status, head.record, head.reason);
          if (req.done || this.req !== req) return;
          if (head.framing === Framing.None) {
            this.complete(s < e);
            return;
          }
          buf = data;
          start = s;
          end = e;
          continue;
        }
        // Body.
        const framing = (this.head as ResponseHead).framing;
        if (framing === Framing.Length) {
          const n = Math.min(this.remaining, end - start);
          this.remaining -= n;
          this.data(buf, start, start + n);
          start += n;
          if (this.remaining === 0) {
            this.complete(start < end);
            return;
          }
        } else if (framing === Framing.Chunked) {
          const decoder = this.decoder as ChunkedDecoder;
          const at = decoder.push(buf, start, end, this.deliver);
          if (at < 0) return;
          this.complete(at < end);
          return;
        } else {
          this.data(buf, start, end);
          return;
        }
      }
    } catch (err) {
      this.fail(err as Error);
    }
  }

  /** Hands body bytes to the handler: a view of a lent read buffer, else a copy (the shared read buffer is reused). */
  private data(buf: Buffer, start: number, end: number): void {
    const req = this.req;
    if (end <= start || req === null || req.done) return;
    let chunk: Buffer;
    if (this.pool.lendReadBuffers) chunk = buf.subarray(start, end);
    else {
      chunk = Buffer.allocUnsafe(end - start);
      buf.copy(chunk, 0, start, end);
    }
    req.handler.onResponseData?.(req, chunk);
  }

  /** The response ended; the socket goes back to the pool when it can carry another request. */
  private complete(extraBytes: boolean): void {
    const req = this.req as Http1Request;
    const head = this.head as ResponseHead;
    const trailers = this.decoder?.trailers !== undefined ? this.decoder.trailerRecord() : EMPTY;
    this.req = null;
    this.head = null;
    this.decoder = null;
    req.conn = null;
    req.done = true;
    // A server's `Keep-Alive: timeout` hint, less the threshold, can shorten the idle time but not
    // lengthen it past keepAliveTimeout: as nginx and Envoy do with their upstreams, the proxy's
    // own setting bounds how many idle sockets it keeps (undici, a client library, lets a hint
    // lengthen it too). A hint too short to use closes the socket.
    const p = this.pool;
    const idle =
      head.keepAliveSeconds >= 0
        ? Math.min(p.keepAliveTimeout, head.keepAliveSeconds * 1000 - p.keepAliveThreshold, p.keepAliveMax)
        : p.keepAliveTimeout;
    // A socket opened for an upgrade is never pooled: it was read with another reader, and the
    // request may have been written in a way only that exchange expects.
    if (head.keepAlive && idle > 0 && req.bodySent && !extraBytes && !this.forUpgrade && this.state !== enum_.Closed) {
      this.state = enum_.Idle;
      this.reused = true;
      this.retireAt = performance.now() + idle;
      if (req.paused) this.socket.resume();
      p.release(this);
    } else this.close();
    req.handler.onResponseEnd?.(req, trailers);
  }

  private upgrade(req: Http1Request, head: ResponseHead, rest: Buffer): void {
    const socket = this.socket;
    socket.off('data', this.onData);
    socket.pause();
    this.state = enum_.Closed;
    this.req = null;
    req.conn = null;
    req.done = true;
    this.pool.forget(this);
    if (rest.length > 0) socket.unshift(Buffer.from(rest));
    req.handler.onRequestUpgrade?.(req, head.status, head.record, socket as Duplex);
  }

  private onEnd(): void {
    // A close-delimited body ends with the connection.
    if (this.state === enum_.Body && this.head?.framing === Framing.Close) this.complete(false);
  }

  private onClose(): void {
    if (this.state === enum_.Closed) return;
    if (this.state === enum_.Body && this.head?.framing === Framing.Close) {
      this.complete(false);
      return;
    }
    // A close without an 'error' event is an orderly one (FIN): undici's "other side closed"
    // (UND_ERR_SOCKET). A reset arrives as an 'error' with ECONNRESET and is reported as such.
    this.fail(
      this.state === enum_.Connecting
        ? new Http1ClientError('ECONNREFUSED', 'the upstream closed the connection while connecting')
        : new Http1ClientError('UND_ERR_SOCKET', 'the upstream closed the connection'),
    );
  }

  /** Fails the request in flight (if any) and closes the socket. */
  fail(error: Error, closeSocket = true): void {
    const req = this.req;
    this.req = null;
    if (req !== null) req.conn = null;
    if (closeSocket || req === null) this.close();
    else {
      // A request that was never written leaves the socket reusable.
      this.state = enum_.Idle;
      this.retireAt = performance.now() + this.pool.keepAliveTimeout;
      this.pool.release(this);
    }
    if (req !== null) {
      let err = error;
      if (err instanceof Http1ParseError) err = new Http1ClientError('UND_ERR_SOCKET', err.message, { cause: err });
      // A socket that served a response before and failed before any byte of this one: the
      // server may have closed it while idle (the race every keep-alive client has). The engine
      // retries such a failure once, transparently; a fresh socket's failure is a real one.
      else if (this.reused && !this.responding && (err as { code?: unknown }).code !== undefined)
        (err as { reusedSocket?: boolean }).reusedSocket = true;
      req.error(err);
    }
  }

  /** Closes the socket and leaves the pool. */
  close(): void {
    if (this.state === enum_.Closed) return;
    this.state = enum_.Closed;
    this.pool.forget(this);
    this.socket.destroy();
    if (this.readBuf !== null && !this.readBufTaken) releaseReadBuffer(this.readBuf);
    this.readBuf = null;
  }

  /** Sweeper: closes an idle socket past its keep-alive deadline, fails a stalled request. */
  sweep(now: number): void {
    const p = this.pool;
    if (this.state === enum_.Idle) {
      if (now >= this.retireAt) this.close();
    } else if (this.state === enum_.Connecting) {
      if (now - this.lastActivity > p.connectTimeout)
        this.fail(new Http1ClientError('UND_ERR_CONNECT_TIMEOUT', `connect timeout (${p.connectTimeout} ms)`));
    } else if (this.state === enum_.Head) {
      if (this.req?.bodySent && now - this.lastActivity > p.headersTimeout)
        this.fail(new Http1ClientError('UND_ERR_HEADERS_TIMEOUT', `headers timeout (${p.headersTimeout} ms)`));
    } else if (this.state === enum_.Body && this.req?.paused !== true) {
      if (now - this.lastActivity > p.bodyTimeout)
        this.fail(new Http1ClientError('UND_ERR_BODY_TIMEOUT', `body timeout (${p.bodyTimeout} ms)`));
    }
  }
}

/** Resolves true on `drain`, false when the socket closes first. */
function drained(socket: Socket): Promise<boolean> {
  return new Promise((resolve) => {
    const onDrain = (): void => {
      socket.off('close', onClose);
      resolve(true);
    };
    const onClose = (): void => {
      socket.off('drain', onDrain);
      resolve(false);
    };
    socket.once('drain', onDrain);
    socket.once('close', onClose);
  });
}

/**
 * A keep-alive HTTP/1.1 connection pool to one origin, with undici's dispatch interface
 * (`dispatch(options, handler)` and the v2 handler callbacks), written for the sidecar's hot path:
 * reads land in one shared buffer, request heads are written as one string, response heads are
 * parsed with a few string scans, and timeouts are swept once a second instead of being re-armed
 * on every read. Plain `http:` origins, or TLS with the `tls` option (mTLS between proxies); no
 * pipelining; protocol upgrades get a socket of their own. Transport errors carry Node / undici
 * codes (`ECONNREFUSED`, `ECONNRESET`, `UND_ERR_HEADERS_TIMEOUT`, …), so resilience policies
 * classify them as they do undici's.
 */
export class Http1Pool {
  /** Where sockets connect. */
  readonly target: { host: string; port: number };
  /** `host: …` line added when the request has no Host header. */
  readonly hostLine: string;
  readonly maxConnections: number;
  readonly keepAliveTimeout: number;
  readonly keepAliveMax: number;
  readonly keepAliveThreshold: number;
  readonly connectTimeout: number;
  readonly headersTimeout: number;
  readonly bodyTimeout: number;
  readonly maxHeaderSize: number;
  readonly lendReadBuffers: boolean;
  /** TLS settings of each socket, or undefined for plain TCP. */
  readonly tls: Http1TlsConnector | undefined;
  private readonly idle: Http1Connection[] = [];
  private readonly all = new Set<Http1Connection>();
  private readonly queue: Http1Request[] = [];
  private sweeper: ReturnType<typeof setInterval> | undefined;
  private closing: Promise<void> | undefined;
  private closed = false;
  private onIdle: (() => void) | undefined;

  constructor(origin: string | URL, options: Http1PoolOptions = {}) {
    const url = typeof origin === 'string' ? new URL(origin) : origin;
    if (url.protocol !== 'http:' && !(url.protocol === 'https:' && options.tls !== undefined))
      throw new TypeError(
        `Http1Pool: only http: origins, or https: with the \`tls\` option, are supported (got ${url.protocol})`,
      );
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    this.target = { host, port: url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port) };
    this.tls = options.tls;
    this.hostLine = `host: ${url.host}\r\n`;
    this.maxConnections = options.connections ?? Number.POSITIVE_INFINITY;
    this.keepAliveTimeout = options.keepAliveTimeout ?? 4_000;
    this.keepAliveMax = options.keepAliveMaxTimeout ?? 600_000;
    this.keepAliveThreshold = options.keepAliveTimeoutThreshold ?? 1_000;
    this.connectTimeout = options.connectTimeout ?? 10_000;
    this.headersTimeout = options.headersTimeout ?? 300_000;
    this.bodyTimeout = options.bodyTimeout ?? 300_000;
    this.maxHeaderSize = options.maxHeaderSize ?? 16 * 1024;
    this.lendReadBuffers = options.lendReadBuffers === true;
  }

  /** Sockets open (busy or idle). */
  get connected(): number {
    return this.all.size;
  }

  /** Starts a request; the handler gets undici's v2 callbacks. Returns true (no need to wait for `drain`). */
  dispatch(opts: Options, handler: Handler): boolean {
    const req = new Http1Request(this, opts, handler);
    handler.onRequestStart?.(req, NO_CONTEXT);
    if (req.done) return true;
    if (this.closed) {
      req.error(new Http1ClientError('UND_ERR_CLOSED', 'the pool is closed'));
      return true;
    }
    if (opts.upgrade != null) {
      this.add(new Http1Connection(this, true)).send(req);
      return true;
    }
    let conn = this.idle.pop();
    while (conn !== undefined && performance.now() >= conn.retireAt) {
      conn.close();
      conn = this.idle.pop();
    }
    if (conn !== undefined) conn.send(req);
    else if (this.all.size < this.maxConnections) this.add(new Http1Connection(this, false)).send(req);
    else this.queue.push(req);
    return true;
  }

  private add(conn: Http1Connection): Http1Connection {
    this.all.add(conn);
    this.sweeper ??= setInterval(() => this.sweep(), 1_000).unref();
    return conn;
  }

  /** @internal A socket is free: the oldest queued request takes it, or it waits in the idle stack. */
  release(conn: Http1Connection): void {
    const next = this.queue.shift();
    if (next !== undefined) {
      conn.send(next);
      return;
    }
    if (this.closing !== undefined) {
      conn.close();
      return;
    }
    this.idle.push(conn);
  }

  /** @internal A socket closed. */
  forget(conn: Http1Connection): void {
    if (!this.all.delete(conn)) return;
    const i = this.idle.indexOf(conn);
    if (i >= 0) this.idle.splice(i, 1);
    // Queued requests need a socket of their own now.
    if (this.queue.length > 0 && this.all.size < this.maxConnections) {
      const next = this.queue.shift() as Http1Request;
      this.add(new Http1Connection(this, false)).send(next);
    }
    if (this.all.size === 0) {
      if (this.sweeper !== undefined) clearInterval(this.sweeper);
      this.sweeper = undefined;
      this.onIdle?.();
    }
  }

  /** @internal Removes a queued request (aborted before it got a socket). */
  unqueue(req: Http1Request): void {
    const i = this.queue.indexOf(req);
    if (i >= 0) this.queue.splice(i, 1);
  }

  private sweep(): void {
    const now = performance.now();
    for (const conn of this.all) conn.sweep(now);
  }

  /** Lets requests in flight and queued finish, then closes every socket. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.closed = true;
      this.onIdle = resolve;
      for (const conn of [...this.idle]) conn.close();
      if (this.all.size === 0) resolve();
    });
    return this.closing;
  }

  /** Closes every socket now; requests in flight and queued fail. */
  destroy(): Promise<void> {
    this.closed = true;
    const err = new Http1ClientError('UND_ERR_DESTROYED', 'the pool was destroyed');
    for (const req of this.queue.splice(0)) req.error(err);
    for (const conn of [...this.all]) conn.fail(err);
    return this.close();
  }
}
