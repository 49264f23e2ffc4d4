import { SseParser } from '../logic/sse-parser.js';
import { session } from './session.js';
import type { ErrorBody } from './types.js';

/** A refused request: its status and the servers' error body (`{error, code, issues?}`). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody,
  ) {
    super(body.error);
    this.name = 'ApiError';
  }
}

/** Listeners told when the control plane asks for credentials (401): the token dialog opens. */
const unauthorizedListeners = new Set<() => void>();
export function onUnauthorized(listener: () => void): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}
function unauthorized(): void {
  for (const listener of unauthorizedListeners) listener();
}

async function errorOf(response: Response): Promise<ApiError> {
  let body: ErrorBody;
  try {
    const parsed = (await response.json()) as Partial<ErrorBody>;
    body = { ...parsed, error: typeof parsed.error === 'string' ? parsed.error : response.statusText };
  } catch {
    body = { error: `${response.status} ${response.statusText}` };
  }
  return new ApiError(response.status, body);
}

/** Sends a request with the session's credentials; resolves with the JSON answer, rejects with {@link ApiError}. */
export async function api<T>(
  method: string,
  path: string,
  body?: unknown,
  headers: Readonly<Record<string, string>> = {},
): Promise<T> {
  const response = await fetch(path, {
    method,
    headers: {
      ...session.headers(),
      ...headers,
      accept: 'application/json',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (response.status === 401) unauthorized();
  if (!response.ok) throw await errorOf(response);
  return (await response.json()) as T;
}

/** Where a watch stands. */
export type WatchStatus =
  | { readonly kind: 'connecting' }
  | { readonly kind: 'live' }
  | { readonly kind: 'unavailable' }
  | { readonly kind: 'unauthorized' }
  | { readonly kind: 'error'; readonly message: string };

/**
 * Follows a watchable read as Server-Sent Events (`Accept: text/event-stream`) for as long as
 * `signal` is not aborted: every `snapshot` event's body goes to `onState`. A dropped stream is
 * resumed with `Last-Event-ID` after the server's `retry` (or growing back-off on errors). 404
 * means the server has no such endpoint: the watch stops as `unavailable`. 401 waits for new
 * credentials.
 */
export async function watch<T>(
  path: string,
  onState: (value: T, revision: number) => void,
  onStatus: (status: WatchStatus) => void,
  signal: AbortSignal,
): Promise<void> {
  let lastId: string | undefined;
  let failures = 0;
  while (!signal.aborted) {
    let retryMs = 1000;
    try {
      const response = await fetch(path, {
        headers: {
          ...session.headers(),
          accept: 'text/event-stream',
          ...(lastId === undefined ? {} : { 'last-event-id': lastId }),
        },
        signal,
        cache: 'no-store',
      });
      if (response.status === 404) {
        onStatus({ kind: 'unavailable' });
        return;
      }
      if (response.status === 401) {
        onStatus({ kind: 'unauthorized' });
        unauthorized();
        await credentialsChange(signal);
        continue;
      }
      if (!response.ok || response.body === null) throw await errorOf(response);
      const parser = new SseParser();
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        for (const event of parser.push(value)) {
          if (event.event !== 'snapshot') continue;
          lastId = event.id ?? lastId;
          failures = 0;
          onStatus({ kind: 'live' });
          onState(JSON.parse(event.data) as T, Number(event.id ?? Number.NaN));
        }
      }
      retryMs = parser.retryMs ?? retryMs;
    } catch (err) {
      if (signal.aborted) return;
      failures += 1;
      retryMs = Math.min(30_000, 1000 * 2 ** Math.min(failures, 5));
      onStatus({ kind: 'error', message: err instanceof Error ? err.message : String(err) });
    }
    await sleep(retryMs, signal);
    if (!signal.aborted) onStatus({ kind: 'connecting' });
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}

/** Resolves when the token or namespace changes (or the watch ends). */
function credentialsChange(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const stop = session.subscribe(() => {
      stop();
      resolve();
    });
    signal.addEventListener(
      'abort',
      () => {
        stop();
        resolve();
      },
      { once: true },
    );
  });
}
