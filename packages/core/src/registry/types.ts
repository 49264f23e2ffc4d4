import type { InstanceStatus, RegistrationInput, ServiceInstance } from '../model/index.js';

/** The namespace used when none is given. Amalgam8's single-tenant mode used one namespace too. */
export const DEFAULT_NAMESPACE = 'default';

/** Options that select a namespace (tenant). */
export interface NamespaceOption {
  /** Tenant to act in; defaults to {@link DEFAULT_NAMESPACE}. */
  namespace?: string;
}

/** A query over one namespace. Every given criterion must hold. */
export interface InstanceQuery extends NamespaceOption {
  /** Only instances of this service. */
  service?: string;
  /** Only instances carrying all of these tags. */
  tags?: readonly string[];
  /**
   * Only instances in these statuses. Defaults to `['UP']`, as Amalgam8 hid STARTING and
   * OUT_OF_SERVICE unless asked; pass `'ALL'` for every status.
   */
  status?: readonly InstanceStatus[] | 'ALL';
}

/** Handle returned by every watch; unsubscribing frees everything the watch held. */
export interface Subscription extends Disposable {
  unsubscribe(): void;
}

/**
 * A versioned, immutable view of a namespace (or one service in it) at `revision`.
 * Revisions grow monotonically per namespace; a snapshot with a higher revision supersedes
 * every earlier one, so a subscriber that only sees the latest loses nothing.
 */
export interface RegistrySnapshot {
  readonly namespace: string;
  /** Set for per-service watches; undefined for catalogue-wide ones. */
  readonly service: string | undefined;
  readonly revision: number;
  /** All instances in scope, every status, in a stable order (service, then id). */
  readonly instances: readonly ServiceInstance[];
}

/** Receives snapshots. A returned promise holds back the next delivery to this listener only. */
export type SnapshotListener = (snapshot: RegistrySnapshot) => void | Promise<void>;

/** What to watch: a namespace, optionally narrowed to one service. */
export interface WatchOptions extends NamespaceOption {
  /** Only this service; the whole namespace (catalogue-wide) when absent. */
  service?: string;
  /** Ends the watch when aborted, as `unsubscribe()` would (and then calls {@link WatchOptions.onEnd}). */
  signal?: AbortSignal;
  /**
   * Called once when the watch ends for any reason but `unsubscribe()`: the registry was closed
   * (a `WEFT_ERR_CLOSED` error) or `signal` aborted (its reason). Without it a consumer (an async
   * iterator, a server-sent-events stream, a discovery source) could not tell "no changes yet"
   * from "no changes ever again".
   */
  onEnd?: (reason: unknown) => void;
  /**
   * Called on each failed attempt to reach the store behind a watch (a connection lost, a server
   * restarting) — the watch does not end: it retries by itself, with backoff, until it works
   * again. From the first call until {@link WatchOptions.onRecover} the last snapshot delivered
   * is the latest known state, but *stale*: a consumer marks it so (Discovery's `registrySource`
   * the way a source's `observer.error()` does). Without it a consumer could not tell "no changes"
   * from "cannot see changes". Registries that keep their state in process (`MemoryRegistry`)
   * never call it.
   */
  onError?: (error: Error) => void;
  /**
   * Called once when a watch that had reported {@link WatchOptions.onError} works again: the
   * snapshots are live once more (the next one, if the state changed meanwhile, is already on
   * its way). Never called without an `onError` before it.
   */
  onRecover?: () => void;
}

/** The read side of a registry. */
export interface RegistryReader {
  /** Names of services with at least one instance (any status), sorted. */
  services(options?: NamespaceOption): Promise<string[]>;
  /** Instances matching the query, in a stable order. */
  instances(query?: InstanceQuery): Promise<ServiceInstance[]>;
  /**
   * Delivers the current snapshot, then a new one after every change. Deliveries to one
   * listener never overlap and are coalesced: a slow listener skips intermediate states but
   * always ends with the latest. Throws `WEFT_ERR_CLOSED` when the registry is closed.
   */
  watch(options: WatchOptions, listener: SnapshotListener): Subscription;
}

/** The write side of a registry. */
export interface RegistryWriter {
  /** Registers (or, with the same service/type/value, overwrites) an instance. */
  register(registration: RegistrationInput, options?: NamespaceOption): Promise<ServiceInstance>;
  /** Renews an instance's TTL. Rejects with `WEFT_ERR_UNKNOWN_INSTANCE` when unknown or expired. */
  renew(id: string, options?: NamespaceOption): Promise<ServiceInstance>;
  /** Removes an instance. Rejects with `WEFT_ERR_UNKNOWN_INSTANCE` when unknown. */
  deregister(id: string, options?: NamespaceOption): Promise<ServiceInstance>;
  /** Changes an instance's status. `OUT_OF_SERVICE` instances never expire. */
  setStatus(id: string, status: InstanceStatus, options?: NamespaceOption): Promise<ServiceInstance>;
}

/** A full registry: what the in-memory registry, the etcd/Consul stores and the registry client implement. */
export interface Registry extends RegistryReader, RegistryWriter {
  /** Stops timers and ends every watch. */
  close(): Promise<void>;
  /**
   * Resolves once every change made so far is durable; rejects when it could not be made so.
   * Only stores that persist in the background implement it (the in-memory registry with a
   * snapshot file); stores whose writes are durable when they resolve (etcd, Consul) need not.
   * A server calls it before acknowledging a write, so what it acknowledged survives a crash.
   */
  flush?(): Promise<void>;
}
