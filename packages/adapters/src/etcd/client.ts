import { InvalidArgumentError } from '@weft/core';
import type { Etcd3, IOptions } from 'etcd3';
import { loadEtcd3 } from './load.js';

/** How the adapters reach etcd. */
export interface EtcdConnectionOptions {
  /** etcd client URLs. Default `http://127.0.0.1:2379`. Ignored when `client` is given. */
  hosts?: string | readonly string[];
  /**
   * An `Etcd3` client of the `etcd3` package to use instead of creating one. You keep ownership:
   * the adapter never closes it, and cannot replace its channels when a connection hangs (it
   * relies on gRPC keep-alive).
   *
   * Typed `object` (its shape is checked when the adapter is created) so that this
   * package's published types never name `etcd3`: it is an optional peer, and a consumer without
   * it must still type-check with `skipLibCheck: false`.
   */
  client?: object;
  /**
   * More options for the client the adapter creates: etcd3's `IOptions` without `hosts` (`auth`,
   * `credentials`, `grpcOptions`, …). The adapter's gRPC defaults (keep-alive pings every 10 s,
   * reconnect backoff capped at 2 s) and its fault handling (no circuit breaker: the adapter has
   * its own backoff) can be overridden here. Typed `object` for the reason given at `client`;
   * write `{ … } satisfies Omit<IOptions, 'hosts'>` to have them checked.
   */
  clientOptions?: object;
}

type HostPolicy = ReturnType<NonNullable<NonNullable<IOptions['faultHandling']>['host']>>;

/**
 * A policy that just runs the call. etcd3's default per-host circuit breaker opens for 5 s after
 * three failures, which would hold back recovery after a server restart for those 5 s; the
 * adapters retry with their own bounded backoff instead.
 */
const passThrough = {
  execute: (fn: (context: { signal: AbortSignal }) => unknown, signal?: AbortSignal) =>
    Promise.resolve().then(() => fn({ signal: signal ?? new AbortController().signal })),
  onSuccess: () => ({ dispose() {} }),
  onFailure: () => ({ dispose() {} }),
} as unknown as HostPolicy;

/**
 * Holds the etcd3 client of one adapter object: created lazily (so importing the adapter never
 * loads etcd3), replaceable when a connection is found hung, closed with the adapter.
 */
export class EtcdClientHolder {
  private current: Promise<Etcd3> | undefined;
  private generation_ = 0;
  private closed = false;
  readonly owned: boolean;

  constructor(private readonly options: EtcdConnectionOptions) {
    this.owned = options.client === undefined;
    if (options.client !== undefined) this.current = given(options.client);
  }

  /** Increases each time the client is replaced; streams opened on an older one are stale. */
  get generation(): number {
    return this.generation_;
  }

  /** The client, created on first use. */
  get(): Promise<Etcd3> {
    if (this.closed) return Promise.reject(new Error('etcd client holder is closed'));
    this.current ??= this.create();
    return this.current;
  }

  /**
   * Drops the client of `generation` (when it is still the current one) so the next `get()`
   * dials new connections: a half-open TCP connection otherwise keeps every stream on it hung.
   * A client passed in by the user is never replaced.
   */
  reset(generation: number): void {
    if (!this.owned || this.closed || generation !== this.generation_ || this.current === undefined) return;
    const old = this.current;
    this.current = undefined;
    this.generation_++;
    void old.then((c) => c.close()).catch(() => {});
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const c = this.current;
    this.current = undefined;
    if (this.owned && c !== undefined) {
      try {
        (await c).close();
      } catch {
        // creation failed: nothing to close
      }
    }
  }

  private async create(): Promise<Etcd3> {
    const { Etcd3: Client } = await loadEtcd3();
    const extra: Omit<IOptions, 'hosts'> = this.options.clientOptions ?? {};
    const hosts = this.options.hosts ?? 'http://127.0.0.1:2379';
    return new Client({
      ...extra,
      hosts: typeof hosts === 'string' ? hosts : [...hosts],
      grpcOptions: {
        'grpc.keepalive_time_ms': 10_000,
        'grpc.keepalive_timeout_ms': 5_000,
        'grpc.initial_reconnect_backoff_ms': 100,
        'grpc.max_reconnect_backoff_ms': 2_000,
        ...extra.grpcOptions,
      },
      faultHandling: { host: () => passThrough, ...extra.faultHandling },
    });
  }
}

/**
 * The user's `client` option (typed `object`), checked by shape rather than `instanceof`, which
 * a second copy of etcd3 in node_modules would fail.
 */
function given(client: object): Promise<Etcd3> {
  const methods = ['lease', 'watch', 'get', 'close'] as const;
  if (methods.some((m) => typeof (client as Record<string, unknown>)[m] !== 'function'))
    throw new InvalidArgumentError('etcd connection options', [
      { path: 'client', message: 'must be an Etcd3 client of the etcd3 package' },
    ]);
  return Promise.resolve(client as Etcd3);
}

/**
 * The gRPC deadline of a request `ms` from now. On the wall clock, never on an adapter's `clock`
 * option: gRPC compares it with real time, and a virtual clock's "now" would make every request
 * expire at once (or never).
 */
export function grpcDeadline(ms: number): { deadline: number } {
  return { deadline: Date.now() + ms };
}
