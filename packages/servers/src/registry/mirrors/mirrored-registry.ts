import {
  ClosedError,
  DEFAULT_NAMESPACE,
  hasAllTags,
  type InstanceQuery,
  type InstanceStatus,
  type NamespaceOption,
  type RegistrationInput,
  type Registry,
  type ServiceInstance,
  type SnapshotListener,
  type Subscription,
  type WatchOptions,
} from '@weft/core';
import { Mirror, type MirrorSpec, type MirrorStatus } from './mirror.js';
import { mergeSorted, NamespaceOverlay } from './overlay.js';
import { OverlayWatch } from './overlay-watch.js';
import { MirroredInstanceError } from './read-only-error.js';

/** Options of {@link MirroredRegistry}. */
export interface MirroredRegistryOptions {
  /** Receives failures of watch listeners (they never reach the sources or other listeners). */
  onListenerError?: (error: unknown) => void;
  /** Clock of status times and of the revision base (ms since the epoch). */
  now?: () => number;
}

/**
 * A registry with other catalogues mirrored into it, read-only: every read and watch of a
 * namespace that has mirrors shows the native registry's instances and the mirrors' side by side
 * (each mirrored one marked with `weft.source` metadata); writes go to the native registry, and
 * renew, deregister and status changes of a mirrored id are refused with
 * `WEFT_ERR_MIRRORED_INSTANCE` (403) naming the mirror.
 *
 * Why a composing wrapper, rather than writing mirrored instances into the store: it works over
 * any {@link Registry} (memory, file, etcd, a remote one) without a change to it; mirrored
 * instances never enter TTL bookkeeping, the snapshot file or a capacity count, so they cannot
 * expire, be renewed or be persisted as if they were registrations; when a source drops an
 * instance it is gone at once, with nothing to clean up; and a restart rebuilds the overlay from
 * the sources, which are the truth about them. Namespaces without a mirror are passed through
 * untouched — the same snapshots, revisions and bytes as the native registry.
 *
 * Revisions stay monotonic per namespace across native and mirrored changes (see
 * {@link NamespaceOverlay}). A mirror whose source fails keeps its last state and reports it in
 * {@link MirroredRegistry.mirrorStatus}.
 */
export class MirroredRegistry implements Registry {
  readonly flush?: () => Promise<void>;
  private readonly overlays = new Map<string, NamespaceOverlay>();
  private readonly all: Mirror[] = [];
  private readonly watches = new Set<OverlayWatch>();
  /** Pass-through watches, ended here when the wrapper closes (the native registry may live on). */
  private readonly passThrough = new Set<{
    sub: Subscription | undefined;
    onEnd: ((reason: unknown) => void) | undefined;
  }>();
  private readonly report: (error: unknown) => void;
  private closed = false;

  /**
   * Starts every mirror (each subscribes to its source at once). The native registry is not
   * owned: {@link MirroredRegistry.close} stops the mirrors and ends the watches made through the
   * wrapper, and leaves the native registry open.
   *
   * @throws TypeError when two mirrors share a name.
   */
  constructor(
    readonly native: Registry,
    mirrors: readonly MirrorSpec[],
    options: MirroredRegistryOptions = {},
  ) {
    const now = options.now ?? Date.now;
    this.report = options.onListenerError ?? (() => {});
    if (native.flush !== undefined) this.flush = () => (native.flush as () => Promise<void>).call(native);
    const base = now();
    const names = new Set<string>();
    for (const spec of mirrors) {
      if (names.has(spec.name)) throw new TypeError(`two mirrors are named "${spec.name}"`);
      names.add(spec.name);
      let overlay = this.overlays.get(spec.namespace);
      if (overlay === undefined) {
        overlay = new NamespaceOverlay(spec.namespace, base);
        this.overlays.set(spec.namespace, overlay);
      }
      const target = overlay;
      const mirror = new Mirror(spec, (_m, services) => target.changed(services), now);
      overlay.mirrors.push(mirror);
      this.all.push(mirror);
    }
    for (const mirror of this.all) mirror.start();
  }

  /** Every mirror's status, or those of one namespace. */
  mirrorStatus(namespace?: string): MirrorStatus[] {
    return this.all.filter((m) => namespace === undefined || m.spec.namespace === namespace).map((m) => m.status());
  }

  async services(options?: NamespaceOption): Promise<string[]> {
    const native = await this.native.services(options);
    const overlay = this.overlayOf(options);
    if (overlay === undefined) return native;
    const names = overlay.services();
    if (names.size === 0) return native;
    for (const name of native) names.add(name);
    return [...names].sort();
  }

  async instances(query?: InstanceQuery): Promise<ServiceInstance[]> {
    // The native registry validates the query (naming any bad field) before anything is merged.
    const native = await this.native.instances(query);
    const overlay = this.overlayOf(query);
    if (overlay === undefined) return native;
    const statuses = query?.status === 'ALL' ? undefined : new Set<InstanceStatus>(query?.status ?? ['UP']);
    const tags = query?.tags ?? [];
    const mirrored = overlay
      .instances(query?.service)
      .filter(
        (i) => (statuses === undefined || statuses.has(i.status)) && (tags.length === 0 || hasAllTags(i.tags, tags)),
      );
    return [...mergeSorted(native, mirrored)];
  }

  watch(options: WatchOptions, listener: SnapshotListener): Subscription {
    const overlay = this.overlayOf(options);
    if (overlay === undefined) return this.watchNative(options, listener);
    if (this.closed) throw new ClosedError('mirrored registry');
    const watch = OverlayWatch.start(this.native, overlay, options, listener, this.report, (w) =>
      this.watches.delete(w),
    );
    this.watches.add(watch);
    const unsubscribe = (): void => watch.unsubscribe();
    return { unsubscribe, [Symbol.dispose]: unsubscribe };
  }

  register(registration: RegistrationInput, options?: NamespaceOption): Promise<ServiceInstance> {
    return this.native.register(registration, options);
  }

  async renew(id: string, options?: NamespaceOption): Promise<ServiceInstance> {
    this.refuseMirrored(id, options, 'renew');
    return this.native.renew(id, options);
  }

  async deregister(id: string, options?: NamespaceOption): Promise<ServiceInstance> {
    this.refuseMirrored(id, options, 'deregister');
    return this.native.deregister(id, options);
  }

  async setStatus(id: string, status: InstanceStatus, options?: NamespaceOption): Promise<ServiceInstance> {
    this.refuseMirrored(id, options, 'change the status of');
    return this.native.setStatus(id, status, options);
  }

  /** Stops the mirrors and ends every watch made through the wrapper; the native registry stays open. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const reason = new ClosedError('mirrored registry');
    for (const watch of [...this.watches]) watch.end(reason);
    for (const held of [...this.passThrough]) {
      this.passThrough.delete(held);
      held.sub?.unsubscribe();
      held.onEnd?.(reason);
    }
    await Promise.allSettled(this.all.map((m) => m.stop()));
  }

  private overlayOf(options: NamespaceOption | undefined): NamespaceOverlay | undefined {
    if (this.overlays.size === 0) return undefined;
    return this.overlays.get(options?.namespace ?? DEFAULT_NAMESPACE);
  }

  /** A namespace without mirrors: the native watch itself, remembered so that close() can end it. */
  private watchNative(options: WatchOptions, listener: SnapshotListener): Subscription {
    if (this.closed) throw new ClosedError('mirrored registry');
    const held: { sub: Subscription | undefined; onEnd: ((reason: unknown) => void) | undefined } = {
      sub: undefined,
      onEnd: options.onEnd,
    };
    this.passThrough.add(held);
    try {
      held.sub = this.native.watch(
        {
          ...options,
          onEnd: (reason) => {
            if (this.passThrough.delete(held)) options.onEnd?.(reason);
          },
        },
        listener,
      );
    } catch (err) {
      this.passThrough.delete(held);
      throw err;
    }
    const unsubscribe = (): void => {
      if (this.passThrough.delete(held)) held.sub?.unsubscribe();
    };
    return { unsubscribe, [Symbol.dispose]: unsubscribe };
  }

  private refuseMirrored(
    id: string,
    options: NamespaceOption | undefined,
    operation: 'renew' | 'deregister' | 'change the status of',
  ): void {
    const mirror = this.overlayOf(options)?.owner(id);
    if (mirror !== undefined) throw new MirroredInstanceError(id, mirror.spec.name, mirror.spec.type, operation);
  }
}
