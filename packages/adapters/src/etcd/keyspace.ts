import { type AdapterLogger, processWarningLogger } from '../internal/log.js';
import { EtcdClientHolder, type EtcdConnectionOptions, grpcDeadline } from './client.js';
import { PrefixWatch, timingOf, type WatchTiming } from './prefix-watch.js';

/** Options of {@link EtcdKeyspace}. */
export interface EtcdKeyspaceOptions extends EtcdConnectionOptions, WatchTiming {
  /** Where coded warnings of its watches go (relists, restarts). Default: process warnings. */
  logger?: AdapterLogger;
}

/** A key's value and the etcd revision of its last change. */
export interface EtcdKeyValue {
  readonly value: Buffer;
  readonly modRevision: number;
}

/** What {@link EtcdKeyspace.compareAndPut} did. */
export interface EtcdCompareAndPutResult {
  /** True when the key was at the expected revision and now holds the value. */
  readonly succeeded: boolean;
  /** The etcd revision after the transaction (the key's new mod-revision when it succeeded). */
  readonly revision: number;
  /** When it failed: the key as it is now (undefined when absent). */
  readonly current: EtcdKeyValue | undefined;
}

/** A running {@link EtcdKeyspace.watchPrefix}. */
export interface EtcdPrefixWatchHandle {
  stop(): void;
}

/**
 * Plain key-value access to etcd for Weft's servers (the etcd rules store): reads, one
 * compare-and-put transaction, and a prefix kept in memory by the same watch `EtcdRegistry` uses
 * (paged list at one revision, watch from the next, resume after a disconnect, relist after a
 * compaction, stall detection). One connection serves all of it. Its types never name `etcd3`,
 * which stays an optional peer loaded on first use.
 */
export class EtcdKeyspace {
  private readonly holder: EtcdClientHolder;
  private readonly logger: AdapterLogger;
  private readonly requestTimeoutMs: number;
  private readonly watches = new Set<PrefixWatch>();

  constructor(private readonly options: EtcdKeyspaceOptions = {}) {
    this.holder = new EtcdClientHolder(options);
    this.logger = options.logger ?? processWarningLogger;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
  }

  /** The key now (a linearizable read), or undefined when it does not exist. */
  async get(key: string, timeoutMs = this.requestTimeoutMs): Promise<EtcdKeyValue | undefined> {
    const client = await this.holder.get();
    const res = await client.kv.range({ key: Buffer.from(key) }, grpcDeadline(timeoutMs));
    const kv = res.kvs[0];
    return kv === undefined ? undefined : { value: kv.value, modRevision: Number(kv.mod_revision) };
  }

  /**
   * The key as it was at etcd revision `revision` (etcd's MVCC history), or undefined when it did
   * not exist then. Rejects when compaction removed that revision.
   */
  async getAt(key: string, revision: number, timeoutMs = this.requestTimeoutMs): Promise<EtcdKeyValue | undefined> {
    const client = await this.holder.get();
    const res = await client.kv.range({ key: Buffer.from(key), revision: String(revision) }, grpcDeadline(timeoutMs));
    const kv = res.kvs[0];
    return kv === undefined ? undefined : { value: kv.value, modRevision: Number(kv.mod_revision) };
  }

  /**
   * One transaction: puts `value` at `key` if the key's mod-revision is `expectedModRevision`
   * (0: the key must not exist); otherwise reads the key, so a retry needs no second round trip.
   */
  async compareAndPut(
    key: string,
    expectedModRevision: number,
    value: string | Buffer,
    timeoutMs = this.requestTimeoutMs,
  ): Promise<EtcdCompareAndPutResult> {
    const client = await this.holder.get();
    const k = Buffer.from(key);
    const res = await client.kv.txn(
      {
        // etcd compares a missing key's mod-revision as 0, so 0 means "does not exist yet".
        compare: [{ key: k, target: 'Mod', result: 'Equal', mod_revision: String(expectedModRevision) }],
        success: [{ request_put: { key: k, value: Buffer.from(value) } }],
        failure: [{ request_range: { key: k } }],
      },
      grpcDeadline(timeoutMs),
    );
    const revision = Number(res.header.revision);
    if (res.succeeded) return { succeeded: true, revision, current: undefined };
    const kv = res.responses[0]?.response_range?.kvs[0];
    return {
      succeeded: false,
      revision,
      current: kv === undefined ? undefined : { value: kv.value, modRevision: Number(kv.mod_revision) },
    };
  }

  /**
   * Keeps every key under `prefix` in memory and calls `onState` with all of them after the first
   * list and after each change (the map is live: copy what you keep). `onError` hears each
   * failure (the logger gets one `WEFT_WARN_WATCH_RESTART` per failure streak); the watch retries
   * with backoff until `stop()` (or `close()`), and calls `onState` again once it is live after
   * a failure.
   */
  watchPrefix(
    prefix: string,
    listener: {
      onState(state: ReadonlyMap<string, EtcdKeyValue>, revision: number): void;
      onError(error: Error): void;
    },
  ): EtcdPrefixWatchHandle {
    const watch = new PrefixWatch({
      ...timingOf(this.options),
      holder: this.holder,
      prefix,
      name: `etcd:${prefix}`,
      logger: this.logger,
      onState: (state, revision) => listener.onState(state, revision),
      onError: (error) => listener.onError(error),
    });
    this.watches.add(watch);
    watch.start();
    return {
      stop: () => {
        this.watches.delete(watch);
        watch.stop();
      },
    };
  }

  /** Stops every watch and closes the connection (unless the client was given). Idempotent. */
  async close(): Promise<void> {
    for (const w of this.watches) w.stop();
    this.watches.clear();
    await this.holder.close();
  }
}
