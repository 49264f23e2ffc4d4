import {
  type BackoffOptions,
  type Clock,
  ClosedError,
  DEFAULT_NAMESPACE,
  InvalidArgumentError,
  type Source,
  type SourceObserver,
  type Subscription,
  systemClock,
} from '@weft/core';
import { BackoffState } from '../internal/backoff.js';
import { pause } from '../internal/clock.js';
import { type AdapterLogger, asError, processWarningLogger } from '../internal/log.js';
import { WatchHealth } from '../internal/watch-health.js';
import { FluxReader } from './layout.js';
import { V2Client, type V2Event, type V2Node } from './v2-client.js';

/** Options of {@link WeaveSource}. */
export interface WeaveSourceOptions {
  /** Client URLs of the etcd members holding Flux's data (v2 API enabled). Default `http://127.0.0.1:2379`. */
  endpoints?: string | readonly string[];
  /** Root of Flux's keys. Default `/weave-flux`. */
  root?: string;
  /** Weft namespace the instances are reported in. Default `default`. */
  namespace?: string;
  /** Name in logs and staleness reports. Default `weave`. */
  name?: string;
  /** Basic auth, when etcd's v2 auth is on. */
  auth?: { username: string; password: string };
  /**
   * Where coded warnings go (malformed values, relists, one `WEFT_WARN_WATCH_RESTART` per failure
   * streak) and debug events (`listed`, `watch-failed`, `watch-recovered`). Default: process warnings.
   */
  logger?: AdapterLogger;
  /** Reconnect backoff. Default: 100 ms doubling to 2 s, full jitter. */
  backoff?: BackoffOptions;
  /** Longest single long poll, in ms; a quiet one is simply issued again. Default 30 000. */
  pollTimeoutMs?: number;
  /** While a poll waits, check that the server answers (`GET /version`) this often. Default 5 000 ms. */
  probeIntervalMs?: number;
  /** Deadline of lists and probes, in ms. Default 5 000. */
  requestTimeoutMs?: number;
  /**
   * Time for every timer (backoff, probes, deadlines, poll timeouts) and timestamp (an
   * instance's `registeredAt`: when it was first seen); the system clock by default.
   */
  clock?: Clock;
}

/**
 * A read-only discovery {@link Source} over Weave Flux (flux-classic): its services and instances
 * in etcd's **v2** keys API (layout in `layout.ts` and the package README), read with a recursive
 * get and followed with recursive waits (`?wait=true&recursive=true&waitIndex=N`).
 *
 * An instance counts only while its session key exists; labels become `key=value` tags. After
 * any failed request the source lists again before waiting (etcd keeps v2 history in memory only,
 * so a restarted server cannot replay what happened before), and an `EventIndexCleared` answer
 * (history older than its 1 000 events) also means a relist. A server that stops answering is
 * noticed by a probe while the poll waits; every failure is reported to the observer (Discovery
 * marks the state stale), logged once per failure streak (`WEFT_WARN_WATCH_RESTART`, with the
 * cause) and retried with bounded backoff; the relist that ends the streak delivers the state
 * (clearing the stale mark) and logs a `watch-recovered` debug event. Malformed values are
 * skipped with a `WEFT_WARN_WEAVE_BAD_VALUE` warning.
 */
export class WeaveSource implements Source {
  readonly name: string;
  private readonly root: string;
  private readonly namespace: string;
  private readonly logger: AdapterLogger;
  private readonly endpoints: readonly string[];
  private readonly pollTimeoutMs: number;
  private readonly probeIntervalMs: number;
  private readonly requestTimeoutMs: number;
  private readonly clock: Clock;
  private readonly subscriptions = new Set<AbortController>();
  private closed = false;

  constructor(private readonly options: WeaveSourceOptions = {}) {
    const issues: { path: string; message: string }[] = [];
    const endpoints = options.endpoints ?? 'http://127.0.0.1:2379';
    this.endpoints = (typeof endpoints === 'string' ? [endpoints] : [...endpoints]).map((e) => e.replace(/\/+$/, ''));
    if (this.endpoints.length === 0 || this.endpoints.some((e) => !/^https?:\/\/./.test(e)))
      issues.push({ path: 'endpoints', message: 'must be one or more http(s):// URLs' });
    for (const k of ['pollTimeoutMs', 'probeIntervalMs', 'requestTimeoutMs'] as const) {
      const v = options[k];
      if (v !== undefined && !(typeof v === 'number' && v > 0))
        issues.push({ path: k, message: 'must be a number of milliseconds > 0' });
    }
    if (options.namespace !== undefined && (typeof options.namespace !== 'string' || options.namespace === ''))
      issues.push({ path: 'namespace', message: 'must be a non-empty string' });
    if (issues.length > 0) throw new InvalidArgumentError('WeaveSource options', issues);
    const root = (options.root ?? '/weave-flux').replace(/\/+$/, '');
    this.root = root.startsWith('/') ? root : `/${root}`;
    this.namespace = options.namespace ?? DEFAULT_NAMESPACE;
    this.name = options.name ?? 'weave';
    this.logger = options.logger ?? processWarningLogger;
    this.pollTimeoutMs = options.pollTimeoutMs ?? 30_000;
    this.probeIntervalMs = options.probeIntervalMs ?? 5_000;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 5_000;
    this.clock = options.clock ?? systemClock;
  }

  subscribe(observer: SourceObserver): Subscription {
    if (this.closed) throw new ClosedError(this.name);
    const stop = new AbortController();
    this.subscriptions.add(stop);
    void this.run(observer, stop.signal);
    const unsubscribe = (): void => {
      if (!this.subscriptions.delete(stop)) return;
      stop.abort();
    };
    return { unsubscribe, [Symbol.dispose]: unsubscribe };
  }

  /** Ends every subscription. */
  async close(): Promise<void> {
    this.closed = true;
    for (const s of this.subscriptions) s.abort();
    this.subscriptions.clear();
  }

  private async run(observer: SourceObserver, signal: AbortSignal): Promise<void> {
    const client = new V2Client({
      endpoints: this.endpoints,
      requestTimeoutMs: this.requestTimeoutMs,
      clock: this.clock,
      ...(this.options.auth === undefined ? {} : { auth: this.options.auth }),
    });
    const reader = new FluxReader(this.root, this.namespace, this.name, this.logger, this.clock);
    const health = new WatchHealth({
      source: this.name,
      object: this.root,
      logger: this.logger,
      clock: this.clock,
      onError: (error) => {
        if (!signal.aborted) observer.error(error);
      },
    });
    const leaves = new Map<string, { value: string; modifiedIndex: number }>();
    const backoff = new BackoffState({ baseMs: 100, maxMs: 2_000, jitter: 'full', ...this.options.backoff });
    let index = 0; // every change up to `index` is applied
    let needList = true;
    const emit = (): void => observer.next({ instances: Object.freeze(reader.read({ leaves })), revision: index });

    while (!signal.aborted) {
      try {
        if (needList) {
          const listed = await client.list(this.root, signal);
          leaves.clear();
          for (const n of listed.leaves) leaves.set(n.key, { value: n.value ?? '', modifiedIndex: n.modifiedIndex });
          index = listed.index;
          needList = false;
          backoff.reset();
          this.logger.debug?.(`${this.name}: listed ${this.root}`, { event: 'listed', index, keys: leaves.size });
          health.recovered();
          emit();
        }
        const result = await this.waitWithProbe(client, index + 1, signal);
        if (signal.aborted) return;
        if (result.kind === 'idle') {
          // Nothing under the root changed up to the index the wait began at: skip past it, so a
          // quiet root does not fall out of etcd's 1 000-event history while others write.
          if (result.index !== undefined && result.index > index) index = result.index;
          continue;
        }
        if (result.kind === 'cleared') {
          this.logger.warn({
            code: 'WEFT_WARN_WATCH_RELIST',
            message: `${this.name}: etcd no longer has the history from index ${index + 1} of ${this.root} (EventIndexCleared); listing again`,
            source: this.name,
            object: this.root,
          });
          needList = true;
          continue;
        }
        backoff.reset();
        if (apply(leaves, result.event)) emit();
        index = Math.max(index, result.event.node.modifiedIndex);
      } catch (err) {
        if (signal.aborted) return;
        // v2 history lives in the server's memory: after any failure, trust nothing but a fresh list.
        needList = true;
        const member = client.endpoint;
        client.rotate();
        health.failed(err, { what: `the watch of ${this.root} on ${member}` });
        await pause(this.clock, backoff.next(), signal);
      }
    }
  }

  /** One long poll, abandoned (as an error) when the server stops answering probes meanwhile. */
  private async waitWithProbe(
    client: V2Client,
    waitIndex: number,
    signal: AbortSignal,
  ): Promise<Awaited<ReturnType<V2Client['wait']>>> {
    const pollStop = new AbortController();
    const both = AbortSignal.any([signal, pollStop.signal]);
    let probeFailure: unknown;
    const prober = (async () => {
      while (!both.aborted) {
        await pause(this.clock, this.probeIntervalMs, both);
        if (both.aborted) return;
        try {
          await client.ping(this.requestTimeoutMs, both);
        } catch (err) {
          if (both.aborted) return;
          probeFailure = err;
          pollStop.abort();
          return;
        }
      }
    })();
    try {
      return await client.wait(this.root, waitIndex, this.pollTimeoutMs, both);
    } catch (err) {
      if (probeFailure !== undefined)
        throw new Error(`the server stopped answering while a watch waited: ${asError(probeFailure).message}`, {
          cause: probeFailure,
        });
      throw err;
    } finally {
      pollStop.abort();
      await prober;
    }
  }
}

/** Applies one v2 event to the leaf map; true when something under the root changed. */
function apply(leaves: Map<string, { value: string; modifiedIndex: number }>, event: V2Event): boolean {
  const node: V2Node = event.node;
  switch (event.action) {
    case 'set':
    case 'create':
    case 'update':
    case 'compareAndSwap':
      if (node.dir === true) return false; // a directory being made holds nothing yet
      leaves.set(node.key, { value: node.value ?? '', modifiedIndex: node.modifiedIndex });
      return true;
    case 'delete':
    case 'compareAndDelete':
    case 'expire': {
      if (node.dir === true) {
        const prefix = `${node.key}/`;
        let changed = false;
        for (const k of [...leaves.keys()])
          if (k.startsWith(prefix)) {
            leaves.delete(k);
            changed = true;
          }
        return changed;
      }
      return leaves.delete(node.key);
    }
    default:
      return false;
  }
}
