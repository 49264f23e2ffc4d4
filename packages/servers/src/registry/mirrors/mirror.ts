import {
  instanceFingerprint,
  type ServiceInstance,
  type Source,
  type SourceSnapshot,
  type Subscription,
} from '@weft/core';
import { type MirrorStamp, mirrorInstance } from './mirrored-instance.js';

/** A mirror ready to run: its source, and where and under which name its instances appear. */
export interface MirrorSpec {
  /** Unique among the registry's mirrors; names it in errors, `/health` and the status route. */
  readonly name: string;
  /** The registry namespace its instances appear in. */
  readonly namespace: string;
  /** The source's type (`consul`, `file`…), stamped on each instance as `weft.source`. */
  readonly type: string;
  readonly source: Source;
  /** Only these services of the source; all when absent. */
  readonly services?: readonly string[] | undefined;
  /** Frees what the source holds (HTTP clients, file watches) once unsubscribed. */
  readonly close?: (() => void | Promise<void>) | undefined;
}

/** How a mirror's source is doing, as `/health` and `GET /api/v1/mirrors` report it. */
export interface MirrorStatus {
  readonly name: string;
  readonly namespace: string;
  readonly type: string;
  /**
   * `pending`: no snapshot yet; `ok`: the last event was a snapshot; `stale`: the source is
   * failing, and the mirror keeps serving its last state (none, if it never had one).
   */
  readonly state: 'pending' | 'ok' | 'stale';
  readonly services: number;
  readonly instances: number;
  /** When the last snapshot arrived (ms since the epoch). */
  readonly lastUpdate: number | undefined;
  /** When the current failure began (ms since the epoch), while stale. */
  readonly staleSince: number | undefined;
  /** The source's last error, while stale. */
  readonly lastError: string | undefined;
  /** The source's own version marker (Consul index, etcd revision…). */
  readonly sourceRevision: string | number | undefined;
}

interface Held {
  readonly fingerprint: string;
  readonly instance: ServiceInstance;
}

/**
 * One mirror: follows its source and keeps the last state it delivered, as registry instances
 * grouped by service (each group sorted by id, and the same array object while the group does
 * not change, so the overlay can tell what changed by identity). A failing source keeps the last
 * state — Discovery's last-known-good rule — and only the status says so.
 */
export class Mirror {
  private byService = new Map<string, readonly ServiceInstance[]>();
  private held = new Map<string, Held>();
  private readonly byId = new Map<string, ServiceInstance>();
  private readonly stamp: MirrorStamp;
  private readonly only: ReadonlySet<string> | undefined;
  private subscription: Subscription | undefined;
  private stopped = false;
  private state: MirrorStatus['state'] = 'pending';
  private lastUpdate: number | undefined;
  private staleSince: number | undefined;
  private lastError: string | undefined;
  private sourceRevision: string | number | undefined;

  /**
   * @param onChange - called with the services whose instances changed (not on a snapshot that
   *   changed nothing, nor on a failure, which changes no instance).
   */
  constructor(
    readonly spec: MirrorSpec,
    private readonly onChange: (mirror: Mirror, services: ReadonlySet<string>) => void,
    private readonly now: () => number = Date.now,
  ) {
    this.stamp = { name: spec.name, type: spec.type, namespace: spec.namespace };
    this.only = spec.services === undefined ? undefined : new Set(spec.services);
  }

  /** Subscribes to the source; a source that throws on subscribe leaves the mirror stale, not the server down. */
  start(): void {
    if (this.stopped || this.subscription !== undefined) return;
    try {
      this.subscription = this.spec.source.subscribe({
        next: (snapshot) => this.next(snapshot),
        error: (error) => this.fail(error),
      });
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** Unsubscribes and frees the source. The state stays readable; no change is reported after. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.subscription?.unsubscribe();
    this.subscription = undefined;
    await this.spec.close?.();
  }

  /** The mirrored instances of one service (sorted by id), or of every service (by service, then id). */
  instances(service: string | undefined): readonly ServiceInstance[] {
    if (service !== undefined) return this.byService.get(service) ?? [];
    const out: ServiceInstance[] = [];
    for (const name of [...this.byService.keys()].sort()) out.push(...(this.byService.get(name) ?? []));
    return out;
  }

  /** Names of the services it holds an instance of. */
  services(): IterableIterator<string> {
    return this.byService.keys();
  }

  /** The instance with this registry id, if this mirror holds it. */
  get(id: string): ServiceInstance | undefined {
    return this.byId.get(id);
  }

  status(): MirrorStatus {
    return {
      name: this.spec.name,
      namespace: this.spec.namespace,
      type: this.spec.type,
      state: this.state,
      services: this.byService.size,
      instances: this.byId.size,
      lastUpdate: this.lastUpdate,
      staleSince: this.staleSince,
      lastError: this.lastError,
      sourceRevision: this.sourceRevision,
    };
  }

  private fail(error: Error): void {
    if (this.stopped) return;
    this.state = 'stale';
    this.staleSince ??= this.now();
    this.lastError = error.message;
  }

  private next(snapshot: SourceSnapshot): void {
    if (this.stopped) return;
    const now = this.now();
    this.state = 'ok';
    this.staleSince = undefined;
    this.lastError = undefined;
    this.lastUpdate = now;
    this.sourceRevision = snapshot.revision;

    // Map what the source holds, reusing the registry instance of every source instance that did
    // not change (so its last_heartbeat stays the time it last changed, and arrays compare equal).
    const held = new Map<string, Held>();
    const grouped = new Map<string, ServiceInstance[]>();
    for (const source of snapshot.instances) {
      if (this.only !== undefined && !this.only.has(source.service)) continue;
      const fingerprint = instanceFingerprint(source);
      const previous = this.held.get(source.id);
      const kept =
        previous !== undefined && previous.fingerprint === fingerprint
          ? previous
          : { fingerprint, instance: mirrorInstance(source, this.stamp, now) };
      // Two source instances with one id (a source's bug): the last one wins, as in a map.
      held.set(source.id, kept);
    }
    for (const { instance } of held.values()) {
      const list = grouped.get(instance.service);
      if (list === undefined) grouped.set(instance.service, [instance]);
      else list.push(instance);
    }

    const changed = new Set<string>();
    const byService = new Map<string, readonly ServiceInstance[]>();
    for (const [service, list] of grouped) {
      list.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      const old = this.byService.get(service);
      if (old !== undefined && sameInstances(old, list)) byService.set(service, old);
      else {
        byService.set(service, Object.freeze(list));
        changed.add(service);
      }
    }
    for (const service of this.byService.keys()) if (!byService.has(service)) changed.add(service);

    this.held = held;
    this.byService = byService;
    this.byId.clear();
    for (const { instance } of held.values()) this.byId.set(instance.id, instance);
    if (changed.size > 0) this.onChange(this, changed);
  }
}

/** Same instance objects in the same order: reused objects mean unchanged instances. */
function sameInstances(a: readonly ServiceInstance[], b: readonly ServiceInstance[]): boolean {
  return a.length === b.length && a.every((instance, i) => instance === b[i]);
}
