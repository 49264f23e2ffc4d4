import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import type { SecureContextOptions, TlsOptions, Server as TlsServer } from 'node:tls';
import { ChunkedDecoder, chunkHeader, LAST_CHUNK } from './chunked.js';
import { InputBuffer } from './input.js';
import { Framing, findHeadEnd, Http1ParseError, parseRequestHead, type RequestHead } from './parse.js';
import { isLent, releaseReadBuffer, retainLent } from './read-buffers.js';
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
  /**
   * Longest wait for a client to take response bytes it was sent, ms (nginx's `send_timeout`):
   * a client that stops reading is cut off instead of holding the response — and any requests
   * it pipelined behind it — forever. Default 60 000.
   */
  sendTimeout?: number;
  /** Serve HTTPS with these options (key and certificate, or pfx; `requestCert` + `ca` for mTLS). */
  tls?: TlsOptions | undefined;
  /**
   * With `tls`: what to do with a connection that does not open with a TLS handshake (its first
   * byte is not 0x16). `serve`: plain HTTP on the same port (a permissive mTLS listener);
   * `refuse`: answer one `403` (code `WEFT_ERR_FORBIDDEN`, saying TLS is required) and close.
   * Unset: no sniffing at all, the bytes go to the TLS server (which drops the connection).
   */
  plaintext?: 'serve' | 'refuse' | undefined;
}

/** First byte of a TLS record carrying a handshake (a ClientHello opens every TLS connection). */
const TLS_HANDSHAKE = 0x16;

/** The answer to plain HTTP on a listener that requires TLS (`plaintext: 'refuse'`). */
function plaintextRefusal(): string {
  const body = JSON.stringify({
    error: 'This listener requires mTLS: connect with TLS and present a workload certificate',
    code: 'WEFT_ERR_FORBIDDEN',
    status: 403,
  });
  return `HTTP/1.1 403 Forbidden\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`;
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

function ignore(): void {}

/**
 * Checks the bytes of an incomplete request head from `from`: a LF must follow a CR, and a CR
 * must be followed by LF. Everything else waits for the whole head.
 */
function checkPartialHead(buf: Buffer, from: number): void {
  let i = buf.indexOf(10, from);
  while (i >= 0) {
    if (i === 0 || buf[i - 1] !== 13) throw new Http1ParseError(400, 'bare LF in the request head');
    i = buf.indexOf(10, i + 1);
  }
  i = buf.indexOf(13, from);
  while (i >= 0 && i + 1 < buf.length) {
    if (buf[i + 1] !== 10) throw new Http1ParseError(400, 'bare CR in the request head');
    i = buf.indexOf(13, i + 1);
  }
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
    // A body fails (a malformed chunk, the client leaving) whether or not anyone reads it yet —
    // the upstream socket may still be connecting. An 'error' nobody listens to would end the
    // process; readers still see the error through their own listener or iterator.
    this.on('error', ignore);
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
    // An upgrade request's body (Content-Length or chunked) is framed like any other: it goes
    // upstream before the protocol switches, and is never mistaken for a next request.
    this.body = head.framing === Framing.None ? null : new RequestBody(this);
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
    // After an upgrade request, the bytes that follow belong to the new protocol — unless the
    // upstream declined. Reading them as HTTP then would let a client smuggle a request past a
    // proxy in front that tunnels them unseen: the connection closes instead (llhttp stops
    // parsing after an upgrade request too).
    if (!head.keepAlive || head.upgrade || this.conn.server.draining || !this.continued || this.conn.bodyTooLargeToDrop)
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
    let ok: boolean;
    if (h !== null && chunk.length <= 16 * 1024) {
      // Head and a small body in one buffer: one write, one segment.
      const size = h.length;
      const prefix = this.chunked ? chunkHeader(chunk.length) : '';
      const out = Buffer.allocUnsafe(size + prefix.length + chunk.length + (this.chunked ? 2 : 0));
      out.write(h, 0, 'latin1');
      if (this.chunked) out.write(prefix, size, 'latin1');
      chunk.copy(out, size + prefix.length);
      if (this.chunked) out.write('\r\n', out.length - 2, 'latin1');
      ok = socket.write(out);
    } else {
      // A view of an upstream read buffer (the sidecar's pool lends them): if the socket queues
      // it rather than writing it at once, the buffer is kept until written, then given back.
      const lent = isLent(chunk);
      const cb = lent ? this.conn.afterLentWrite : undefined;
      if (this.chunked || h !== null) {
        socket.cork();
        if (this.chunked)
          socket.write(h === null ? chunkHeader(chunk.length) : h + chunkHeader(chunk.length), 'latin1');
        else socket.write(h as string, 'latin1');
        socket.write(chunk, cb);
        if (this.chunked) socket.write('\r\n', 'latin1');
        socket.uncork();
        ok = !socket.writableNeedDrain;
      } else ok = socket.write(chunk, cb);
      if (lent) this.conn.lentWrites.push(socket.writableLength > 0 ? retainLent() : null);
    }
    if (!ok) this.conn.waitForDrain();
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
   * Resets the client's connection (TCP RST, no response at all): Amalgam8's abort fault `-1`
   * ("reset connection") as the client sees it.
   */
  reset(): void {
    this.finished = true;
    this.conn.close(true);
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
  /** Received bytes not consumed yet. */
  private readonly input = new InputBuffer();
  /** Where the search for the end of a head split across reads resumes. */
  private headScan = 0;
  exchange: Http1Exchange | null = null;
  /** Body bytes still expected (Length framing). */
  private remaining = 0;
  private decoder: ChunkedDecoder | null = null;
  /** The current request body is being read and dropped (its response is done). */
  private discarding = false;
  /** The body's reader stopped taking pushes: reading waits for `_read`. */
  private paused = false;
  /** Pipelined bytes reached PIPELINE_LIMIT: reading waits for the response in progress. */
  private heldBack = false;
  /** Start of the current timeout window (performance.now() ms) and its kind. */
  since = performance.now();
  /** When a write last returned false with no `drain` since (performance.now() ms), or 0. */
  private drainWaitSince = 0;
  /** @internal Per write of a lent upstream buffer, in order: the buffer kept until written, or null. */
  readonly lentWrites: Array<Buffer | null> = [];
  /** @internal Write callback of a lent buffer: gives it back once the socket has written it. */
  readonly afterLentWrite = (): void => {
    const buf = this.lentWrites.shift();
    if (buf != null) releaseReadBuffer(buf);
  };
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
      this.drainWaitSince = 0;
      const ex = this.exchange;
      if (ex?.waitingForDrain) {
        ex.waitingForDrain = false;
        ex.listener?.onDrain();
      }
    });
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.state === enum_.Closed || this.state === enum_.Upgraded) return;
    if (this.input.view === null && this.state === enum_.Head && this.exchange === null) this.since = performance.now();
    this.input.append(chunk);
    this.process();
  };

  /** Parses what is buffered, as far as the state allows. */
  private process(): void {
    try {
      while (this.input.view !== null && this.state !== enum_.Closed) {
        if (this.state === enum_.Head) {
          if (this.exchange !== null) {
            this.holdPipelined();
            return;
          }
          // RFC 9112 §2.2: empty lines before a request line are ignored (clients that end a
          // POST body with an extra CRLF).
          if (this.headScan === 0 && this.skipEmptyLines()) continue;
          const buf = this.input.view;
          const at = findHeadEnd(buf, this.headScan);
          const max = this.server.options.maxHeaderSize;
          if (at < 0) {
            if (buf.length > max) throw new Http1ParseError(431, `request head larger than ${max} bytes`);
            // A bare LF (or a line that could never be valid) is refused as soon as it arrives,
            // not after a head timeout: llhttp would already have answered.
            checkPartialHead(buf, this.headScan);
            // Only the new bytes are searched next time (a head sent a byte at a time stays linear).
            this.headScan = buf.length > 3 ? buf.length - 3 : 0;
            return;
          }
          this.headScan = 0;
          if (at > max) throw new Http1ParseError(431, `request head larger than ${max} bytes`);
          const head = parseRequestHead(buf, 0, at);
          this.input.consume(at + 4);
          if (head.method === 'CONNECT') throw new Http1ParseError(501, 'CONNECT is not supported');
          const ex = new Http1Exchange(this, head);
          this.exchange = ex;
          this.since = performance.now();
          this.discarding = false;
          if (head.framing === Framing.Length) {
            this.state = enum_.Body;
            this.remaining = head.contentLength;
          } else if (head.framing === Framing.Chunked) {
            this.state = enum_.Body;
            this.decoder = new ChunkedDecoder(400);
          } else this.state = enum_.Wait;
          this.dispatch(ex);
          continue;
        }
        if (this.state === enum_.Body) {
          if (this.paused) return;
          // Body bytes are handed out (pushed to the body stream): take them out of the buffer.
          const buf = this.input.take() as Buffer;
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
          if (at >= 0 && at < buf.length && (this.state as State) !== enum_.Closed)
            this.input.putBack(buf.subarray(at));
          continue;
        }
        // Wait: the bytes are the next request (or the upgraded protocol's) and stay buffered.
        this.holdPipelined();
        return;
      }
    } catch (err) {
      this.reject(err as Error);
    }
  }

  /** Drops CRLF pairs before a request line; true when something was dropped. */
  private skipEmptyLines(): boolean {
    const buf = this.input.view as Buffer;
    let i = 0;
    while (i + 1 < buf.length && buf[i] === 13 && buf[i + 1] === 10) i += 2;
    if (i === 0) return false;
    this.input.consume(i);
    return true;
  }

  /** Hands a request to the server's handler; a handler that throws gets the client a 500, not a crash. */
  private dispatch(ex: Http1Exchange): void {
    try {
      this.server.onRequest(ex);
    } catch (err) {
      const e = new Http1ParseError(500, `the request handler failed: ${(err as Error).message}`);
      this.reject(e, 'WEFT_ERR_INTERNAL');
    }
  }

  /**
   * Bytes wait for the response in progress (pipelined requests): past PIPELINE_LIMIT the socket
   * is paused, so a client cannot make the sidecar buffer without bound.
   */
  private holdPipelined(): void {
    if (!this.heldBack && this.input.length > PIPELINE_LIMIT) {
      this.heldBack = true;
      this.socket.pause();
    }
  }

  /** Reading resumes when neither the body's reader nor a held pipeline stops it. */
  private resumeReading(): void {
    if (!this.paused && !this.heldBack && this.state !== enum_.Closed) this.socket.resume();
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
    // The whole body is in, whether or not `100 Continue` was said: nothing about the framing is
    // in doubt any more, so the connection may carry another request.
    if (ex !== null) ex.continued = true;
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
      this.resumeReading();
      setImmediate(() => this.process());
    }
  }

  /** @internal A write returned false: the send timeout runs until `drain`. */
  waitForDrain(): void {
    if (this.drainWaitSince === 0) this.drainWaitSince = performance.now();
  }

  /** The response of `ex` was written in full. */
  responseDone(ex: Http1Exchange): void {
    if (ex !== this.exchange || this.state === enum_.Closed) return;
    if (ex.closeAfter || this.server.draining) {
      this.endAndForget();
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
        this.resumeReading();
        setImmediate(() => this.process());
      }
      return;
    }
    this.awaitNextRequest();
    if (this.heldBack) {
      this.heldBack = false;
      this.resumeReading();
    }
    if (this.input.view !== null) setImmediate(() => this.process());
  }

  /**
   * Hands the socket to a protocol upgrade: writes `head`, then pipes bytes both ways. The
   * request's body must have been read in full: bytes still to come would be the body's, and
   * the upstream already speaks the new protocol — such a connection is cut instead.
   */
  upgrade(head: string, upstream: Socket): void {
    const socket = this.socket;
    if (this.state !== enum_.Wait) {
      upstream.destroy();
      this.close();
      return;
    }
    this.state = enum_.Upgraded;
    this.server.forget(this);
    socket.off('data', this.onData);
    socket.write(head, 'latin1');
    const rest = this.input.take();
    if (rest !== null) upstream.write(rest);
    if (this.heldBack) {
      this.heldBack = false;
      socket.resume();
    }
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
  private reject(err: Error, code = 'WEFT_ERR_BAD_REQUEST'): void {
    if (this.state === enum_.Closed) return;
    const status = err instanceof Http1ParseError ? err.status : 400;
    const ex = this.exchange;
    if (ex === null || (!ex.headersSent && ex.pendingHead === null)) {
      const body = JSON.stringify({ error: err.message, code, status });
      this.endAndForget(
        `HTTP/1.1 ${status} ${reasonPhrase(status) || 'Bad Request'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      );
    } else this.close();
    if (ex !== null && !ex.finished) {
      ex.finished = true;
      // The handler hears of it: its upstream call is cut, its body stream fails.
      ex.body?.destroy(err);
      ex.listener?.onClientAbort();
    }
  }

  /**
   * Ends the connection after `last` (if given) is written. A client that does not read what is
   * left has `sendTimeout` before the socket is destroyed.
   */
  private endAndForget(last?: string): void {
    this.state = enum_.Closed;
    this.input.clear();
    this.server.forget(this);
    const socket = this.socket;
    if (last === undefined) socket.end();
    else socket.end(last, 'latin1');
    socket.setTimeout(this.server.sendTimeout, () => socket.destroy());
  }

  private onClose(): void {
    const wasUpgraded = this.state === enum_.Upgraded;
    this.state = enum_.Closed;
    this.input.clear();
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

  /** Bytes received and not consumed yet (pipelined requests waiting, a split head). */
  get bufferedBytes(): number {
    return this.input.length;
  }

  /** True between requests (nothing buffered, no response in progress). */
  get idle(): boolean {
    return this.exchange === null && this.input.view === null && this.state === enum_.Head;
  }

  /** Closes the socket now; `reset` sends a TCP RST instead of a FIN. */
  close(reset = false): void {
    if (this.state === enum_.Closed) return;
    if (reset && typeof this.socket.resetAndDestroy === 'function') this.socket.resetAndDestroy();
    else this.socket.destroy();
    this.onClose();
  }

  /** Sweeper: enforces the head, request, keep-alive and send timeouts. */
  sweep(now: number): void {
    const o = this.server.options;
    if (this.drainWaitSince > 0 && now - this.drainWaitSince > this.server.sendTimeout) {
      // The client stopped reading its response.
      this.close();
      return;
    }
    if (this.state === enum_.Head && this.exchange === null) {
      const pending = this.input.view !== null;
      const limit = pending ? o.headersTimeout : o.keepAliveTimeout;
      if (now - this.since > limit) {
        if (pending) this.reject(new Http1ParseError(408, `request head not received within ${limit} ms`));
        else this.close();
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
  /** See {@link Http1ServerOptions.sendTimeout}. */
  readonly sendTimeout: number;
  private sweeper: ReturnType<typeof setInterval> | undefined;

  constructor(
    readonly options: Http1ServerOptions,
    readonly onRequest: (exchange: Http1Exchange) => void,
  ) {
    this.sendTimeout = options.sendTimeout ?? 60_000;
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
      const tlsServer = createTlsServer(
        // HTTP/1.1 only, said in ALPN so an HTTP/2-capable client does not try h2; a client
        // that has not finished its handshake within the head timeout is cut off.
        { handshakeTimeout: options.headersTimeout, ...tls, ALPNProtocols: ['http/1.1'], noDelay: true },
        accept,
      );
      // A failed or timed-out handshake (garbage, plain HTTP, a silent client) is only reported;
      // the connection would stay open without this.
      tlsServer.on('tlsClientError', (_err: Error, socket: Socket) => socket.destroy());
      this.tlsServer = tlsServer;
      this.server =
        options.plaintext === undefined ? tlsServer : this.sniffingServer(tlsServer, accept, options.plaintext);
      this.secure = true;
    }
  }

  /**
   * A plain `net` listener in front of the TLS server that looks at each connection's first byte:
   * a TLS handshake goes to the TLS server (node's TLSSocket takes over the bytes already read),
   * anything else is plain HTTP, served or refused. Only the first read is looked at, so a
   * connection costs one extra event, nothing per request.
   */
  private sniffingServer(
    tlsServer: TlsServer,
    accept: (socket: Socket) => void,
    plaintext: 'serve' | 'refuse',
  ): Server {
    const firstByteTimeout = this.options.headersTimeout;
    return createServer({ noDelay: true }, (socket) => {
      // Until it is handed over, the connection is the sniffer's: close() must cut it too.
      this.sniffing.add(socket);
      socket.once('close', () => this.sniffing.delete(socket));
      // A client that connects and says nothing is cut off like a slow request head.
      socket.setTimeout(firstByteTimeout, () => socket.destroy());
      const onError = (): void => {
        socket.destroy();
      };
      socket.on('error', onError);
      socket.once('data', (chunk: Buffer) => {
        socket.setTimeout(0);
        if (plaintext === 'refuse' && chunk[0] !== TLS_HANDSHAKE) {
          // Whatever else the client sends is read and dropped, so the socket closes once it
          // has the answer (a paused socket would wait for the timeout).
          socket.end(plaintextRefusal(), 'latin1');
          socket.resume();
          socket.setTimeout(firstByteTimeout, () => socket.destroy());
          return;
        }
        this.sniffing.delete(socket);
        socket.off('error', onError);
        socket.pause();
        socket.unshift(chunk);
        if (chunk[0] === TLS_HANDSHAKE) tlsServer.emit('connection', socket);
        else {
          accept(socket);
          socket.resume();
        }
      });
    });
  }

  /** Connections whose first byte the sniffer still waits for (or that it is refusing). */
  private readonly sniffing = new Set<Socket>();

  /** The TLS server of an HTTPS listener (the listening one, or the one the sniffer hands TLS to). */
  private readonly tlsServer: TlsServer | undefined;

  /**
   * True when the listener serves HTTPS (with `plaintext: 'serve'`, plain HTTP as well: ask a
   * connection's socket, a TLSSocket says `encrypted`).
   */
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
    (this.tlsServer as TlsServer).setSecureContext(merged);
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
    // Connections that have not sent their first byte yet hold no request either.
    for (const socket of [...this.sniffing]) socket.destroy();
  }

  /** Closes every connection now. */
  closeAll(): void {
    for (const conn of [...this.connections]) conn.close();
    for (const socket of [...this.sniffing]) socket.destroy();
  }
}
