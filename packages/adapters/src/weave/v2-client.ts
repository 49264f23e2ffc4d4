/**
 * The little of etcd's v2 keys API that Weave Flux used: a recursive get and a recursive wait,
 * over plain HTTP with the global `fetch`.
 */
import { type Clock, systemClock } from '@weft/core';
import { clockTimeout } from '../internal/clock.js';

/** A node of the v2 keys API. */
export interface V2Node {
  readonly key: string;
  readonly dir?: boolean;
  readonly value?: string;
  readonly nodes?: readonly V2Node[];
  readonly modifiedIndex: number;
  readonly createdIndex: number;
  readonly ttl?: number;
  readonly expiration?: string;
}

/** One change, as a v2 watch returns it. */
export interface V2Event {
  /** `set`, `create`, `update`, `compareAndSwap`, `delete`, `compareAndDelete`, `expire`. */
  readonly action: string;
  readonly node: V2Node;
  readonly prevNode?: V2Node;
}

/** What one long poll ended with. */
export type WaitResult =
  | { readonly kind: 'event'; readonly event: V2Event }
  /** etcd error 401: the requested index is older than the history it keeps (1 000 events). */
  | { readonly kind: 'cleared'; readonly index: number }
  /** Nothing happened before the poll's own timeout; `index` is the store index when the wait began. */
  | { readonly kind: 'idle'; readonly index: number | undefined };

/** An error answer of the v2 API (`errorCode` is etcd's). */
export class V2Error extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: number | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'V2Error';
  }
}

/** Options of the etcd v2 keys-API client the Weave Flux source reads with. */
export interface V2ClientOptions {
  /** Client URLs of the etcd members, e.g. `http://127.0.0.1:2379`; tried in turn when one fails. */
  endpoints: readonly string[];
  /** Basic auth for etcd's v2 auth. */
  auth?: { username: string; password: string };
  /** Deadline of plain requests, in ms. */
  requestTimeoutMs: number;
  /** Clock of the deadlines and poll timeouts; the system clock by default. */
  clock?: Clock;
}

const EVENT_INDEX_CLEARED = 401;
const KEY_NOT_FOUND = 100;

/** A minimal etcd v2 keys client. */
export class V2Client {
  private current = 0;
  private readonly headers: Record<string, string>;
  private readonly clock: Clock;

  constructor(private readonly options: V2ClientOptions) {
    this.clock = options.clock ?? systemClock;
    this.headers = { accept: 'application/json' };
    if (options.auth !== undefined)
      this.headers.authorization = `Basic ${Buffer.from(`${options.auth.username}:${options.auth.password}`).toString('base64')}`;
  }

  /** The member requests go to now. */
  get endpoint(): string {
    return this.options.endpoints[this.current] as string;
  }

  /** Moves on to the next member (after a failure). */
  rotate(): void {
    this.current = (this.current + 1) % this.options.endpoints.length;
  }

  /** Every leaf under `dir` and the store index of the read. A missing `dir` is an empty one. */
  async list(dir: string, signal: AbortSignal): Promise<{ leaves: V2Node[]; index: number }> {
    const res = await fetch(`${this.endpoint}/v2/keys${encodePath(dir)}?recursive=true&quorum=true`, {
      headers: this.headers,
      signal: AbortSignal.any([signal, clockTimeout(this.clock, this.options.requestTimeoutMs, 'a list')]),
    });
    const body = await res.text();
    const headerIndex = indexOf(res.headers);
    if (res.status === 404) {
      const err = parseError(res.status, body);
      if (err.errorCode === KEY_NOT_FOUND) return { leaves: [], index: headerIndex ?? err.index ?? 0 };
      throw err.error;
    }
    if (res.status !== 200) throw parseError(res.status, body).error;
    const parsed = JSON.parse(body) as { node?: V2Node };
    const leaves: V2Node[] = [];
    if (parsed.node !== undefined) flatten(parsed.node, leaves);
    return { leaves, index: headerIndex ?? 0 };
  }

  /**
   * Waits for the next change under `dir` at or after `waitIndex`, for at most `pollMs`. A change
   * already in etcd's history comes back at once.
   */
  async wait(dir: string, waitIndex: number, pollMs: number, signal: AbortSignal): Promise<WaitResult> {
    const poll = clockTimeout(this.clock, pollMs, 'a watch');
    let res: Response;
    try {
      res = await fetch(`${this.endpoint}/v2/keys${encodePath(dir)}?wait=true&recursive=true&waitIndex=${waitIndex}`, {
        headers: this.headers,
        signal: AbortSignal.any([signal, poll]),
      });
    } catch (err) {
      // No headers within the poll time: the server is not answering at all (or a hung connection).
      if (poll.aborted && !signal.aborted) throw new Error(`no answer to a watch within ${pollMs} ms`, { cause: err });
      throw err;
    }
    // The wait is registered once headers arrive; X-Etcd-Index is the store index at that moment.
    const index = indexOf(res.headers);
    let body: string;
    try {
      body = await res.text();
    } catch (err) {
      if (poll.aborted && !signal.aborted && res.status === 200) return { kind: 'idle', index };
      throw err;
    }
    if (res.status === 200) {
      if (body.trim() === '') return { kind: 'idle', index }; // the server ended the wait without an event
      return { kind: 'event', event: JSON.parse(body) as V2Event };
    }
    const err = parseError(res.status, body);
    if (err.errorCode === EVENT_INDEX_CLEARED) return { kind: 'cleared', index: err.index ?? index ?? 0 };
    throw err.error;
  }

  /** Whether the member answers at all (`GET /version`), within `timeoutMs`. */
  async ping(timeoutMs: number, signal: AbortSignal): Promise<void> {
    const res = await fetch(`${this.endpoint}/version`, {
      headers: this.headers,
      signal: AbortSignal.any([signal, clockTimeout(this.clock, timeoutMs, 'GET /version')]),
    });
    await res.arrayBuffer();
    if (res.status !== 200) throw new V2Error(res.status, undefined, `GET /version answered HTTP ${res.status}`);
  }
}

function encodePath(dir: string): string {
  return dir
    .split('/')
    .map((p) => encodeURIComponent(p))
    .join('/');
}

function indexOf(headers: Headers): number | undefined {
  const v = headers.get('x-etcd-index');
  const n = v === null ? Number.NaN : Number(v);
  return Number.isFinite(n) ? n : undefined;
}

function parseError(status: number, body: string): { error: V2Error; errorCode?: number; index?: number } {
  try {
    const e = JSON.parse(body) as { errorCode?: number; message?: string; cause?: string; index?: number };
    const message = `etcd v2 answered HTTP ${status}: ${e.message ?? 'error'}${e.cause ? ` (${e.cause})` : ''}`;
    return {
      error: new V2Error(status, e.errorCode, message),
      ...(e.errorCode === undefined ? {} : { errorCode: e.errorCode }),
      ...(e.index === undefined ? {} : { index: e.index }),
    };
  } catch {
    return { error: new V2Error(status, undefined, `etcd v2 answered HTTP ${status}: ${body.slice(0, 200)}`) };
  }
}

function flatten(node: V2Node, out: V2Node[]): void {
  if (node.dir === true) {
    for (const child of node.nodes ?? []) flatten(child, out);
  } else out.push(node);
}
