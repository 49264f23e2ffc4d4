import type { Registry, RegistrySnapshot, SnapshotListener, Subscription, WatchOptions } from '@weft/core';
import { mergeSorted, type NamespaceOverlay, type OverlayListener } from './overlay.js';

/**
 * A watch of a namespace that has mirrors: the native registry's watch of the same scope, with
 * the mirrors' instances merged into each snapshot and a new snapshot after each mirror change of
 * the scope. It keeps `Registry.watch`'s promises: the current state first, deliveries that never
 * overlap per listener and skip to the latest when the listener is slow, revisions that only grow,
 * and `onEnd` once when the native watch ends (a closed registry, an aborted signal) or the
 * overlay closes.
 */
export class OverlayWatch implements OverlayListener {
  private native: RegistrySnapshot | undefined;
  private subscription: Subscription | undefined;
  private delivered = -1;
  private busy = false;
  private scheduled = false;
  private ended = false;

  private constructor(
    private readonly overlay: NamespaceOverlay,
    readonly service: string | undefined,
    private readonly listener: SnapshotListener,
    private readonly onEnd: ((reason: unknown) => void) | undefined,
    private readonly report: (error: unknown) => void,
    private readonly onDone: (watch: OverlayWatch) => void,
  ) {}

  /** Starts the native watch; throws what it throws (a closed registry). */
  static start(
    registry: Registry,
    overlay: NamespaceOverlay,
    options: WatchOptions,
    listener: SnapshotListener,
    report: (error: unknown) => void,
    onDone: (watch: OverlayWatch) => void,
  ): OverlayWatch {
    const watch = new OverlayWatch(overlay, options.service, listener, options.onEnd, report, onDone);
    overlay.listeners.add(watch);
    try {
      watch.subscription = registry.watch(
        {
          namespace: overlay.namespace,
          ...(options.service === undefined ? {} : { service: options.service }),
          ...(options.signal === undefined ? {} : { signal: options.signal }),
          // The native store's outages and recoveries reach the subscriber as they would unmirrored.
          ...(options.onError === undefined ? {} : { onError: options.onError }),
          ...(options.onRecover === undefined ? {} : { onRecover: options.onRecover }),
          onEnd: (reason) => watch.end(reason),
        },
        (snapshot) => {
          watch.native = snapshot;
          watch.schedule();
        },
      );
    } catch (err) {
      overlay.listeners.delete(watch);
      throw err;
    }
    return watch;
  }

  mirrorsChanged(): void {
    this.schedule();
  }

  /** Stops without calling `onEnd` (the subscriber asked). */
  unsubscribe(): void {
    if (this.ended) return;
    this.ended = true;
    this.detach();
  }

  /** Ends the watch: the native one ended, or the overlay closed. */
  end(reason: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.detach();
    try {
      this.onEnd?.(reason);
    } catch (err) {
      this.report(err);
    }
  }

  private detach(): void {
    this.overlay.listeners.delete(this);
    this.subscription?.unsubscribe();
    this.subscription = undefined;
    this.onDone(this);
  }

  /** Delivers on the next microtask, so a burst of changes costs one delivery. */
  private schedule(): void {
    if (this.scheduled || this.busy || this.ended) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.deliver();
    });
  }

  private deliver(): void {
    const native = this.native;
    if (this.ended || this.busy || native === undefined) return;
    const revision = this.overlay.revision(native.revision);
    if (revision <= this.delivered) return;
    this.delivered = revision;
    const snapshot: RegistrySnapshot = Object.freeze({
      namespace: native.namespace,
      service: native.service,
      revision,
      instances: Object.freeze(mergeSorted(native.instances, this.overlay.instances(this.service))),
    });
    let result: void | Promise<void>;
    try {
      result = this.listener(snapshot);
    } catch (err) {
      this.report(err);
      return;
    }
    if (result === undefined || typeof (result as Promise<void>).then !== 'function') return;
    // The listener is busy: later changes wait, then the latest state is delivered once.
    this.busy = true;
    (result as Promise<void>).then(
      () => this.settled(),
      (err: unknown) => {
        this.report(err);
        this.settled();
      },
    );
  }

  private settled(): void {
    this.busy = false;
    this.schedule();
  }
}
