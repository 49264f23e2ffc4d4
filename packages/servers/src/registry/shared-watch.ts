import type { RegistrySnapshot, ServiceInstance, Subscription } from '@weft/core';
import type { Versioned } from '../watch/types.js';

/** What every registry read serves: the instances (every status) of a namespace or of one service in it. */
export type Instances = readonly ServiceInstance[];

/** A reader of a shared watch: serveRead's listener and end callback. */
export interface Listener {
  next: (state: Versioned<Instances>) => void;
  end: ((reason: unknown) => void) | undefined;
}

/** One registry watch, shared by every reader of its scope while any needs it (and a linger after). */
export class SharedWatch {
  constructor(readonly key: string) {}
  /**
   * The latest snapshot as a read state: one object per snapshot, handed to every listener
   * (serveRead caches each state's rendered frames by it, so fan-out renders once).
   */
  latest: Versioned<Instances> | undefined;
  readonly listeners = new Set<Listener>();
  /** Readers holding the watch: listeners, and plain reads waiting for the first snapshot. */
  holders = 0;
  linger: NodeJS.Timeout | undefined;
  ended: { reason: unknown } | undefined;
  subscription: Subscription | undefined;
  private readonly waiting: { resolve: (s: Versioned<Instances>) => void; reject: (e: unknown) => void }[] = [];

  /** The first state, or the latest one once there is one; rejects when the watch ended first. */
  first(): Promise<Versioned<Instances>> {
    if (this.latest !== undefined) return Promise.resolve(this.latest);
    if (this.ended !== undefined) return Promise.reject(this.ended.reason);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  /** Takes a snapshot of the registry watch and hands it on. */
  deliver(snapshot: RegistrySnapshot): void {
    const state = { revision: snapshot.revision, value: snapshot.instances };
    this.latest = state;
    for (const w of this.waiting.splice(0)) w.resolve(state);
    for (const l of this.listeners) l.next(state);
  }

  /** The registry watch ended (closed store, or stopped): every reader hears it, once. */

  end(reason: unknown): void {
    if (this.ended !== undefined) return;
    this.ended = { reason };
    for (const w of this.waiting.splice(0)) w.reject(reason);
    for (const l of [...this.listeners]) l.end?.(reason);
    this.listeners.clear();
  }
}
