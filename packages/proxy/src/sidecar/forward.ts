import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import { HOP_BY_HOP } from '../engine/headers.js';
import { retryAfterSeconds } from '../engine/rate-limit.js';
import { InjectedResetError } from '../errors.js';
import type { ExchangeListener, Http1Exchange } from '../http1/server.js';
import { reasonPhrase } from '../http1/status-text.js';

type Controller = Dispatcher.DispatchController;
type Headers = Record<string, string | string[] | undefined>;

/**
 * Writes a JSON error answer (Amalgam8-style) unless the response already started; with
 * `retryAfterMs` (a rate limit's wait), a `Retry-After` in whole seconds, rounded up.
 */
export function sendError(
  ex: Http1Exchange,
  status: number,
  code: string,
  message: string,
  requestId: string,
  extra?: Record<string, unknown>,
  retryAfterMs?: number,
): void {
  if (ex.headersSent) {
    ex.destroy();
    return;
  }
  const body = Buffer.from(JSON.stringify({ error: message, code, status, request_id: requestId, ...extra }));
  const headers = ['content-type', 'application/json', 'x-request-id', requestId];
  if (retryAfterMs !== undefined) headers.push('retry-after', String(retryAfterSeconds(retryAfterMs)));
  ex.writeHead(status, reasonPhrase(status), headers, body.length);
  ex.end(body);
}

/**
 * Header lines (`name: value\r\n`, one per value) of an upstream response's header record. When
 * `forwarding`, hop-by-hop headers, those the Connection header names, and `content-length` (the
 * front end frames the response itself) are left out; a `101`'s headers go back as they are.
 */
function headerLines(headers: Headers, forwarding: boolean): string {
  let named: string[] | undefined;
  const connection = headers.connection;
  if (forwarding && connection !== undefined) {
    const c = String(connection).toLowerCase();
    if (c !== 'keep-alive' && c !== 'close') named = c.split(/\s*,\s*/);
  }
  let out = '';
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    if (forwarding && (name === 'content-length' || HOP_BY_HOP.has(name) || named?.includes(name))) continue;
    if (typeof value === 'string') out += `${name}: ${value}\r\n`;
    else for (const v of value) out += `${name}: ${v}\r\n`;
  }
  return out;
}

/**
 * The undici-style handler that copies an upstream response onto the client's exchange: headers
 * filtered, body chunks written as they come with backpressure, errors turned into JSON answers
 * with the request id, and protocol upgrades (WebSocket) spliced through.
 */
export class ForwardHandler implements Dispatcher.DispatchHandler, ExchangeListener {
  private controller: Controller | null = null;
  private done = false;

  constructor(
    private readonly ex: Http1Exchange,
    private readonly requestId: string,
  ) {
    ex.listener = this;
  }

  onRequestStart(controller: Controller): void {
    this.controller = controller;
  }

  /** The client went away before the response ended: abort the upstream call. */
  onClientAbort(): void {
    if (this.done) return;
    this.done = true;
    this.controller?.abort(new Error('client closed the connection'));
  }

  /** The client caught up: read upstream again. */
  onDrain(): void {
    this.controller?.resume();
  }

  onResponseStart(controller: Controller, statusCode: number, headers: Headers, statusMessage?: string): void {
    this.controller = controller;
    // Informational answers stay between the sidecar and the upstream (the front end says
    // `100 Continue` itself when the client's body is first read).
    if (statusCode < 200) return;
    const length = headers['transfer-encoding'] === undefined ? headers['content-length'] : undefined;
    this.ex.writeHeadLines(
      statusCode,
      statusMessage || reasonPhrase(statusCode),
      headerLines(headers, true),
      typeof length === 'string' ? Number(length) : -1,
    );
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    if (!this.ex.write(chunk)) {
      // Backpressure: stop reading upstream until the client drains.
      controller.pause();
      this.ex.waitingForDrain = true;
    }
  }

  onResponseEnd(_controller: Controller, _trailers: Headers): void {
    this.done = true;
    this.ex.end();
  }

  onResponseError(_controller: Controller | null, error: Error): void {
    if (this.done) return;
    this.done = true;
    const ex = this.ex;
    if (ex.finished) return;
    if (error instanceof InjectedResetError) {
      // An abort fault `-1`: the client's connection is reset (TCP RST), with no answer at all.
      ex.reset();
      return;
    }
    const e = error as {
      status?: unknown;
      code?: unknown;
      retryAfterMs?: unknown;
      toJSON?: () => Record<string, unknown>;
    };
    const status = typeof e.status === 'number' && e.status >= 400 ? e.status : 502;
    if (ex.headersSent) {
      ex.destroy();
      return;
    }
    const json = typeof e.toJSON === 'function' ? e.toJSON() : {};
    const { message: _m, status: _s, code: _c, request_id: _r, ...rest } = json;
    sendError(
      ex,
      status,
      typeof e.code === 'string' ? e.code : 'WEFT_ERR_UPSTREAM',
      error.message,
      this.requestId,
      rest,
      typeof e.retryAfterMs === 'number' ? e.retryAfterMs : undefined,
    );
  }

  onRequestUpgrade(_controller: Controller, statusCode: number, headers: Headers, socket: Duplex): void {
    this.done = true;
    this.ex.upgrade(
      statusCode,
      reasonPhrase(statusCode) || 'Switching Protocols',
      headerLines(headers, false),
      socket as NodeJS.ReadWriteStream,
    );
  }
}
