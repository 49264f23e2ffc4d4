import type { Registry } from '@weft/core';
import { StoreUnavailableError } from '../rules-store/errors.js';
import type { Versioned, Watchable } from '../watch/types.js';
import { type Instances, SharedWatch } from './shared-watch.js';

export type { Instances } from './shared-watch.js';

/**
 * The registry's reads as {@link Watchable}s, per namespace (and service): what `serveRead`
 * serves plainly, as Server-Sent Events, or by long-poll.
 *
 * Registry watches are shared: every reader of a scope (a namespace, or one service in it) rides
 * on one `registry.watch()`, kept for `lingerMs` after its last reader leaves so that repeated
 * plain reads and reconnecting watchers do not each start a watch (against etcd or Consul, a
 * watch is a stream on the server). Only the {@link Registry} interface is used.
 *
 * A plain read answers the revision of the shared watch's latest snapshot and the instances the
 * registry lists right after: heartbeats change no revision and so never reach snapshots, while
 * Amalgam8's clients expect a fresh `last_heartbeat`. The list is at least as new as the revision,
 * so a client that long-polls from that revision may wake for a change it has seen, never miss one.
 */
export class RegistryReads {
  private readonly watches = new Map<string, SharedWatch>();
  private closed: { reason: unknown } | undefined;

  constructor(
    private readonly registry: Registry,
    private readonly lingerMs: number,
  ) {}

  /** The read of a namespace's instances, or one service's when `service` is given. */
  scope(namespace: string, service: string | undefined): Watchable<Instances> {
    return {
      current: () => this.current(namespace, service),
      subscribe: (listener, onEnd) => this.subscribe(namespace, service, listener, onEnd),
    };
  }

  /** Ends every shared watch (their SSE streams end, long-polls answer what they have); later reads fail with `reason`. */
  close(reason: unknown): void {
    if (this.closed !== undefined) return;
    this.closed = { reason };
    for (const watch of [...this.watches.values()]) this.stop(watch, reason);
  }

  /** Shared watches open now, for tests and metrics. */
  get size(): number {
    return this.watches.size;
  }

  private async current(namespace: string, service: string | undefined): Promise<Versioned<Instances>> {
    const watch = this.acquire(namespace, service);
    try {
      const latest = await watch.first();
      try {
        const value = await this.registry.instances({
          namespace,
          status: 'ALL',
          ...(service === undefined ? {} : { service }),
        });
        return { revision: latest.revision, value };
      } catch (err) {
        // The shared store (etcd) is out of reach: answer its watch's last snapshot, the state
        // this replica last knew, rather than fail every read for the length of the outage.
        if (err instanceof StoreUnavailableError) return watch.latest ?? latest;
        throw err;
      }
    } finally {
      this.release(watch);
    }
  }

  private subscribe(
    namespace: string,
    service: string | undefined,
    next: (state: Versioned<Instances>) => void,
    end?: (reason: unknown) => void,
  ): () => void {
    let watch: SharedWatch;
    try {
      watch = this.acquire(namespace, service);
    } catch (reason) {
      // A registry that cannot watch (closed) ends the read rather than failing the request mid-stream.
      end?.(reason);
      return () => {};
    }
    const listener = { next, end };
    watch.listeners.add(listener);
    // Late subscribers get the state at once (serveRead's long-poll relies on it).
    if (watch.latest !== undefined) next(watch.latest);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      watch.listeners.delete(listener);
      this.release(watch);
    };
  }

  /** Takes a hold on the scope's watch, starting it if needed; throws what `registry.watch` throws. */
  private acquire(namespace: string, service: string | undefined): SharedWatch {
    if (this.closed !== undefined) throw this.closed.reason;
    const key = service === undefined ? `${namespace}\n` : `${namespace}\n${service}`;
    let watch = this.watches.get(key);
    if (watch === undefined || watch.ended !== undefined) {
      const fresh = new SharedWatch(key);
      fresh.subscription = this.registry.watch(
        {
          namespace,
          ...(service === undefined ? {} : { service }),
          onEnd: (reason) => {
            if (this.watches.get(key) === fresh) this.watches.delete(key);
            fresh.end(reason);
          },
        },
        (snapshot) => fresh.deliver(snapshot),
      );
      this.watches.set(key, fresh);
      watch = fresh;
    }
    if (watch.linger !== undefined) {
      clearTimeout(watch.linger);
      watch.linger = undefined;
    }
    watch.holders++;
    return watch;
  }

  private release(watch: SharedWatch): void {
    if (--watch.holders > 0 || watch.ended !== undefined) return;
    const stop = (): void => {
      if (watch.holders === 0) this.stop(watch, undefined);
    };
    if (this.lingerMs <= 0) stop();
    else {
      watch.linger = setTimeout(stop, this.lingerMs);
      watch.linger.unref();
    }
  }

  private stop(watch: SharedWatch, reason: unknown): void {
    clearTimeout(watch.linger);
    watch.linger = undefined;
    if (this.watches.get(watch.key) === watch) this.watches.delete(watch.key);
    watch.subscription?.unsubscribe();
    if (reason !== undefined) watch.end(reason);
    else watch.ended = { reason: new Error('watch stopped') };
  }
}
