import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import { HOP_BY_HOP } from '../engine/headers.js';

type Controller = Dispatcher.DispatchController;
type Headers = Record<string, string | string[] | undefined>;

/** Writes a JSON error answer (Amalgam8-style) unless the response already started. */
export function sendError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  requestId: string,
  extra?: Record<string, unknown>,
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ error: message, code, status, request_id: requestId, ...extra });
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'x-request-id': requestId,
  });
  res.end(body);
}

/**
 * The undici handler that copies an upstream response onto a node:http response: hop-by-hop
 * headers dropped, body chunks written as they come with backpressure (`data`/`end` style, no
 * `stream.pipeline` per request), errors turned into JSON answers with the request id.
 */
export class ForwardHandler implements Dispatcher.DispatchHandler {
  private controller: Controller | null = null;
  private done = false;
  /** Body bytes still expected when the upstream sent a content-length (-1 when unknown). */
  private remaining = -1;
  private ended = false;
  private readonly onDrain = (): void => this.controller?.resume();

  constructor(
    private readonly res: ServerResponse,
    private readonly requestId: string,
    private readonly onDone: (status: number) => void,
    private readonly closeConnection: () => boolean,
  ) {}

  onRequestStart(controller: Controller): void {
    this.controller = controller;
  }

  /** The client went away before the response ended: abort the upstream call. */
  clientClosed(): void {
    if (this.done) return;
    this.done = true;
    this.controller?.abort(new Error('client closed the connection'));
  }

  onResponseStart(controller: Controller, statusCode: number, headers: Headers, statusMessage?: string): void {
    this.controller = controller;
    const res = this.res;
    if (statusCode < 200) {
      if (statusCode === 100) res.writeContinue();
      return;
    }
    const out: string[] = [];
    // Headers the Connection header names are hop-by-hop too (the usual keep-alive / close name none).
    const connection = headers.connection;
    let named: string[] | undefined;
    if (connection !== undefined) {
      const c = String(connection).toLowerCase();
      if (c !== 'keep-alive' && c !== 'close') named = c.split(/\s*,\s*/);
    }
    for (const name in headers) {
      const value = headers[name];
      if (value === undefined || HOP_BY_HOP.has(name) || named?.includes(name)) continue;
      if (Array.isArray(value)) for (const v of value) out.push(name, v);
      else out.push(name, value);
    }
    if (this.closeConnection()) out.push('connection', 'close');
    const length = headers['content-length'];
    if (typeof length === 'string') this.remaining = Number(length);
    res.writeHead(statusCode, statusMessage ?? '', out);
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    if (this.remaining >= 0) {
      this.remaining -= chunk.length;
      if (this.remaining === 0) {
        // The last chunk: head, body and end leave in one write.
        this.ended = true;
        this.res.end(chunk);
        return;
      }
    }
    if (!this.res.write(chunk)) {
      // Backpressure: stop reading upstream until the client drains.
      controller.pause();
      this.res.once('drain', this.onDrain);
    }
  }

  onResponseEnd(_controller: Controller, trailers: Headers): void {
    this.done = true;
    const res = this.res;
    res.off('drain', this.onDrain);
    if (!this.ended) {
      if (res.chunkedEncoding && Object.keys(trailers).length > 0) res.addTrailers(trailers as Record<string, string>);
      res.end();
    }
    this.onDone(res.statusCode);
  }

  onResponseError(_controller: Controller | null, error: Error): void {
    if (this.done) return;
    this.done = true;
    const res = this.res;
    res.off('drain', this.onDrain);
    const e = error as { status?: unknown; code?: unknown; toJSON?: () => Record<string, unknown> };
    const status = typeof e.status === 'number' && e.status >= 400 ? e.status : 502;
    if (res.headersSent) {
      res.destroy(error);
    } else {
      const json = typeof e.toJSON === 'function' ? e.toJSON() : {};
      const { message: _m, status: _s, code: _c, request_id: _r, ...rest } = json;
      sendError(
        res,
        status,
        typeof e.code === 'string' ? e.code : 'WEFT_ERR_UPSTREAM',
        error.message,
        this.requestId,
        rest,
      );
    }
    this.onDone(status);
  }

  onRequestUpgrade(_controller: Controller, _statusCode: number, _headers: Headers, socket: Duplex): void {
    // Upgrades are not proxied by the sidecar (yet); close the upstream side.
    socket.destroy();
    this.onResponseError(null, new Error('protocol upgrade is not supported by the sidecar'));
  }
}
