import type { Clock } from '@weft/core';
import { ControlPlaneRequestError, TransportUnavailableError } from './errors.js';
import { type ControlPlaneHttp, describeCause, headerValue, type RawResponse, readText, revisionOf } from './http.js';
import { SseParser } from './sse-parser.js';

/** A state read from the server: its revision (when the server gave one), the body as sent, and parsed. */
export interface FollowedState {
  readonly revision: number | undefined;
  readonly text: string;
  readonly body: unknown;
}

/** How one event stream ended (it never ends by itself otherwise). */
export interface StreamEnd {
  /** `clean`: the server ended it; `broken`: the connection failed; `idle`: silent past the idle timeout. */
  readonly how: 'clean' | 'broken' | 'idle';
  /** Snapshots received. */
  readonly events: number;
  /** The server's `retry:` reconnection delay, ms, if it sent one. */
  readonly retryMs: number | undefined;
  /** Why it broke. */
  readonly cause?: unknown;
}

/** Settings of one stream. */
export interface StreamSettings {
  readonly path: string;
  /** The replica to stream from. Default: the connection's first. */
  readonly base?: URL;
  /** Sent as `Last-Event-ID`: the revision the client holds. */
  readonly lastEventId: number | undefined;
  readonly idleTimeoutMs: number;
  readonly clock: Clock;
  readonly signal: AbortSignal;
}

/** The largest plain body accepted in place of a stream. */
const MAX_PLAIN_BYTES = 64 * 1024 * 1024;

/**
 * Opens one Server-Sent Events stream of a read and hands each `snapshot` event to `onState`
 * until the stream ends, breaks or goes silent past the idle timeout.
 *
 * Throws {@link TransportUnavailableError} when SSE does not work there — an HTTP error answer
 * (401 and 403 excepted: credentials are not a transport problem), a plain answer instead of a
 * stream (that answer is still delivered: it is a valid state), or a stream that sends no byte at
 * all before it ends or goes silent (the server writes `retry:` at once, so silence from the
 * first byte means a proxy is buffering the stream). Throws a {@link ControlPlaneRequestError}
 * when the server cannot be reached.
 */
export async function streamOnce(
  http: ControlPlaneHttp,
  settings: StreamSettings,
  onState: (state: FollowedState) => void,
): Promise<StreamEnd> {
  const { path } = settings;
  const abort = new AbortController();
  const onOuterAbort = (): void => abort.abort(settings.signal.reason);
  settings.signal.addEventListener('abort', onOuterAbort, { once: true });
  try {
    const headers: Record<string, string> = { accept: 'text/event-stream', 'cache-control': 'no-cache' };
    if (settings.lastEventId !== undefined) headers['last-event-id'] = String(settings.lastEventId);
    // The server answers a stream request at once; no answer within the idle timeout is most
    // likely a proxy holding the response back until it ends (which it never does). No body
    // timeout: the idle timer below watches the stream (keep-alive comments reset it).
    let res: RawResponse;
    try {
      res = await http.request({
        method: 'GET',
        path,
        ...(settings.base === undefined ? {} : { base: settings.base }),
        headers,
        signal: abort.signal,
        headersTimeoutMs: settings.idleTimeoutMs,
        bodyTimeoutMs: 0,
      });
    } catch (err) {
      const code = ((err as { cause?: { code?: unknown } }).cause as { code?: unknown } | undefined)?.code;
      if (code === 'UND_ERR_HEADERS_TIMEOUT')
        throw new TransportUnavailableError(
          'sse',
          `no answer to the event-stream request in ${settings.idleTimeoutMs} ms (a proxy in between may be holding it back)`,
        );
      throw err;
    }
    if (res.statusCode !== 200) {
      const failure = await http.failure({ method: 'GET', path }, res);
      if (failure.status === 401 || failure.status === 403) throw failure;
      throw new TransportUnavailableError('sse', `the event stream was refused: ${failure.message}`, {
        transient: failure.status >= 500 || failure.status === 429,
      });
    }
    const type = headerValue(res.headers, 'content-type') ?? '';
    if (!/^text\/event-stream\b/i.test(type)) {
      // The server (or a proxy) ignored `Accept`: this is the plain read. Keep it, then fall back.
      const text = await readText(res.body, MAX_PLAIN_BYTES);
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      if (body !== undefined) onState({ revision: revisionOf(res.headers), text, body });
      throw new TransportUnavailableError(
        'sse',
        `the server answered with ${type || 'no content type'}, not an event stream`,
      );
    }
    return await consume(res.body, settings, abort, onState);
  } finally {
    settings.signal.removeEventListener('abort', onOuterAbort);
    abort.abort();
  }
}

/** Reads the stream to its end; see {@link streamOnce}. */
async function consume(
  body: AsyncIterable<Uint8Array>,
  settings: StreamSettings,
  abort: AbortController,
  onState: (state: FollowedState) => void,
): Promise<StreamEnd> {
  const { path, clock, idleTimeoutMs } = settings;
  let bytes = 0;
  let events = 0;
  let retryMs: number | undefined;
  let idle = false;
  const parser = new SseParser({
    event(e) {
      if (e.event !== 'snapshot') return; // other event types are for other clients (forward compatible)
      let parsed: unknown;
      try {
        parsed = JSON.parse(e.data);
      } catch (cause) {
        throw new ControlPlaneRequestError('GET', path, 200, 'an event-stream snapshot is not JSON', { cause });
      }
      events++;
      onState({
        revision: /^\d{1,15}$/.test(e.lastEventId) ? Number(e.lastEventId) : undefined,
        text: e.data,
        body: parsed,
      });
    },
    retry(ms) {
      retryMs = ms;
    },
  });
  let contentError: unknown;
  let timer = clock.setTimeout(onIdle, idleTimeoutMs);
  function onIdle(): void {
    idle = true;
    abort.abort();
  }
  try {
    for await (const chunk of body) {
      bytes += chunk.byteLength;
      timer.clear();
      timer = clock.setTimeout(onIdle, idleTimeoutMs);
      try {
        parser.push(chunk);
      } catch (err) {
        // A snapshot that is not JSON, an oversized event, or a consumer that refused the state:
        // the server's data is at fault, not the connection. Reported as a failure.
        contentError = err;
        break;
      }
    }
  } catch (err) {
    if (settings.signal.aborted) return { how: 'clean', events, retryMs };
    if (!idle) {
      if (bytes === 0)
        throw new TransportUnavailableError(
          'sse',
          `the event stream broke before its first byte: ${describeCause(err)}`,
          { transient: true },
        );
      return { how: 'broken', events, retryMs, cause: err };
    }
  } finally {
    timer.clear();
    parser.end();
  }
  if (contentError !== undefined) throw contentError;
  if (idle) {
    if (bytes === 0)
      throw new TransportUnavailableError(
        'sse',
        `no byte of the event stream arrived in ${idleTimeoutMs} ms (a proxy in between may be buffering it)`,
      );
    return { how: 'idle', events, retryMs };
  }
  if (bytes === 0) throw new TransportUnavailableError('sse', 'the event stream ended before sending anything');
  return { how: 'clean', events, retryMs };
}
