import type { ServiceInstance } from '@weft/core';
import type { Mirror } from './mirror.js';

/** Registry order: by service, then id (the order every registry read and snapshot uses). */
export function byServiceThenId(a: ServiceInstance, b: ServiceInstance): number {
  if (a.service !== b.service) return a.service < b.service ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Merges two lists already in registry order into one, in that order. */
export function mergeSorted(a: readonly ServiceInstance[], b: readonly ServiceInstance[]): readonly ServiceInstance[] {
  if (b.length === 0) return a;
  if (a.length === 0) return b;
  const out: ServiceInstance[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length)
    out.push(
      byServiceThenId(a[i] as ServiceInstance, b[j] as ServiceInstance) <= 0
        ? (a[i++] as ServiceInstance)
        : (b[j++] as ServiceInstance),
    );
  while (i < a.length) out.push(a[i++] as ServiceInstance);
  while (j < b.length) out.push(b[j++] as ServiceInstance);
  return out;
}

/** A watch of an overlaid namespace, as the overlay tells it about mirror changes. */
export interface OverlayListener {
  /** The service it watches; undefined for the whole namespace. */
  readonly service: string | undefined;
  /** The mirrored instances of its scope changed. */
  mirrorsChanged(): void;
}

/**
 * The mirrors of one namespace and the part they add to its revisions.
 *
 * A namespace's revision is the native registry's plus `base + generation`, where `generation`
 * counts the mirror changes: both terms only grow, so the sum grows with every visible change,
 * native or mirrored, and every scope (namespace or one service) of the namespace agrees on it.
 * `base` is the time the overlay was made, in ms: after a restart the mirrors' count starts
 * again, and without it a client's revision from before (say native 7 + 1 mirror change) could
 * equal one after it for a different state, and its long-poll would wait for a change it has not
 * seen. With it, a revision from an earlier run is lower than every revision of this one, which
 * the watch layer answers at once ("another history"). Namespaces without mirrors keep the native
 * revisions untouched.
 */
export class NamespaceOverlay {
  readonly mirrors: Mirror[] = [];
  readonly listeners = new Set<OverlayListener>();
  private generation = 0;

  constructor(
    readonly namespace: string,
    private readonly base: number,
  ) {}

  /** The namespace's revision for a native revision. */
  revision(native: number): number {
    return native + this.base + this.generation;
  }

  /** A mirror of this namespace changed these services: a new revision, and the watchers of them hear it. */
  changed(services: ReadonlySet<string>): void {
    this.generation++;
    for (const listener of [...this.listeners])
      if (listener.service === undefined || services.has(listener.service)) listener.mirrorsChanged();
  }

  /** Mirrored instances of one service, or of the namespace, in registry order. */
  instances(service: string | undefined): readonly ServiceInstance[] {
    if (this.mirrors.length === 1) return (this.mirrors[0] as Mirror).instances(service);
    const all: ServiceInstance[] = [];
    for (const mirror of this.mirrors) all.push(...mirror.instances(service));
    return all.sort(byServiceThenId);
  }

  /** Names of the services the mirrors hold. */
  services(): Set<string> {
    const out = new Set<string>();
    for (const mirror of this.mirrors) for (const s of mirror.services()) out.add(s);
    return out;
  }

  /** The mirror that holds this instance id, if any. */
  owner(id: string): Mirror | undefined {
    return this.mirrors.find((m) => m.get(id) !== undefined);
  }
}
