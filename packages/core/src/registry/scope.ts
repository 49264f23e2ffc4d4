import type { ServiceInstance } from '../model/index.js';
import type { InstanceRecord } from './record.js';
import type { RegistrySnapshot } from './types.js';
import type { Subscriber, WatchScope } from './watch-hub.js';

/** A record filed under its service. */
export type ServiceRecord = InstanceRecord<ServiceScope>;

const byId = (a: ServiceRecord, b: ServiceRecord): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * One service of a namespace: its records, its watchers and its cached snapshot. It lives while
 * it has a record or a watcher, so a watcher of a service that empties still sees it empty.
 */
export class ServiceScope implements WatchScope {
  /** The service's records, by instance id. */
  readonly records = new Map<string, ServiceRecord>();
  /** Watchers of this service. */
  readonly subscribers = new Set<Subscriber>();
  queued = false;
  /** The namespace revision of this service's last visible change. */
  revision: number;
  private sorted: ServiceRecord[] | undefined;
  private cached: RegistrySnapshot | undefined;

  constructor(
    readonly namespace: NamespaceState,
    readonly name: string,
  ) {
    this.revision = namespace.revision;
  }

  /** Records sorted by id, cached until membership changes (not on heartbeats or status changes). */
  sortedRecords(): readonly ServiceRecord[] {
    if (this.sorted === undefined) this.sorted = [...this.records.values()].sort(byId);
    return this.sorted;
  }

  /** Notes a visible change at the namespace's current revision. */
  touch(membershipChanged: boolean): void {
    this.revision = this.namespace.revision;
    this.cached = undefined;
    if (membershipChanged) this.sorted = undefined;
  }

  /** The service's snapshot at its current revision, built on first use and shared until the next change. */
  snapshot(): RegistrySnapshot {
    if (this.cached === undefined) {
      const instances = this.sortedRecords().map((r) => r.current());
      this.cached = freezeSnapshot(this.namespace.name, this.name, this.revision, instances);
    }
    return this.cached;
  }
}

/**
 * One namespace (tenant): its id index, its services and its catalogue-wide watchers. As a
 * {@link WatchScope} it is the catalogue-wide scope.
 */
export class NamespaceState implements WatchScope {
  /** Every record of the namespace, by instance id. */
  readonly records = new Map<string, ServiceRecord>();
  /** Service scopes, by name: those with a record, and those only watched. */
  readonly services = new Map<string, ServiceScope>();
  /** Catalogue-wide watchers. */
  readonly subscribers = new Set<Subscriber>();
  queued = false;
  /** Grows by one on every visible change in the namespace. */
  revision: number;
  private names: string[] | undefined;
  private cached: RegistrySnapshot | undefined;

  /**
   * @param startRevision - where revisions continue from; see `MemoryRegistry` on why a
   *   re-created namespace does not restart at 0.
   */
  constructor(
    readonly name: string,
    startRevision: number,
  ) {
    this.revision = startRevision;
  }

  /** The service's scope, created (empty) when `create` is set. */
  service(name: string, create: true): ServiceScope;
  service(name: string, create: boolean): ServiceScope | undefined;
  service(name: string, create: boolean): ServiceScope | undefined {
    let scope = this.services.get(name);
    if (scope === undefined && create) {
      scope = new ServiceScope(this, name);
      this.services.set(name, scope);
    }
    return scope;
  }

  /** Names of services that have at least one record, sorted; cached until one appears or empties. */
  serviceNames(): readonly string[] {
    if (this.names === undefined) {
      const names: string[] = [];
      for (const [name, scope] of this.services) if (scope.records.size > 0) names.push(name);
      this.names = names.sort();
    }
    return this.names;
  }

  /**
   * Bumps the revision for a visible change to `service` and invalidates what it affects.
   * @param membershipChanged - an instance was added to or removed from the service.
   */
  changed(service: ServiceScope, membershipChanged: boolean): void {
    this.revision++;
    this.cached = undefined;
    service.touch(membershipChanged);
    // A service appearing or emptying changes the list of names.
    if (membershipChanged && service.records.size <= 1) this.names = undefined;
  }

  /** True when nothing (no record, service scope or watcher) needs this namespace any more. */
  get unused(): boolean {
    return this.records.size === 0 && this.services.size === 0 && this.subscribers.size === 0;
  }

  /** The catalogue-wide snapshot at the current revision, built on first use and shared until the next change. */
  snapshot(): RegistrySnapshot {
    if (this.cached === undefined) {
      const instances: ServiceInstance[] = [];
      for (const name of this.serviceNames())
        for (const r of (this.services.get(name) as ServiceScope).sortedRecords()) instances.push(r.current());
      this.cached = freezeSnapshot(this.name, undefined, this.revision, instances);
    }
    return this.cached;
  }
}

function freezeSnapshot(
  namespace: string,
  service: string | undefined,
  revision: number,
  instances: ServiceInstance[],
): RegistrySnapshot {
  return Object.freeze({ namespace, service, revision, instances: Object.freeze(instances) });
}
