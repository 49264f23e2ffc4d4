import type { Registry, RegistrySnapshot, ServiceInstance, Subscription } from '@weft/core';

/** A registered service as the topology shows it: its versions and how many instances are registered. */
export interface RegisteredService {
  /** The instances' `version=` tags (`version=v1`), each once, sorted. */
  readonly versions: readonly string[];
  /** Instances registered now, any status. */
  readonly instances: number;
}

/** A namespace's registered services, by name. */
export type RegisteredCatalogue = ReadonlyMap<string, RegisteredService>;

/** Options of {@link RegisteredVersions}. */
export interface RegisteredVersionsOptions {
  /** A namespace's watch is closed when its catalogue was not asked for this long, ms. Default 5 min. */
  readonly lingerMs?: number;
  /** Namespaces watched at most; beyond, the least recently asked is closed. Default 256. */
  readonly maxNamespaces?: number;
  /** How long a first read waits for the registry's first snapshot, ms (a store out of reach must not hold the topology). Default 1000. */
  readonly firstWaitMs?: number;
}

/**
 * The version of an instance as the topology names it: its `version=` tags (the tag sets the
 * proxies' records carry for route-rule backends), joined by commas; undefined without one.
 */
export function versionOfInstance(tags: readonly string[]): string | undefined {
  const versions = tags.filter((t) => t.startsWith('version='));
  return versions.length === 0 ? undefined : versions.join(',');
}

/** The catalogue a registry snapshot draws: computed once per registry change, read by every topology. */
export function catalogueOf(instances: readonly ServiceInstance[]): RegisteredCatalogue {
  const byService = new Map<string, { versions: Set<string>; instances: number }>();
  for (const instance of instances) {
    let s = byService.get(instance.service);
    if (s === undefined) {
      s = { versions: new Set(), instances: 0 };
      byService.set(instance.service, s);
    }
    s.instances++;
    const version = versionOfInstance(instance.tags);
    if (version !== undefined) s.versions.add(version);
  }
  return new Map(
    [...byService].map(([service, s]) => [service, { versions: [...s.versions].sort(), instances: s.instances }]),
  );
}

interface Watched {
  catalogue: RegisteredCatalogue | undefined;
  readonly first: Promise<void>;
  subscription: Subscription | undefined;
  linger: NodeJS.Timeout | undefined;
  lastUsed: number;
}

/**
 * The registered services and versions of each namespace, for `GET /v1/topology` in a process
 * that holds the registry (the control plane): a service version registered but idle in the
 * window still shows, with no edge. One catalogue-wide registry watch per namespace read — the
 * catalogue is recomputed when the registry changes, never per request — closed after `lingerMs`
 * without a read.
 */
export class RegisteredVersions {
  private readonly spaces = new Map<string, Watched>();
  private closed = false;
  private readonly lingerMs: number;
  private readonly maxNamespaces: number;
  private readonly firstWaitMs: number;

  constructor(
    private readonly registry: Registry,
    options: RegisteredVersionsOptions = {},
  ) {
    this.lingerMs = options.lingerMs ?? 300_000;
    this.maxNamespaces = options.maxNamespaces ?? 256;
    this.firstWaitMs = options.firstWaitMs ?? 1000;
  }

  /**
   * Makes sure `namespace` is watched and its first snapshot came (waiting at most
   * `firstWaitMs`), so that {@link latest} has it. Never rejects: without a catalogue the
   * topology shows the traffic only.
   */
  async ready(namespace: string): Promise<void> {
    const w = this.watched(namespace);
    if (w === undefined || w.catalogue !== undefined) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      w.first,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.firstWaitMs);
      }),
    ]);
    clearTimeout(timer);
  }

  /** The namespace's catalogue as the registry's last snapshot drew it; undefined before the first. */
  latest(namespace: string): RegisteredCatalogue | undefined {
    return this.spaces.get(namespace)?.catalogue;
  }

  /** Namespaces watched now. */
  get size(): number {
    return this.spaces.size;
  }

  /** Closes every watch; later reads get no catalogue. */
  close(): void {
    this.closed = true;
    for (const namespace of [...this.spaces.keys()]) this.drop(namespace);
  }

  private watched(namespace: string): Watched | undefined {
    if (this.closed) return undefined;
    let w = this.spaces.get(namespace);
    if (w === undefined) {
      if (this.spaces.size >= this.maxNamespaces) this.dropLeastUsed();
      let delivered: () => void = () => {};
      const first = new Promise<void>((resolve) => {
        delivered = resolve;
      });
      const entry: Watched = { catalogue: undefined, first, subscription: undefined, linger: undefined, lastUsed: 0 };
      w = entry;
      this.spaces.set(namespace, entry);
      try {
        entry.subscription = this.registry.watch(
          {
            namespace,
            // The watch ended (the registry closed): forget it; a later read opens another.
            onEnd: () => {
              if (this.spaces.get(namespace) === entry) this.drop(namespace);
              delivered();
            },
          },
          (snapshot: RegistrySnapshot) => {
            entry.catalogue = catalogueOf(snapshot.instances);
            delivered();
          },
        );
      } catch {
        // A closed registry: no catalogue, traffic only.
        this.spaces.delete(namespace);
        return undefined;
      }
    }
    w.lastUsed = Date.now();
    clearTimeout(w.linger);
    w.linger = setTimeout(() => this.drop(namespace), this.lingerMs);
    w.linger.unref();
    return w;
  }

  private dropLeastUsed(): void {
    let oldest: [string, Watched] | undefined;
    for (const entry of this.spaces) if (oldest === undefined || entry[1].lastUsed < oldest[1].lastUsed) oldest = entry;
    if (oldest !== undefined) this.drop(oldest[0]);
  }

  private drop(namespace: string): void {
    const w = this.spaces.get(namespace);
    if (w === undefined) return;
    this.spaces.delete(namespace);
    clearTimeout(w.linger);
    w.subscription?.unsubscribe();
  }
}
