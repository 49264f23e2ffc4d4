import { EventEmitter } from 'eventemitter3';
import type { Clock } from '../clock/index.js';
import type { Source } from '../discovery/source.js';
import { ClosedError, NamespaceCapacityError, parseOrThrow, UnknownInstanceError } from '../errors/index.js';
import {
  type InstanceStatus,
  InstanceStatusSchema,
  instanceId,
  type Registration,
  type RegistrationInput,
  RegistrationSchema,
  type ServiceInstance,
} from '../model/index.js';
import { ExpiryScheduler } from './expiry-scheduler.js';
import { type MemoryRegistryEvents, type MemoryRegistryOptions, resolveOptions } from './options.js';
import { checkId, matches, namespaceOf, resolveQuery, resolveWatchScope } from './query.js';
import { deepFreeze, InstanceRecord, visiblyDifferent } from './record.js';
import { NamespaceState, type ServiceRecord, ServiceScope } from './scope.js';
import {
  DebouncedSaver,
  encodeRegistryFile,
  type RegistryFile,
  readRegistryFile,
  readRegistryFileSync,
  savedRegistration,
  writeFileAtomic,
} from './snapshot-file.js';
import { watchSnapshots } from './snapshots.js';
import { registrySource } from './source.js';
import { effectiveTtlSeconds, type TtlPolicy } from './ttl.js';
import type {
  InstanceQuery,
  NamespaceOption,
  Registry,
  RegistrySnapshot,
  SnapshotListener,
  Subscription,
  WatchOptions,
} from './types.js';
import { type ListenerFailure, WatchHub, type WatchScope } from './watch-hub.js';

/** Sizes of a registry's internal structures, for metrics and leak checks. */
export interface MemoryRegistryStats {
  /** Namespaces with state (a record, or a watcher). */
  readonly namespaces: number;
  /** Per-service indexes (services with a record, or a watcher). */
  readonly services: number;
  /** Registered, unexpired instances across all namespaces. */
  readonly instances: number;
  /** Live watch subscriptions. */
  readonly watchers: number;
  /** Entries in the expiry queue. */
  readonly queued: number;
  /** Whether the expiry timer is armed. */
  readonly timerArmed: boolean;
}

/**
 * The embedded registry: Amalgam8's in-memory catalogue with its semantics (deterministic ids,
 * idempotent registration, TTLs clamped to a policy, `410` on renewal of an expired instance,
 * per-namespace capacity), plus push-based watches.
 *
 * Expiry runs on the injected clock with a single timer armed for the earliest deadline, over
 * an expiry queue that renewals never touch: a renewal is a map lookup, two field writes
 * and the frozen view it returns, which the registry does not retain (so it dies young).
 * Expired instances vanish at their deadline — from queries even if the timer is late, since
 * every operation first sweeps whatever is due.
 *
 * Revisions are per namespace. A namespace whose last instance and watcher are gone is freed,
 * and when it comes back its revisions continue above every revision the registry has issued to
 * a freed namespace, so a client that reconnects with an old revision never sees time go back.
 *
 * @example
 * ```ts
 * import { MemoryRegistry } from '@weft/core';
 *
 * const registry = new MemoryRegistry(); // TTL 30 s by default, clamped to [10 s, 10 min]
 * const me = await registry.register({
 *   service: 'reviews',
 *   endpoint: { type: 'http', host: '10.0.0.7', port: 9080 },
 *   tags: ['version=v2'],
 * });
 * const heartbeat = setInterval(() => registry.renew(me.id), 10_000);
 * // … on shutdown:
 * clearInterval(heartbeat);
 * await registry.deregister(me.id);
 * ```
 */
export class MemoryRegistry extends EventEmitter<MemoryRegistryEvents> implements Registry {
  private readonly clock: Clock;
  /** The TTL policy in force. */
  readonly ttlPolicy: TtlPolicy;
  private readonly capacityOf: (namespace: string) => number;
  private readonly namespaces = new Map<string, NamespaceState>();
  private readonly expiry: ExpiryScheduler<ServiceRecord>;
  /** Views of the instances the current drain expired, for the `expired` event. */
  private expired: ServiceInstance[] = [];
  private readonly hub: WatchHub;
  private revisionFloor = 0;
  private closed = false;
  private readonly snapshotFile: string | undefined;
  private readonly saver: DebouncedSaver | undefined;

  /**
   * @param options - validated up front: a bad option throws `WEFT_ERR_INVALID_ARGUMENT` naming
   *   it. With `snapshotFile`, the file is read here (synchronously) and its instances restored.
   */
  constructor(options: MemoryRegistryOptions = {}) {
    super();
    const o = resolveOptions(options);
    this.clock = o.clock;
    this.ttlPolicy = o.ttl;
    this.capacityOf = o.capacityOf;
    this.expiry = new ExpiryScheduler<ServiceRecord>(
      this.clock,
      (record) => this.expire(record),
      () => this.emitExpired(),
    );
    this.hub = new WatchHub(
      (failure) => this.reportListenerError(failure),
      (scope) => this.release(scope),
    );
    this.snapshotFile = o.snapshotFile;
    if (o.snapshotFile !== undefined) {
      const file = readRegistryFileSync(o.snapshotFile);
      if (file !== undefined) this.restore(file);
      const path = o.snapshotFile;
      this.saver = new DebouncedSaver(
        this.clock,
        o.snapshotDebounceMs,
        () => this.writeSnapshot(path),
        (error) => this.reportSnapshotError(error),
      );
    }
  }

  /**
   * Registers an instance, or overwrites the one with the same service, endpoint type and value
   * (its id). An overwrite keeps `registeredAt` — re-registering is how a restarted sidecar takes
   * its record back — and replaces everything else; when nothing visible changed it acts as a
   * renewal and wakes no watcher. Only new ids count against the namespace capacity.
   */
  async register(registration: RegistrationInput, options?: NamespaceOption): Promise<ServiceInstance> {
    this.assertOpen();
    const reg = parseOrThrow(RegistrationSchema, registration, 'registration');
    const namespace = namespaceOf(options);
    return this.upsert(namespace, reg, this.sweepIfDue(), undefined);
  }

  /** Inserts or overwrites a validated registration; `registeredAt` applies to new records only. */
  private upsert(namespace: string, reg: Registration, now: number, registeredAt: number | undefined): ServiceInstance {
    const id = instanceId(reg.service, reg.endpoint.type, reg.endpoint.value);
    const existing = this.namespaces.get(namespace)?.records.get(id);
    const view: ServiceInstance = Object.freeze({
      id,
      namespace,
      service: reg.service,
      endpoint: Object.freeze(reg.endpoint),
      tags: Object.freeze(reg.tags),
      metadata: deepFreeze(reg.metadata),
      status: reg.status,
      ttl: effectiveTtlSeconds(reg.ttl, this.ttlPolicy),
      registeredAt: existing?.current().registeredAt ?? registeredAt ?? now,
      lastHeartbeat: now,
    });
    if (existing !== undefined && existing.scope.name === view.service) {
      const changed = visiblyDifferent(existing.current(), view);
      existing.replace(view);
      this.expiry.schedule(existing);
      if (changed) this.changed(existing.scope, false);
      return view;
    }
    if (existing !== undefined) {
      // A 64-bit id collision between two services: the newcomer replaces the old record.
      this.removeRecord(existing);
    } else {
      const capacity = this.capacityOf(namespace);
      if ((this.namespaces.get(namespace)?.records.size ?? 0) >= capacity)
        throw new NamespaceCapacityError(namespace, capacity);
    }
    // Looked up again: removing the colliding record may have freed the namespace.
    const ns = this.namespace(namespace);
    const scope = ns.service(view.service, true);
    const record: ServiceRecord = new InstanceRecord(view, scope);
    ns.records.set(id, record);
    scope.records.set(id, record);
    this.changed(scope, true);
    this.expiry.schedule(record);
    return view;
  }

  /**
   * Renews an instance's TTL from now. Rejects with `WEFT_ERR_UNKNOWN_INSTANCE` (Amalgam8's 410)
   * when the id is unknown or expired, telling the client to register again.
   *
   * A renewal is not a visible change: it bumps no revision and wakes no watcher. The returned
   * view (and `instances()` from now on) carries the new `lastHeartbeat`; snapshots keep the
   * heartbeats they were built with, until the next visible change brings a new snapshot.
   */
  async renew(id: string, options?: NamespaceOption): Promise<ServiceInstance> {
    this.assertOpen();
    const namespace = namespaceOf(options);
    const now = this.sweepIfDue();
    const record = this.namespaces.get(namespace)?.records.get(id);
    if (record === undefined) throw this.unknown(id, namespace);
    return record.heartbeat(now);
  }

  /** Removes an instance. Rejects with `WEFT_ERR_UNKNOWN_INSTANCE` when unknown or expired. */
  async deregister(id: string, options?: NamespaceOption): Promise<ServiceInstance> {
    this.assertOpen();
    const namespace = namespaceOf(options);
    this.sweepIfDue();
    const record = this.namespaces.get(namespace)?.records.get(id);
    if (record === undefined) throw this.unknown(id, namespace);
    this.removeRecord(record);
    return record.current();
  }

  /**
   * Changes an instance's status. `OUT_OF_SERVICE` instances never expire; moving one back to
   * another status re-arms its TTL from now (and counts as its heartbeat). Setting the status
   * it already has changes nothing and wakes no watcher.
   */
  async setStatus(id: string, status: InstanceStatus, options?: NamespaceOption): Promise<ServiceInstance> {
    this.assertOpen();
    checkId(id);
    const next = parseOrThrow(InstanceStatusSchema, status, 'status');
    const namespace = namespaceOf(options);
    const now = this.sweepIfDue();
    const record = this.namespaces.get(namespace)?.records.get(id);
    if (record === undefined) throw this.unknown(id, namespace);
    if (record.status === next) return record.current();
    const view = record.setStatus(next, now);
    this.expiry.schedule(record);
    this.changed(record.scope, false);
    return view;
  }

  /** Names of services with at least one unexpired instance (any status), sorted. */
  async services(options?: NamespaceOption): Promise<string[]> {
    this.assertOpen();
    const namespace = namespaceOf(options);
    this.sweepIfDue();
    return [...(this.namespaces.get(namespace)?.serviceNames() ?? [])];
  }

  /**
   * Instances matching the query (default: `UP` only), sorted by service, then id. Every view
   * is frozen and carries its latest heartbeat.
   */
  async instances(query?: InstanceQuery): Promise<ServiceInstance[]> {
    this.assertOpen();
    const q = resolveQuery(query);
    this.sweepIfDue();
    const ns = this.namespaces.get(q.namespace);
    const out: ServiceInstance[] = [];
    if (ns === undefined) return out;
    const collect = (scope: ServiceScope | undefined): void => {
      if (scope === undefined) return;
      for (const r of scope.sortedRecords()) {
        const view = r.current();
        if (matches(view, q)) out.push(view);
      }
    };
    if (q.service !== undefined) collect(ns.services.get(q.service));
    else for (const name of ns.serviceNames()) collect(ns.services.get(name));
    return out;
  }

  /**
   * Watches a namespace's catalogue, or one service in it. The first snapshot is the current
   * state; then one follows every visible change (registration, removal, expiry, status, tags,
   * metadata or TTL change — never a mere heartbeat), delivered in a microtask, coalesced per
   * listener, and shared between every listener of the same scope. `onError` and `onRecover` are
   * never called: the catalogue is in this process, so a watch cannot lose sight of it.
   */
  watch(options: WatchOptions, listener: SnapshotListener): Subscription {
    this.assertOpen();
    const { namespace, service } = resolveWatchScope(options);
    if (typeof listener !== 'function') throw new TypeError('watch listener must be a function');
    this.sweepIfDue();
    const ns = this.namespace(namespace);
    const scope: WatchScope = service === undefined ? ns : ns.service(service, true);
    const subscription = this.hub.subscribe(scope, listener, { signal: options?.signal, onEnd: options?.onEnd });
    // An already-aborted signal leaves nothing subscribed: free what was just created for it.
    this.release(scope);
    return subscription;
  }

  /**
   * The snapshots of a scope as an async iterable. It always yields the latest state: a consumer
   * that is slow to pull skips intermediate snapshots. It ends when the registry closes, and
   * throws the signal's reason when `options.signal` aborts.
   */
  snapshots(options: WatchOptions = {}): AsyncIterableIterator<RegistrySnapshot> & AsyncDisposable {
    return watchSnapshots(this, options);
  }

  /**
   * This registry as a discovery {@link Source} over one namespace (default: the default one).
   * Discovery sees every instance of every status, and marks the source stale once the registry closes.
   */
  asSource(namespace?: string): Source {
    return registrySource(
      this,
      namespace === undefined ? { name: 'memory' } : { namespace, name: `memory:${namespace}` },
    );
  }

  /** Sizes of the internal structures; every figure but `instances` drops to 0 when unused. */
  stats(): MemoryRegistryStats {
    let services = 0;
    let instances = 0;
    for (const ns of this.namespaces.values()) {
      services += ns.services.size;
      instances += ns.records.size;
    }
    return {
      namespaces: this.namespaces.size,
      services,
      instances,
      watchers: this.hub.size,
      queued: this.expiry.size,
      timerArmed: this.expiry.armed,
    };
  }

  /**
   * Stops the expiry timer, ends every watch (their `onEnd` gets a `WEFT_ERR_CLOSED` error) and
   * drops every record. Later calls reject (or, for `watch`, throw) with `WEFT_ERR_CLOSED`.
   * Closing twice is harmless.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.saver !== undefined) {
      // The last changes reach the file before the records are dropped. A failed write was
      // already reported through `snapshotError`; closing goes on.
      await this.saver.flush().catch(() => {});
      this.saver.stop();
    }
    this.expiry.stop();
    this.hub.endAll(new ClosedError('MemoryRegistry'));
    this.namespaces.clear();
  }

  /**
   * Resolves once every visible change made so far is in the snapshot file, writing it now if the
   * debounce has not yet (concurrent callers share one write); rejects when that write fails (the
   * changes stay pending, and the next flush or change tries again). Heartbeats are never written
   * (see the `snapshotFile` option), so they need no flush. Without `snapshotFile` it resolves at once.
   */
  async flush(): Promise<void> {
    this.assertOpen();
    await this.saver?.flush();
  }

  /**
   * Writes every instance of every namespace (any status) to `path` atomically (temporary file,
   * then rename). Defaults to the `snapshotFile` option.
   */
  async saveSnapshot(path = this.snapshotFile): Promise<void> {
    this.assertOpen();
    if (path === undefined) throw new TypeError('saveSnapshot needs a path (or the snapshotFile option)');
    await this.writeSnapshot(path);
  }

  /** Also used by `close()`, after the registry stopped accepting calls but before it drops its records. */
  private async writeSnapshot(path: string): Promise<void> {
    const now = this.sweepIfDue();
    await writeFileAtomic(path, encodeRegistryFile(this.allInstances(), now, this.highestRevision()));
  }

  /**
   * Restores the instances saved in `path` (default: the `snapshotFile` option) next to the
   * current ones, as if each re-registered now: TTLs re-armed from now and re-clamped to the
   * current policy, `registeredAt` kept. Instances beyond a namespace's capacity are skipped.
   * A missing file restores nothing. Resolves to the number of instances restored.
   */
  async loadSnapshot(path = this.snapshotFile): Promise<number> {
    this.assertOpen();
    if (path === undefined) throw new TypeError('loadSnapshot needs a path (or the snapshotFile option)');
    const file = await readRegistryFile(path);
    return file === undefined ? 0 : this.restore(file);
  }

  /** The highest revision issued so far, to any namespace (live or freed). */
  private highestRevision(): number {
    let max = this.revisionFloor;
    for (const ns of this.namespaces.values()) if (ns.revision > max) max = ns.revision;
    return max;
  }

  private restore(file: RegistryFile): number {
    const now = this.sweepIfDue();
    // Revisions continue above what the saved registry issued: a client holding revision N from
    // before the restart must see the restored state as newer, not as N again with other contents.
    if (file.revision !== undefined && file.revision > this.revisionFloor) this.revisionFloor = file.revision;
    let restored = 0;
    for (const saved of file.instances) {
      const reg = savedRegistration(saved);
      try {
        this.upsert(namespaceOf({ namespace: saved.namespace }), reg, now, saved.registeredAt);
        restored++;
      } catch (err) {
        if (!(err instanceof NamespaceCapacityError)) throw err;
      }
    }
    return restored;
  }

  /** Every instance of every namespace, by namespace, service, then id. */
  private allInstances(): ServiceInstance[] {
    const out: ServiceInstance[] = [];
    for (const name of [...this.namespaces.keys()].sort()) {
      const ns = this.namespaces.get(name) as NamespaceState;
      for (const service of ns.serviceNames())
        for (const r of (ns.services.get(service) as ServiceScope).sortedRecords()) out.push(r.current());
    }
    return out;
  }

  private assertOpen(): void {
    if (this.closed) throw new ClosedError('MemoryRegistry');
  }

  private unknown(id: string, namespace: string): Error {
    checkId(id); // a non-string id is a caller bug, not an unknown instance
    return new UnknownInstanceError(id, namespace);
  }

  private namespace(name: string): NamespaceState {
    let ns = this.namespaces.get(name);
    if (ns === undefined) {
      ns = new NamespaceState(name, this.revisionFloor);
      this.namespaces.set(name, ns);
    }
    return ns;
  }

  /** Records a visible change in `scope` (call it after the change) and wakes its watchers. */
  private changed(scope: ServiceScope, membershipChanged: boolean): void {
    scope.namespace.changed(scope, membershipChanged);
    this.hub.changed(scope);
    this.hub.changed(scope.namespace);
    this.saver?.markDirty();
  }

  /** Unfiles a record (deregistration, expiry) and frees its scopes when nothing else needs them. */
  private removeRecord(record: ServiceRecord): void {
    const scope = record.scope;
    const ns = scope.namespace;
    ns.records.delete(record.id);
    scope.records.delete(record.id);
    this.expiry.remove(record);
    this.changed(scope, true);
    this.release(scope);
  }

  /** Frees a service scope, then its namespace, once neither holds a record or a watcher. */
  private release(scope: WatchScope): void {
    const ns = scope instanceof ServiceScope ? scope.namespace : (scope as NamespaceState);
    if (scope instanceof ServiceScope && scope.records.size === 0 && scope.subscribers.size === 0)
      ns.services.delete(scope.name);
    if (ns.unused && this.namespaces.get(ns.name) === ns) {
      this.namespaces.delete(ns.name);
      // Revisions of a re-created namespace continue from here, never from 0.
      if (ns.revision > this.revisionFloor) this.revisionFloor = ns.revision;
    }
  }

  /** Expires whatever is due and returns the current time; see {@link ExpiryScheduler.expireDue}. */
  private sweepIfDue(): number {
    return this.expiry.expireDue();
  }

  /** Removes an expired record (during a drain: it is already out of the expiry queue). */
  private expire(record: ServiceRecord): void {
    this.removeRecord(record);
    if (this.listenerCount('expired') > 0) this.expired.push(record.current());
  }

  /**
   * Emitted after the drain so a handler that calls back into the registry sees a consistent
   * state; a throwing handler must not fail the unrelated call (or timer) that ran the drain.
   */
  private emitExpired(): void {
    if (this.expired.length === 0) return;
    const expired = this.expired;
    this.expired = [];
    for (const instance of expired) {
      try {
        this.emit('expired', instance);
      } catch (error) {
        this.reportListenerError({ error, snapshot: undefined });
      }
    }
  }

  private reportSnapshotError(error: unknown): void {
    if (this.listenerCount('snapshotError') > 0) this.emit('snapshotError', error);
    else
      process.emitWarning(`Saving the registry snapshot file failed: ${String(error)}`, {
        type: 'WeftSnapshotError',
        code: 'WEFT_SNAPSHOT_ERROR',
      });
  }

  private reportListenerError(failure: ListenerFailure): void {
    if (this.listenerCount('listenerError') > 0) {
      this.emit('listenerError', failure.error, failure.snapshot);
      return;
    }
    const where = failure.snapshot
      ? ` (namespace "${failure.snapshot.namespace}"${failure.snapshot.service === undefined ? '' : `, service "${failure.snapshot.service}"`})`
      : '';
    process.emitWarning(`A registry watch listener failed${where}: ${String(failure.error)}`, {
      type: 'WeftListenerError',
      code: 'WEFT_LISTENER_ERROR',
    });
  }
}
