import type { EtcdKeyspace, EtcdKeyspaceOptions, EtcdKeyValue } from '@weft/adapters/etcd';
import { ClosedError, InvalidArgumentError } from '@weft/core';
import { DEFAULT_ETCD_PREFIX, describeEtcd } from '../etcd/config.js';
import { StoredRulesInvalidError, StoreUnavailableError, StoreWriteError } from './errors.js';
import { decodeNamespace, encodeNamespace, namespaceOfKey, rulesKey, rulesKeyPrefix } from './etcd-layout.js';
import { planWrite, type RulesChange } from './operations.js';
import { RulesStoreApi } from './store-api.js';
import { type NamespaceState, namespaceState, type RulesStoreOptions } from './store-base.js';
import type { NamespaceRules, RulesStore, StoredRule, WriteResult } from './types.js';

/** Options of {@link EtcdRulesStore.open}. */
export interface EtcdRulesStoreOptions extends RulesStoreOptions {
  /** etcd client URLs (`http://host:2379`). Default `http://127.0.0.1:2379`. */
  readonly hosts?: string | readonly string[] | undefined;
  /** More options of the etcd3 client (`credentials` for TLS, `auth`), as `EtcdConnectionOptions.clientOptions`. */
  readonly clientOptions?: object | undefined;
  /** Root of Weft's keys; the rules are under `<prefix>/rules/`. Default `/weft`. */
  readonly prefix?: string | undefined;
  /** Deadline of each etcd request (a write, the first list), ms. Default 5 000. */
  readonly requestTimeoutMs?: number | undefined;
  /**
   * Deadline of the fresh read a `get()` makes before it falls back to the last state the store
   * saw, ms. Default 1 000: a read must not hang on a partitioned cluster.
   */
  readonly readTimeoutMs?: number | undefined;
  /** How long `open()` waits for the first listing of the rules, ms. Default 10 000. */
  readonly startTimeoutMs?: number | undefined;
  /** Timing of the watch (progress probes, backoff), as the etcd adapters take it. */
  readonly watch?: Pick<EtcdKeyspaceOptions, 'backoff' | 'progressIntervalMs' | 'stallTimeoutMs'> | undefined;
  /** Where the watch's coded warnings go (relists, restarts). Default: process warnings. */
  readonly logger?: EtcdKeyspaceOptions['logger'];
  /** Told each time the connection state changes (for logs and metrics). */
  readonly onStateChange?: ((state: EtcdStoreState) => void) | undefined;
}

/** Whether the store reaches etcd now. */
export interface EtcdStoreState {
  /** `ready`: the watch is live. `unavailable`: etcd cannot be reached; reads serve the last state seen. */
  readonly status: 'ready' | 'unavailable' | 'closed';
  /** What failed, while unavailable. */
  readonly error?: string | undefined;
  /** When the status last changed (ms since the epoch). */
  readonly since: number;
}

/** A namespace as the store last saw it, with the etcd revision of that value (0: no key). */
interface Entry {
  readonly state: NamespaceState;
  readonly modRevision: number;
}

/** Retries of a write that keeps losing the compare to other replicas before it gives up. */
const MAX_ATTEMPTS = 64;

/**
 * A rules store on etcd, shared by every controller replica pointed at the same cluster and
 * prefix: the controller becomes stateless, and any replica serves any request.
 *
 * - **Writes** are one etcd transaction each: read the namespace's key, apply the change, and put
 *   the new value only if the key's mod-revision is still the one read (else re-read and apply
 *   again). Two replicas writing at once never lose an update, `ifRevision` is checked against
 *   what etcd holds, and the namespace's revision grows by exactly one per changing write. A
 *   replica's own writes to a namespace go one at a time (they would only contend otherwise).
 * - **Watches** are fed by one etcd watch of the whole prefix, so a write through replica A
 *   reaches watchers on replica B; the watch resumes after a lost connection from the revision
 *   it had reached, and lists again after a compaction. A replica's own writes are published at
 *   once, before their acknowledgement, as in the other stores.
 * - **Reads** (`get`, a watch's current state) read the namespace's key (linearizable), so a
 *   read through B sees an acknowledged write through A. When etcd cannot be reached they answer
 *   the last state the store saw, while writes fail with `StoreUnavailableError` (503) and
 *   `check()` reports the outage: nothing acknowledged is ever lost, since a write is
 *   acknowledged only once etcd committed it.
 *
 * Keys must be written by this store only (layout in `etcd-layout.ts`); a value that is not a
 * valid namespace is skipped with a warning (and makes writes to that namespace fail with 500
 * rather than overwrite it). Deleting a key by hand is not supported: revisions would start over.
 */
export class EtcdRulesStore extends RulesStoreApi implements RulesStore {
  /** The store, as messages name it: `etcd http://a:2379 /weft`. */
  readonly description: string;
  private readonly entries = new Map<string, Entry>();
  private readonly tails = new Map<string, Promise<unknown>>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private stopWatch: (() => void) | undefined;
  private current: EtcdStoreState = { status: 'unavailable', error: 'not listed yet', since: Date.now() };
  private readonly logger: NonNullable<EtcdRulesStoreOptions['logger']>;

  private constructor(
    private readonly keyspace: EtcdKeyspace,
    private readonly prefix: string,
    endpoints: readonly string[],
    private readonly options: EtcdRulesStoreOptions,
  ) {
    super(options);
    this.description = describeEtcd(endpoints, prefix);
    this.logger = options.logger ?? {
      warn: (w) => process.emitWarning(w.message, { type: 'WeftWarning', code: w.code }),
    };
  }

  /**
   * Connects, lists every namespace's rules and starts watching them.
   *
   * @throws StoreUnavailableError when etcd cannot be reached within `startTimeoutMs` — a replica
   *   never starts serving an empty rule set it did not read.
   * @throws InvalidArgumentError for a bad prefix.
   */
  static async open(options: EtcdRulesStoreOptions = {}): Promise<EtcdRulesStore> {
    const prefix = (options.prefix ?? DEFAULT_ETCD_PREFIX).replace(/\/+$/, '');
    if (!prefix.startsWith('/') || prefix.length < 2)
      throw new InvalidArgumentError('etcd rules store options', [
        { path: 'prefix', message: 'must start with / and name something (e.g. /weft)' },
      ]);
    const { EtcdKeyspace: Keyspace } = await import('@weft/adapters/etcd');
    const hosts = options.hosts ?? 'http://127.0.0.1:2379';
    const keyspace = new Keyspace({
      hosts,
      ...(options.clientOptions === undefined ? {} : { clientOptions: options.clientOptions }),
      requestTimeoutMs: options.requestTimeoutMs ?? 5_000,
      ...options.watch,
      ...(options.logger === undefined ? {} : { logger: options.logger }),
    });
    const store = new EtcdRulesStore(keyspace, prefix, typeof hosts === 'string' ? [hosts] : hosts, options);
    try {
      await store.start(options.startTimeoutMs ?? 10_000);
    } catch (err) {
      await store.close();
      throw err;
    }
    return store;
  }

  /** Whether the store reaches etcd now (`/health` and the logs report it). */
  get state(): EtcdStoreState {
    return this.current;
  }

  get(namespace: string): Promise<NamespaceRules> {
    if (this.closed) return Promise.reject(new ClosedError('rules store'));
    return this.readState(namespace).then((s) => s.value);
  }

  /**
   * The namespace's last `limit` revisions, newest first, read back through etcd's MVCC history
   * (each an older version of the namespace's key) — as far as compaction left them, and never an
   * undecodable one. For `GET /v1/rules/history`.
   */
  async revisions(namespace: string, limit: number): Promise<{ revision: number; rules: readonly StoredRule[] }[]> {
    const key = rulesKey(this.prefix, namespace);
    const out: { revision: number; rules: readonly StoredRule[] }[] = [];
    let kv = await this.etcd(() => this.keyspace.get(key));
    while (kv !== undefined && out.length < limit) {
      try {
        const decoded = decodeNamespace(key, namespace, kv.value);
        out.push({ revision: decoded.revision, rules: decoded.rules });
        kv = kv.modRevision > 1 ? await this.keyspace.getAt(key, kv.modRevision - 1) : undefined;
      } catch {
        // Compacted (or a version this store cannot read): the history ends here.
        break;
      }
    }
    return out;
  }

  /** Resolves while the watch is live and etcd answers a read; rejects with `StoreUnavailableError` otherwise. */
  async check(): Promise<void> {
    if (this.closed) throw new ClosedError('rules store');
    if (this.current.status !== 'ready')
      throw new StoreUnavailableError(this.description, new Error(this.current.error ?? 'not connected'));
    try {
      await this.keyspace.get(rulesKeyPrefix(this.prefix), this.readTimeoutMs());
    } catch (err) {
      throw new StoreUnavailableError(this.description, err);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Writes accepted before close still complete (and are acknowledged, or fail).
    await Promise.allSettled([...this.inFlight]);
    this.stopWatch?.();
    this.setState({ status: 'closed', since: Date.now() });
    this.watchers.endAll(new ClosedError('rules store'));
    await this.keyspace.close();
  }

  // ---------------------------------------------------------------- the watch

  private start(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let lastError: Error | undefined;
      let started = false;
      const timer = setTimeout(() => {
        if (started) return;
        started = true;
        reject(
          new StoreUnavailableError(
            this.description,
            new Error(
              `could not list the rules within ${timeoutMs} ms${lastError === undefined ? '' : ` (${lastError.message})`}`,
            ),
          ),
        );
      }, timeoutMs);
      const watch = this.keyspace.watchPrefix(rulesKeyPrefix(this.prefix), {
        onState: (kvs) => {
          this.absorbAll(kvs);
          this.setState({ status: 'ready', since: Date.now() });
          if (!started) {
            started = true;
            clearTimeout(timer);
            resolve();
          }
        },
        onError: (error) => {
          lastError = error;
          if (this.current.status !== 'unavailable' || this.current.error !== error.message)
            this.setState({ status: 'unavailable', error: error.message, since: Date.now() });
        },
      });
      this.stopWatch = () => watch.stop();
    });
  }

  private setState(state: EtcdStoreState): void {
    const changed = state.status !== this.current.status;
    this.current = Object.freeze(state);
    if (!changed) return;
    try {
      this.options.onStateChange?.(this.current);
    } catch (err) {
      this.reportListenerError(err);
    }
  }

  /** Takes the watch's state of the prefix: every namespace whose key changed since we saw it. */
  private absorbAll(kvs: ReadonlyMap<string, EtcdKeyValue>): void {
    for (const [key, kv] of kvs) {
      const namespace = namespaceOfKey(this.prefix, key);
      if (namespace === undefined) continue;
      if (kv.modRevision <= (this.entries.get(namespace)?.modRevision ?? 0)) continue;
      this.absorbValue(namespace, key, kv);
    }
  }

  private absorbValue(namespace: string, key: string, kv: EtcdKeyValue): void {
    let decoded: NamespaceRules;
    try {
      decoded = decodeNamespace(key, namespace, kv.value);
    } catch (err) {
      this.logger.warn({
        code: 'WEFT_WARN_ETCD_BAD_VALUE',
        message: `${this.description}: ${(err as Error).message}; the rules of namespace "${namespace}" stay as they were`,
        source: this.description,
        object: key,
        cause: err,
      });
      return;
    }
    this.absorb(
      namespace,
      namespaceState(namespace, decoded.revision, decoded.rules, decoded.authorization),
      kv.modRevision,
    );
  }

  /** Keeps a namespace's state if it is newer than the one we have, and tells the watchers. */
  private absorb(namespace: string, state: NamespaceState, modRevision: number): void {
    const known = this.entries.get(namespace);
    if (known !== undefined && modRevision <= known.modRevision) return;
    this.entries.set(namespace, { state, modRevision });
    if (!this.closed) this.watchers.publish(state);
  }

  protected lastState(namespace: string): NamespaceState {
    return this.entries.get(namespace)?.state ?? namespaceState(namespace, 0, []);
  }

  // ---------------------------------------------------------------- reads

  private readTimeoutMs(): number {
    return Math.min(this.options.readTimeoutMs ?? 1_000, this.options.requestTimeoutMs ?? 5_000);
  }

  /**
   * The namespace as etcd holds it now; the last state seen when etcd does not answer (or is
   * known to be away: then without waiting for a deadline).
   */
  protected async readState(namespace: string): Promise<NamespaceState> {
    if (this.current.status === 'ready') {
      try {
        const key = rulesKey(this.prefix, namespace);
        const kv = await this.keyspace.get(key, this.readTimeoutMs());
        if (kv !== undefined && kv.modRevision > (this.entries.get(namespace)?.modRevision ?? 0))
          this.absorbValue(namespace, key, kv);
      } catch {
        // The outage is the watch's to report (check(), /health); a read serves what we have.
      }
    }
    return this.lastState(namespace);
  }

  // ---------------------------------------------------------------- writes

  protected commitChange(namespace: string, change: RulesChange, ifRevision: number | undefined): Promise<WriteResult> {
    // One write per namespace at a time from this replica: they would only lose compares to each other.
    const previous = this.tails.get(namespace) ?? Promise.resolve();
    const run = previous.then(() => this.commit(namespace, change, ifRevision));
    const tail = run.catch(() => undefined);
    this.tails.set(namespace, tail);
    this.inFlight.add(tail);
    void tail.then(() => {
      this.inFlight.delete(tail);
      if (this.tails.get(namespace) === tail) this.tails.delete(namespace);
    });
    return run;
  }

  /** Read, apply, compare-and-put; again from what etcd answers while another replica wins the compare. */
  private async commit(namespace: string, change: RulesChange, ifRevision: number | undefined): Promise<WriteResult> {
    const key = rulesKey(this.prefix, namespace);
    let kv = await this.etcd(() => this.keyspace.get(key));
    for (let attempt = 1; ; attempt++) {
      const current = kv === undefined ? namespaceState(namespace, 0, []) : this.decodeForWrite(key, namespace, kv);
      const { result, rules, authorization } = planWrite(current.value, change, ifRevision);
      if (rules === undefined) return result;
      const value = encodeNamespace(namespace, result.revision, rules, authorization);
      const res = await this.etcd(() => this.keyspace.compareAndPut(key, kv?.modRevision ?? 0, value));
      if (res.succeeded) {
        this.absorb(namespace, namespaceState(namespace, result.revision, rules, authorization), res.revision);
        return result;
      }
      kv = res.current;
      if (attempt >= MAX_ATTEMPTS)
        throw new StoreWriteError(
          this.description,
          new Error(`namespace "${namespace}" kept changing under ${attempt} attempts; try again`),
        );
      // Several replicas contending: let the winner's successors spread out.
      if (attempt > 3) await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, attempt * 5)));
    }
  }

  /** The stored namespace a write starts from; a damaged value fails the write (500) rather than be overwritten. */
  private decodeForWrite(key: string, namespace: string, kv: EtcdKeyValue): NamespaceState {
    try {
      const decoded = decodeNamespace(key, namespace, kv.value);
      return namespaceState(namespace, decoded.revision, decoded.rules, decoded.authorization);
    } catch (err) {
      throw new StoredRulesInvalidError(namespace, err as Error);
    }
  }

  /** Runs an etcd call; a failure becomes `StoreUnavailableError` (503): the write was not acknowledged. */
  private async etcd<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      throw new StoreUnavailableError(this.description, err);
    }
  }
}
