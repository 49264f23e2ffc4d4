import type { Registry, RegistrySnapshot, ServiceInstance, Subscription } from '@weft/core';
import type { ActionType } from './from-weft.js';
import { hasEurekaEndpoint } from './from-weft.js';
import { appOfService } from './names.js';
import { eurekaIdOf } from './record.js';

/** One entry of the recent-changes queue. */
interface Change {
  readonly key: string;
  readonly action: ActionType;
  /** The instance after the change (before it, for a deletion). */
  readonly instance: ServiceInstance;
  readonly at: number;
}

/** What `GET /apps/delta` answers: the changes, the revision and the whole registry they lead to. */
export interface Delta {
  readonly revision: number;
  /** One entry per instance changed in the window, with its latest state. */
  readonly changes: readonly { readonly action: ActionType; readonly instance: ServiceInstance }[];
  /** Every instance a Eureka client sees now (for the reconcile hash). */
  readonly current: readonly ServiceInstance[];
}

/** A Eureka client knows an instance by its application and Eureka instance id. */
function keyOf(instance: ServiceInstance): string {
  return `${appOfService(instance.service)}\n${eurekaIdOf(instance)}`;
}

/** What a Eureka client would see change; heartbeats (`lastHeartbeat`) are not changes. */
function fingerprint(instance: ServiceInstance): string {
  const { id, endpoint, status, ttl, metadata, tags } = instance;
  return JSON.stringify([id, endpoint.type, endpoint.value, status, ttl, metadata, tags]);
}

/**
 * Eureka's recent-changes queue for one namespace: a registry watch whose snapshots are compared
 * one with the next, each difference kept for `retentionMs` (Eureka: 3 minutes) as ADDED,
 * MODIFIED or DELETED. Changes before the log started are not in it: the first snapshot is its
 * baseline. A client whose last fetch is older than the window, or that fetched from another
 * server, may miss changes — exactly as with Eureka — and the reconcile hash sends it back to a
 * full fetch.
 */
export class ChangeLog {
  private previous = new Map<string, { instance: ServiceInstance; print: string }>();
  private changes: Change[] = [];
  private snapshot: RegistrySnapshot | undefined;
  private readonly subscription: Subscription;
  private readonly waiting: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  /** Set when the watch ended (closed registry): the log answers no more. */
  ended: { reason: unknown } | undefined;
  /** When a client last read through this log, for idle eviction. */
  lastUsed: number;
  private hashMemo: { revision: number; hash: string } | undefined;

  constructor(
    registry: Registry,
    readonly namespace: string,
    private readonly retentionMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.lastUsed = now();
    this.subscription = registry.watch({ namespace, onEnd: (reason) => this.end(reason) }, (snapshot) =>
      this.apply(snapshot),
    );
  }

  /** Resolves once the first snapshot is in; rejects when the watch ended first. */
  ready(): Promise<void> {
    if (this.snapshot !== undefined) return Promise.resolve();
    if (this.ended !== undefined) return Promise.reject(this.ended.reason);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  /** The namespace's revision as of the latest snapshot (0 before the first). */
  get revision(): number {
    return this.snapshot?.revision ?? 0;
  }

  /** Takes a snapshot in: the differences from the last one join the queue. */
  apply(snapshot: RegistrySnapshot): void {
    const at = this.now();
    const next = new Map<string, { instance: ServiceInstance; print: string }>();
    for (const instance of snapshot.instances)
      if (hasEurekaEndpoint(instance)) next.set(keyOf(instance), { instance, print: fingerprint(instance) });
    if (this.snapshot !== undefined) {
      for (const [key, { instance, print }] of next) {
        const before = this.previous.get(key);
        if (before === undefined) this.changes.push({ key, action: 'ADDED', instance, at });
        else if (before.print !== print) this.changes.push({ key, action: 'MODIFIED', instance, at });
      }
      for (const [key, { instance }] of this.previous)
        if (!next.has(key)) this.changes.push({ key, action: 'DELETED', instance, at });
    }
    this.previous = next;
    this.snapshot = snapshot;
    this.prune(at);
    for (const w of this.waiting.splice(0)) w.resolve();
  }

  /**
   * The changes of the window, one per instance: its current state (ADDED or MODIFIED, as last
   * recorded) when it still exists, else DELETED with its last state. Deciding against the
   * current state keeps a client right when an instance left and came back within the window.
   */
  delta(): Delta {
    this.prune(this.now());
    const latest = new Map<string, Change>();
    for (const change of this.changes) latest.set(change.key, change);
    const changes: { action: ActionType; instance: ServiceInstance }[] = [];
    for (const [key, change] of latest) {
      const now = this.previous.get(key);
      if (now === undefined) changes.push({ action: 'DELETED', instance: change.instance });
      else changes.push({ action: change.action === 'DELETED' ? 'MODIFIED' : change.action, instance: now.instance });
    }
    return {
      revision: this.revision,
      changes,
      current: [...this.previous.values()].map((e) => e.instance),
    };
  }

  /**
   * The reconcile hash of the current registry, computed once per revision: every client's delta
   * fetch carries it, and rendering every instance for each of them would cost O(instances).
   */
  currentHash(compute: (current: readonly ServiceInstance[]) => string): string {
    const revision = this.revision;
    if (this.hashMemo?.revision !== revision)
      this.hashMemo = { revision, hash: compute([...this.previous.values()].map((e) => e.instance)) };
    return this.hashMemo.hash;
  }

  /** Stops the watch; later reads fail. */
  stop(reason: unknown): void {
    this.subscription.unsubscribe();
    this.end(reason);
  }

  private end(reason: unknown): void {
    if (this.ended !== undefined) return;
    this.ended = { reason };
    for (const w of this.waiting.splice(0)) w.reject(reason);
  }

  private prune(now: number): void {
    const oldest = now - this.retentionMs;
    let drop = 0;
    while (drop < this.changes.length && (this.changes[drop]?.at ?? now) < oldest) drop++;
    if (drop > 0) this.changes.splice(0, drop);
  }
}

/**
 * The change logs of every namespace Eureka clients use, each started on the namespace's first
 * Eureka request and stopped once no Eureka request came for a whole retention window (by then
 * any client's next delta would be missing changes anyway, and would reconcile by a full fetch).
 */
export class ChangeLogs {
  private readonly logs = new Map<string, ChangeLog>();
  private readonly sweeper: NodeJS.Timeout;
  private closed: { reason: unknown } | undefined;

  constructor(
    private readonly registry: Registry,
    private readonly retentionMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.sweeper = setInterval(() => this.sweep(), Math.max(1000, retentionMs));
    this.sweeper.unref();
  }

  /** The namespace's log, started if needed, once it has its first snapshot. */
  async of(namespace: string): Promise<ChangeLog> {
    if (this.closed !== undefined) throw this.closed.reason;
    let log = this.logs.get(namespace);
    if (log === undefined || log.ended !== undefined) {
      log = new ChangeLog(this.registry, namespace, this.retentionMs, this.now);
      this.logs.set(namespace, log);
    }
    log.lastUsed = this.now();
    await log.ready();
    return log;
  }

  /** Logs running now, for tests. */
  get size(): number {
    return this.logs.size;
  }

  /** Stops every log; later reads fail with `reason`. */
  close(reason: unknown): void {
    if (this.closed !== undefined) return;
    this.closed = { reason };
    clearInterval(this.sweeper);
    for (const log of this.logs.values()) log.stop(reason);
    this.logs.clear();
  }

  private sweep(): void {
    const idleSince = this.now() - this.retentionMs;
    for (const [namespace, log] of this.logs)
      if (log.ended !== undefined || log.lastUsed < idleSince) {
        log.stop(new Error('change log idle'));
        this.logs.delete(namespace);
      }
  }
}
