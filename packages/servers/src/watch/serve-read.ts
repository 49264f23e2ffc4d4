import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ProxyLog, ProxyWatch } from './proxy-log.js';
import type { Versioned, Watchable } from './types.js';

/** Limits of watch requests. */
export interface WatchLimits {
  /** Longest long-poll wait a client may ask for, ms. Default 300 000 (5 min). */
  maxWaitMs?: number;
  /** Long-poll wait when `wait` is not given, ms. Default 30 000. */
  defaultWaitMs?: number;
  /** Interval of SSE keep-alive comments, ms (proxies drop silent streams). Default 15 000. */
  heartbeatMs?: number;
}

/** The response header that carries a read's revision (Consul's `X-Consul-Index`, Weft's name). */
export const INDEX_HEADER = 'x-weft-index';

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m)?$/;

/** Parses `30s`, `1.5m`, `500ms` or plain seconds; undefined when malformed. */
export function parseWait(text: string): number | undefined {
  const m = DURATION.exec(text.trim());
  if (m === null) return undefined;
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return unit === 'ms' ? n : unit === 's' ? n * 1000 : n * 60_000;
}

/** A query string value, the first when repeated. */
function first(value: unknown): string | undefined {
  if (Array.isArray(value)) return typeof value[0] === 'string' ? value[0] : undefined;
  return typeof value === 'string' ? value : undefined;
}

/** The error body of a malformed watch parameter (the servers' shape, naming the field). */
function badParam(reply: FastifyReply, field: string, message: string): FastifyReply {
  return reply.code(400).send({
    error: `Invalid ${field}: ${message}`,
    code: 'WEFT_ERR_INVALID_ARGUMENT',
    status: 400,
    issues: [{ path: field, message }],
  });
}

/**
 * Serves one read three ways, chosen by the request:
 * - `Accept: text/event-stream`: Server-Sent Events, one `snapshot` event per state with `id:` =
 *   revision. A client that reconnects with `Last-Event-ID` gets the current state at once if it
 *   changed since (states are whole snapshots, so nothing in between is lost), else waits for
 *   the next change. A `Last-Event-ID` *above* the current revision (the source restarted and
 *   lost its history) gets the current state at once too.
 * - `?index=N` (and optionally `wait=30s`): long-poll, Consul style — answers as soon as the
 *   revision is past N, or with the current state when the wait ends; at once when N is above
 *   the current revision (as Consul, whose clients reset their index when it goes backwards).
 * - otherwise: the current state at once.
 * Every answer carries the revision in `x-weft-index`. `render` turns a state into the body.
 * With `proxies`, a request that names its proxy (`x-weft-proxy`) is recorded there: what it
 * reads, how, and the revision it was sent, so the server can tell which proxies are behind.
 */
export async function serveRead<T>(
  request: FastifyRequest,
  reply: FastifyReply,
  source: Watchable<T>,
  render: (value: T) => unknown,
  limits: WatchLimits = {},
  proxies?: ProxyLog,
): Promise<FastifyReply> {
  const query = (request.query ?? {}) as Record<string, unknown>;
  const accept = request.headers.accept ?? '';
  const watchBy = (transport: 'sse' | 'long-poll' | 'poll'): ProxyWatch | undefined =>
    proxies?.watch(request, request.namespace, transport);
  if (accept.includes('text/event-stream')) return serveEvents(request, reply, source, render, limits, watchBy('sse'));
  const indexText = first(query.index);
  if (indexText === undefined) {
    const state = await source.current();
    const seen = watchBy('poll');
    seen?.sent(state.revision);
    seen?.end();
    return reply.header(INDEX_HEADER, String(state.revision)).send(render(state.value));
  }
  if (!/^\d+$/.test(indexText)) return badParam(reply, 'index', 'must be a non-negative integer revision');
  const waitText = first(query.wait);
  let wait = limits.defaultWaitMs ?? 30_000;
  if (waitText !== undefined) {
    const parsed = parseWait(waitText);
    if (parsed === undefined) return badParam(reply, 'wait', 'must be a duration such as 30s, 1m or 500ms');
    wait = parsed;
  }
  wait = Math.min(wait, limits.maxWaitMs ?? 300_000);
  const seen = watchBy('long-poll');
  const state = await longPoll(source, Number(indexText), wait, request);
  seen?.sent(state.revision);
  seen?.end();
  return reply.header(INDEX_HEADER, String(state.revision)).send(render(state.value));
}

/** Resolves with the first state past `index`, or the current one after `waitMs` (or when the client leaves). */
function longPoll<T>(
  source: Watchable<T>,
  index: number,
  waitMs: number,
  request: FastifyRequest,
): Promise<Versioned<T>> {
  return new Promise((resolve, reject) => {
    let latest: Versioned<T> | undefined;
    let done = false;
    let unsubscribe: (() => void) | undefined;
    const finish = (state: Versioned<T> | undefined, error?: unknown): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      unsubscribe?.();
      request.raw.off('close', onClose);
      if (state !== undefined) resolve(state);
      else if (error !== undefined) reject(error);
      else source.current().then(resolve, reject);
    };
    const onClose = (): void => finish(latest);
    const timer = setTimeout(() => finish(latest), waitMs);
    // The subscription's first state may already be past the index (delivered synchronously).
    let firstState = true;
    const stop = source.subscribe(
      (state) => {
        latest = state;
        // A first state *below* the index means the client's index comes from another history
        // (a memory store restarted, a replica that lost its data): waiting for the revision to
        // climb past it would keep the client on stale state, so it gets the current one at once.
        const fromAnotherHistory = firstState && state.revision < index;
        firstState = false;
        if (state.revision > index || fromAnotherHistory) finish(state);
      },
      (reason) => finish(latest, reason),
    );
    if (done) stop();
    else {
      unsubscribe = stop;
      request.raw.once('close', onClose);
    }
  });
}

/** Renderers whose frames one state keeps, at most: a cache, not a second copy of every stream. */
const FRAMES_PER_STATE = 16;

/**
 * SSE frames by state and renderer. A source hands the same state object to all its watchers,
 * and watchers of the same read share their renderer, so a change fanned out to a thousand
 * streams is rendered and serialised once rather than a thousand times (measured: most of the
 * fan-out's cost). Entries go with their state (a WeakMap key).
 */
const frames = new WeakMap<object, Map<unknown, Buffer>>();

function frameOf<T>(state: Versioned<T>, render: (value: T) => unknown): Buffer {
  let byRender = frames.get(state);
  if (byRender === undefined) {
    byRender = new Map();
    frames.set(state, byRender);
  }
  let frame = byRender.get(render);
  if (frame === undefined) {
    // Bytes, not a string: each stream would otherwise encode the same text again.
    frame = Buffer.from(`id: ${state.revision}\nevent: snapshot\ndata: ${JSON.stringify(render(state.value))}\n\n`);
    if (byRender.size < FRAMES_PER_STATE) byRender.set(render, frame);
  }
  return frame;
}

/** Streams states as Server-Sent Events until the client leaves or the source ends. */
async function serveEvents<T>(
  request: FastifyRequest,
  reply: FastifyReply,
  source: Watchable<T>,
  render: (value: T) => unknown,
  limits: WatchLimits,
  seen: ProxyWatch | undefined,
): Promise<FastifyReply> {
  const lastId = request.headers['last-event-id'];
  const last = typeof lastId === 'string' && /^\d+$/.test(lastId) ? Number(lastId) : -1;
  const res = reply.raw;
  // The stream is written on the raw response: fastify's own serialisation ends after one body.
  reply.hijack();
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    // nginx and friends buffer responses unless told not to.
    'x-accel-buffering': 'no',
  });
  res.write('retry: 1000\n\n');
  // The client holds what it resumes from: a stream that has nothing newer to send is up to date.
  if (last >= 0) seen?.sent(last);
  let sent = last;
  let firstState = true;
  const send = (state: Versioned<T>): void => {
    // As in longPoll: a Last-Event-ID above the source's first state comes from another history
    // (a restarted memory store…); send the current state rather than wait for it to catch up.
    const fromAnotherHistory = firstState && state.revision < last;
    firstState = false;
    if ((state.revision <= sent && !fromAnotherHistory) || res.writableEnded) return;
    sent = state.revision;
    res.write(frameOf(state, render));
    seen?.sent(state.revision);
  };
  const heartbeat = setInterval(() => res.write(': ping\n\n'), limits.heartbeatMs ?? 15_000);
  heartbeat.unref();
  let ended = false;
  let unsubscribe: (() => void) | undefined;
  const end = (): void => {
    if (ended) return;
    ended = true;
    clearInterval(heartbeat);
    unsubscribe?.();
    seen?.end();
    if (!res.writableEnded) res.end();
  };
  const stop = source.subscribe(send, () => end());
  if (ended) stop();
  else {
    unsubscribe = stop;
    request.raw.once('close', end);
  }
  return reply;
}
