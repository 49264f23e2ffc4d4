import type { Agent, Dispatcher } from 'undici';
import type { ResolvedConnection } from './connection-options.js';
import { ControlPlaneRequestError } from './errors.js';
import { loadUndici } from './load-undici.js';

/** The response header that carries a read's revision (the servers' `INDEX_HEADER`). */
export const INDEX_HEADER = 'x-weft-index';

/** Largest JSON body read from a server (a catalogue of ~100k instances fits). */
const MAX_BODY_BYTES = 64 * 1024 * 1024;
/** Largest error body kept for a message. */
const MAX_ERROR_BYTES = 16 * 1024;

/** One request. */
export interface RequestSpec {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path under the base URL, with its query (`/api/v1/instances?status=ALL`). */
  path: string;
  /** The replica to send it to (one of the connection's `bases`). Default: the first. */
  base?: URL;
  /** JSON body. */
  json?: unknown;
  /** Extra request headers (lower-case names). */
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Time to the response headers, ms. Default: the connection's `requestTimeoutMs`. */
  headersTimeoutMs?: number;
  /** Longest silence between body chunks, ms; 0 for none (a stream watched by its own idle timer). */
  bodyTimeoutMs?: number;
  /**
   * A precise deadline for the whole request, ms: past it, it fails with status 0. For short calls
   * that must fail in time to be tried elsewhere (a heartbeat): undici's own timeouts run on a
   * coarse timer, and may fire up to a second late.
   */
  deadlineMs?: number;
}

/** A response whose body has not been read. */
export type RawResponse = Dispatcher.ResponseData;

/** A response read as JSON. */
export interface JsonResponse {
  readonly status: number;
  /** `x-weft-index`, when present and a whole number. */
  readonly revision: number | undefined;
  /** The body as sent (to tell unchanged states apart without a revision). */
  readonly text: string;
  readonly body: unknown;
}

/** A header's first value. */
export function headerValue(headers: RawResponse['headers'], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** `x-weft-index` as a number; undefined when absent or malformed. */
export function revisionOf(headers: RawResponse['headers']): number | undefined {
  const v = headerValue(headers, INDEX_HEADER);
  return v !== undefined && /^\d{1,15}$/.test(v) ? Number(v) : undefined;
}

/** Reads a body as UTF-8 text, failing past `limit` bytes. */
export async function readText(body: AsyncIterable<Uint8Array>, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.byteLength;
    if (size > limit) throw new Error(`the response body is larger than ${limit} bytes`);
    chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  }
  return Buffer.concat(chunks, size).toString('utf8');
}

/** The message of an error body: the servers' `{error, code}` JSON, else its first line of text. */
function errorDetail(text: string): { detail: string; code?: string } {
  try {
    // Weft's servers send `message` (and Amalgam8's `Error` text beside it); others `error`.
    const body = JSON.parse(text) as { Error?: unknown; error?: unknown; message?: unknown; code?: unknown };
    const message =
      [body.message, body.error, body.Error].find((m): m is string => typeof m === 'string' && m !== '') ?? '';
    const detail = message === '' ? text.slice(0, 200) : message;
    return typeof body.code === 'string' ? { detail, code: body.code } : { detail };
  } catch {
    return { detail: text.trim().split('\n')[0]?.slice(0, 200) || '(no body)' };
  }
}

/**
 * HTTP to a control-plane server (any of its replicas, named per request), on a private undici
 * Agent (keep-alive sockets the client owns and closes, whatever dispatcher the application
 * installed globally), with the connection's credentials on every request.
 */
export class ControlPlaneHttp {
  private agent: Agent | undefined;
  private closed = false;

  constructor(readonly connection: ResolvedConnection) {}

  /** Sends a request; rejects with a status-0 {@link ControlPlaneRequestError} when no answer came. */
  async request(spec: RequestSpec): Promise<RawResponse> {
    const undici = await loadUndici();
    if (this.closed) throw new ControlPlaneRequestError(spec.method, spec.path, 0, 'the client is closed');
    this.agent ??= new undici.Agent({ connect: { timeout: this.connection.requestTimeoutMs } });
    const headers = await this.headers(spec);
    const base = spec.base ?? (this.connection.bases[0] as URL);
    const url = `${base.origin}${base.pathname === '/' ? '' : base.pathname}${spec.path}`;
    const deadline = spec.deadlineMs === undefined ? undefined : AbortSignal.timeout(Math.ceil(spec.deadlineMs));
    const signal =
      deadline === undefined || spec.signal === undefined
        ? (deadline ?? spec.signal)
        : AbortSignal.any([spec.signal, deadline]);
    try {
      return await undici.request(url, {
        dispatcher: this.agent,
        method: spec.method,
        headers,
        ...(spec.json === undefined ? {} : { body: JSON.stringify(spec.json) }),
        ...(signal === undefined ? {} : { signal }),
        headersTimeout: spec.headersTimeoutMs ?? this.connection.requestTimeoutMs,
        bodyTimeout: spec.bodyTimeoutMs ?? this.connection.requestTimeoutMs,
      });
    } catch (err) {
      if (spec.signal?.aborted) throw err;
      const why = deadline?.aborted ? `no answer within ${spec.deadlineMs} ms` : describeCause(err);
      throw new ControlPlaneRequestError(spec.method, spec.path, 0, why, { cause: err });
    }
  }

  /**
   * Sends a request and reads its JSON answer; rejects with a {@link ControlPlaneRequestError}
   * carrying the status (and the server's error code) when the answer is not a 2xx.
   */
  async json(spec: RequestSpec): Promise<JsonResponse> {
    const res = await this.request(spec);
    if (res.statusCode >= 300) throw await this.failure(spec, res);
    let text: string;
    try {
      text = await readText(res.body, MAX_BODY_BYTES);
    } catch (err) {
      if (spec.signal?.aborted) throw err;
      throw new ControlPlaneRequestError(spec.method, spec.path, 0, `reading the body: ${describeCause(err)}`, {
        cause: err,
      });
    }
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch (cause) {
      throw new ControlPlaneRequestError(spec.method, spec.path, res.statusCode, 'the body is not JSON', { cause });
    }
    return { status: res.statusCode, revision: revisionOf(res.headers), text, body };
  }

  /** The error for a non-2xx answer (its body read, up to a small limit). */
  async failure(spec: Pick<RequestSpec, 'method' | 'path'>, res: RawResponse): Promise<ControlPlaneRequestError> {
    let text = '';
    try {
      text = await readText(res.body, MAX_ERROR_BYTES);
    } catch {
      res.body.destroy();
    }
    const { detail, code } = errorDetail(text);
    return new ControlPlaneRequestError(
      spec.method,
      spec.path,
      res.statusCode,
      detail,
      code === undefined ? {} : { code },
    );
  }

  /** Closes the client's sockets. Requests in flight fail. */
  async close(): Promise<void> {
    this.closed = true;
    const agent = this.agent;
    this.agent = undefined;
    await agent?.destroy();
  }

  private async headers(spec: RequestSpec): Promise<Record<string, string>> {
    const c = this.connection;
    const out: Record<string, string> = { ...c.headers, accept: 'application/json', ...spec.headers };
    if (spec.json !== undefined) out['content-type'] = 'application/json';
    const token = typeof c.token === 'function' ? await c.token() : c.token;
    if (token !== undefined) out.authorization = `Bearer ${token}`;
    if (c.sendNamespace) out[c.namespaceHeader.toLowerCase()] = c.namespace;
    return out;
  }
}

/** A transport error's message with its code (`ECONNREFUSED`, `UND_ERR_HEADERS_TIMEOUT`). */
export function describeCause(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: unknown }).code;
  const cause = (err as { cause?: unknown }).cause;
  // fetch-style wrappers hide the socket error in `cause`.
  const inner =
    cause instanceof Error && cause.message !== '' && cause.message !== err.message ? `: ${cause.message}` : '';
  return `${err.message}${typeof code === 'string' && !err.message.includes(code) ? ` (${code})` : ''}${inner}`;
}
