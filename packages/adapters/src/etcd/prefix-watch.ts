import { type BackoffOptions, type Clock, isWeftError, systemClock } from '@weft/core';
import type { Etcd3, IWatchResponse } from 'etcd3';
import { BackoffState } from '../internal/backoff.js';
import { pause } from '../internal/clock.js';
import { type AdapterLogger, asError, describeError } from '../internal/log.js';
import { definedOnly } from '../internal/options.js';
import { WatchHealth } from '../internal/watch-health.js';
import { type EtcdClientHolder, grpcDeadline } from './client.js';
import { prefixRangeEnd } from './keys.js';

/** One key as the watch holds it. */
export interface KvState {
  readonly value: Buffer;
  readonly modRevision: number;
  /** Lease id (`'0'` when the key has none). */
  readonly lease: string;
}

/** Timing of a watch; every field has a default. */
export interface WatchTiming {
  /** Reconnect backoff. Default: 100 ms doubling to 2 s, full jitter. */
  backoff?: BackoffOptions;
  /** After this long without any message on the watch stream, ask the server for progress. Default 5 000 ms. */
  progressIntervalMs?: number;
  /** Restart the watch (on new connections) when that request is not answered within this. Default 5 000 ms. */
  stallTimeoutMs?: number;
  /** Deadline of each list (range) request. Default 10 000 ms. */
  requestTimeoutMs?: number;
  /**
   * Time for timestamps (`registeredAt`, `lastHeartbeat`), keep-alive and lease checks, stall
   * detection and backoff; the system clock by default, core's `VirtualClock` in tests. (gRPC
   * deadlines stay on real time: the network measures them.)
   */
  clock?: Clock;
}

/** The fields of {@link WatchTiming}. */
const TIMING_KEYS = ['backoff', 'progressIntervalMs', 'stallTimeoutMs', 'requestTimeoutMs', 'clock'] as const;

/** The timing settings given in `options` (and only those), to pass on to a {@link PrefixWatch}. */
export function timingOf(options: WatchTiming): WatchTiming {
  return definedOnly(options, TIMING_KEYS);
}

export interface PrefixWatchOptions extends WatchTiming {
  holder: EtcdClientHolder;
  /** Watch every key starting with this. */
  prefix: string;
  /** Name for messages (`etcd:/weft/default`). */
  name: string;
  logger: AdapterLogger;
  /** The complete state after each change (the map is live: copy what you keep). */
  onState(state: ReadonlyMap<string, KvState>, revision: number): void;
  /** Each failure to reach the server (logged once per failure streak); the watch keeps retrying. */
  onError(error: Error): void;
  /** The watch works again after `onError` (its state, re-sent through `onState`, is live). */
  onRecover?(): void;
  /**
   * A failure that retrying cannot mend (the `etcd3` package is missing); the watch has stopped.
   * Default: `onError`.
   */
  onFatal?(error: Error): void;
}

class WatchStalled extends Error {}

const PAGE = 1000;

/**
 * A prefix of etcd's keyspace, kept in memory: a paged range read at one revision, then a watch
 * from the revision after it. After a disconnect the watch resumes from the last revision it
 * applied plus one, so nothing is missed and nothing applied twice; when the server answers that
 * the revision was compacted, the prefix is listed again. A stream that goes quiet is probed with
 * a progress request and restarted on fresh connections if the probe goes unanswered, so a
 * half-open connection cannot stall it silently. It never gives up: failures are reported with
 * `onError` (and a `WEFT_WARN_WATCH_RESTART` warning per failure streak, see {@link WatchHealth}),
 * retried with bounded backoff until `stop()`, and the recovery re-sends the state and calls
 * `onRecover`.
 */
export class PrefixWatch {
  private readonly kvs = new Map<string, KvState>();
  /** Every event up to this revision is applied. */
  private revision = 0;
  private needList = true;
  private readonly abort = new AbortController();
  private stopStream: (() => void) | undefined;
  private readonly progressIntervalMs: number;
  private readonly stallTimeoutMs: number;
  private readonly requestTimeoutMs: number;
  private readonly clock: Clock;
  private readonly health: WatchHealth;

  constructor(private readonly options: PrefixWatchOptions) {
    this.progressIntervalMs = options.progressIntervalMs ?? 5_000;
    this.stallTimeoutMs = options.stallTimeoutMs ?? 5_000;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.clock = options.clock ?? systemClock;
    this.health = new WatchHealth({
      source: options.name,
      object: options.prefix,
      logger: options.logger,
      clock: this.clock,
      onError: (error) => options.onError(error),
      ...(options.onRecover === undefined ? {} : { onRecover: () => options.onRecover?.() }),
    });
  }

  start(): void {
    void this.loop();
  }

  stop(): void {
    this.abort.abort();
    this.stopStream?.();
  }

  /** The revision the state is complete up to (0 before the first list). */
  get currentRevision(): number {
    return this.revision;
  }

  private get stopped(): boolean {
    return this.abort.signal.aborted;
  }

  private async loop(): Promise<void> {
    const backoff = new BackoffState({ baseMs: 100, maxMs: 2_000, jitter: 'full', ...this.options.backoff });
    while (!this.stopped) {
      let generation = this.options.holder.generation;
      try {
        const client = await this.options.holder.get();
        generation = this.options.holder.generation;
        if (this.needList) {
          await this.list(client);
          if (this.stopped) return;
          this.needList = false;
          backoff.reset();
          this.emit();
        }
        await this.watch(client, () => backoff.reset());
        // The watch ended without an error: the history it needed was compacted; list again.
      } catch (err) {
        if (this.stopped) return;
        if (isWeftError(err, 'WEFT_ERR_MISSING_PEER_DEPENDENCY')) {
          // Permanent: say it once, do not retry.
          try {
            (this.options.onFatal ?? this.options.onError)(err);
          } catch {
            // the consumer's business
          }
          return;
        }
        // A hung connection hangs every stream on it: dial new ones.
        if (err instanceof WatchStalled) this.options.holder.reset(generation);
        this.health.failed(err);
        await pause(this.clock, backoff.next(), this.abort.signal);
      }
    }
  }

  /** The state goes out; after a failure streak it is live again, which is said first. */
  private emit(): void {
    if (this.health.failing) this.health.recovered();
    this.options.onState(this.kvs, this.revision);
  }

  /** Reads the whole prefix at one revision, page by page, and replaces the state with it. */
  private async list(client: Etcd3): Promise<void> {
    const key = Buffer.from(this.options.prefix);
    const end = prefixRangeEnd(key);
    const fresh = new Map<string, KvState>();
    let revision: number | undefined;
    let from = key;
    for (;;) {
      const res = await client.kv.range(
        { key: from, range_end: end, limit: PAGE, ...(revision === undefined ? {} : { revision }) },
        grpcDeadline(this.requestTimeoutMs),
      );
      revision ??= Number(res.header.revision);
      for (const kv of res.kvs)
        fresh.set(kv.key.toString('utf8'), { value: kv.value, modRevision: Number(kv.mod_revision), lease: kv.lease });
      const last = res.kvs[res.kvs.length - 1];
      if (!res.more || last === undefined) break;
      from = Buffer.concat([last.key, Buffer.from([0])]);
    }
    this.kvs.clear();
    for (const [k, v] of fresh) this.kvs.set(k, v);
    this.revision = revision;
    this.options.logger.debug?.(`${this.options.name}: listed ${this.options.prefix}`, {
      event: 'listed',
      revision,
      keys: fresh.size,
    });
  }

  /**
   * One watch stream from `revision + 1`. Resolves when the server cancels it for compaction
   * (after marking the state for a relist); rejects on any failure.
   */
  private async watch(client: Etcd3, onCreated: () => void): Promise<void> {
    const stream = await client.watchClient.watch();
    const key = Buffer.from(this.options.prefix);
    return new Promise<void>((resolve, reject) => {
      let done = false;
      let lastMessage = this.clock.now();
      let probeSentAt: number | undefined;
      const finish = (err?: Error): void => {
        if (done) return;
        done = true;
        ticker.clear();
        this.stopStream = undefined;
        // end() first: etcd3 resets every channel to the host when a *writable* stream errors,
        // and cancelling our own stream must not do that to the other streams.
        try {
          stream.end();
          stream.cancel();
        } catch {
          // already closed
        }
        if (err === undefined) resolve();
        else reject(err);
      };
      this.stopStream = () => finish();
      const ticker = this.clock.setInterval(
        () => {
          const now = this.clock.now();
          if (probeSentAt !== undefined) {
            if (now - probeSentAt >= this.stallTimeoutMs)
              finish(
                new WatchStalled(
                  `no answer for ${this.stallTimeoutMs} ms to a progress request (a hung connection); reconnecting on fresh connections`,
                ),
              );
            return;
          }
          if (now - lastMessage >= this.progressIntervalMs) {
            probeSentAt = now;
            try {
              stream.write({ progress_request: {} });
            } catch (err) {
              finish(asError(err));
            }
          }
        },
        Math.max(20, Math.min(this.progressIntervalMs, this.stallTimeoutMs) / 4),
      );
      stream.on('error', (err) => finish(asError(err)));
      stream.on('end', () => finish(new Error('the watch stream ended')));
      stream.on('data', (res: IWatchResponse) => {
        if (done) return;
        lastMessage = this.clock.now();
        probeSentAt = undefined;
        if (res.canceled) {
          if (res.compact_revision !== undefined && res.compact_revision !== '0' && res.compact_revision !== '') {
            this.options.logger.warn({
              code: 'WEFT_WARN_WATCH_RELIST',
              message: `${this.options.name}: revision ${this.revision + 1} of ${this.options.prefix} was compacted (oldest kept: ${res.compact_revision}); listing again`,
              source: this.options.name,
              object: this.options.prefix,
            });
            this.needList = true;
            finish();
          } else finish(new Error(`the server cancelled the watch: ${res.cancel_reason || 'no reason given'}`));
          return;
        }
        if (res.created) {
          onCreated();
          this.options.logger.debug?.(`${this.options.name}: watching ${this.options.prefix}`, {
            event: 'watching',
            fromRevision: this.revision + 1,
          });
          // Reconnected after a failure: tell consumers the state is live again.
          if (this.health.failing) this.emit();
          return;
        }
        if (res.events.length > 0) this.apply(res);
      });
      if (this.stopped) return finish();
      try {
        stream.write({
          create_request: {
            key,
            range_end: prefixRangeEnd(key),
            start_revision: String(this.revision + 1),
            progress_notify: true,
          },
        });
      } catch (err) {
        finish(new Error(`could not start the watch: ${describeError(err)}`));
      }
    });
  }

  private apply(res: IWatchResponse): void {
    let newest = this.revision;
    let changed = false;
    for (const ev of res.events) {
      const rev = Number(ev.kv.mod_revision);
      if (rev <= this.revision) continue; // already applied (a replay after a reconnect)
      if (rev > newest) newest = rev;
      const k = ev.kv.key.toString('utf8');
      if (String(ev.type).toUpperCase() === 'DELETE') {
        if (this.kvs.delete(k)) changed = true;
      } else {
        this.kvs.set(k, { value: ev.kv.value, modRevision: rev, lease: ev.kv.lease });
        changed = true;
      }
    }
    this.revision = newest;
    if (changed || this.health.failing) this.emit();
  }
}
