import { InvalidArgumentError } from '@weft/core';
import type { FastifyPluginAsync } from 'fastify';
import { controllerErrorHandler } from '../controller/http-errors.js';
import { queryValue } from '../controller/query.js';
import { WatchTracker } from '../controller/watch-tracker.js';
import type { RulesStore, StoredRule, WriteResult } from '../rules-store/types.js';
import { serveRead, type WatchLimits } from '../watch/serve-read.js';
import type { Versioned, Watchable } from '../watch/types.js';

/** One revision of a namespace's rules, as `GET /v1/rules/history` lists it. */
export interface RulesRevision {
  readonly revision: number;
  /**
   * When this server saw it (ISO 8601): written through it, or delivered by the store's watch
   * while someone watched the history. Null for a revision read back from the store's own
   * history that this server did not see (etcd's MVCC keeps no times).
   */
  readonly at: string | null;
  readonly rules: readonly StoredRule[];
}

/** `GET /v1/rules/history`: the revisions kept, newest first, and the newest revision. */
export interface RulesHistoryView {
  readonly revisions: readonly RulesRevision[];
  readonly index: number;
}

/** The store's writes: each names its namespace first. */
const WRITES = new Set(['add', 'update', 'replace', 'delete', 'authorize']);

/** A store that reads a namespace's past revisions itself (`EtcdRulesStore`, through etcd's MVCC). */
interface PastRevisions {
  revisions(namespace: string, limit: number): Promise<readonly { revision: number; rules: readonly StoredRule[] }[]>;
}

const readsPast = (store: RulesStore): store is RulesStore & PastRevisions =>
  typeof (store as Partial<PastRevisions>).revisions === 'function';

/** What is kept of one namespace. */
interface Kept {
  /** Newest first, at most `keep` (stores without a history of their own). */
  revisions: readonly RulesRevision[];
  /** When each revision was seen, by revision (stores with their own history: the times they lack). */
  readonly times: Map<number, string>;
  lastUsed: number;
}

/**
 * The recent revisions of each namespace's rules, for the dashboard's rules view. A store that
 * reads its own history (`EtcdRulesStore.revisions`: etcd's MVCC) is read at each request, as far
 * back as compaction left it, every replica's writes included; this server adds the times it saw
 * them. For the others (memory, file), the last `keep` snapshots are kept in memory, recorded
 * after each write through this server (`recording`) and each revision a history watcher is
 * delivered: the list starts with the first write (or history read) this server saw, and a burst
 * of concurrent writes may show as its last revision. No store watch is held while nobody watches
 * the history. Snapshots are the store's own frozen ones, shared, not copied.
 */
export class RulesHistory {
  private readonly spaces = new Map<string, Kept>();

  constructor(
    private readonly store: RulesStore,
    private readonly keep = 20,
    private readonly maxNamespaces = 256,
  ) {}

  private kept(namespace: string): Kept {
    let k = this.spaces.get(namespace);
    if (k === undefined) {
      if (this.spaces.size >= this.maxNamespaces) this.dropLeastUsed();
      k = { revisions: [], times: new Map(), lastUsed: 0 };
      this.spaces.set(namespace, k);
    }
    k.lastUsed = Date.now();
    return k;
  }

  private dropLeastUsed(): void {
    let oldest: [string, Kept] | undefined;
    for (const entry of this.spaces) if (oldest === undefined || entry[1].lastUsed < oldest[1].lastUsed) oldest = entry;
    if (oldest !== undefined) this.spaces.delete(oldest[0]);
  }

  /** Notes that `namespace` was at `revision` with `rules`, now. */
  private record(namespace: string, revision: number, rules: readonly StoredRule[]): void {
    const k = this.kept(namespace);
    const at = new Date().toISOString();
    if (readsPast(this.store)) {
      if (k.times.has(revision)) return;
      k.times.set(revision, at);
      // The times of the last `keep` revisions are all a view can use.
      for (const r of k.times.keys()) if (r <= revision - this.keep) k.times.delete(r);
      return;
    }
    const newest = k.revisions[0];
    if (newest !== undefined && newest.revision >= revision) return;
    k.revisions = Object.freeze([Object.freeze({ revision, at, rules }), ...k.revisions].slice(0, this.keep));
  }

  /** The namespace's history now. */
  async view(namespace: string): Promise<Versioned<RulesHistoryView>> {
    const store = this.store;
    if (readsPast(store)) {
      const past = await store.revisions(namespace, this.keep);
      const times = this.kept(namespace).times;
      const revisions = past.map((p) => ({ revision: p.revision, at: times.get(p.revision) ?? null, rules: p.rules }));
      const index = past[0]?.revision ?? 0;
      return { revision: index, value: { revisions, index } };
    }
    const now = await store.get(namespace);
    this.record(namespace, now.revision, now.rules);
    const revisions = this.kept(namespace).revisions;
    return { revision: now.revision, value: { revisions, index: now.revision } };
  }

  /** The namespace's history as a watchable read: a store watch is held while it is watched. */
  watch(namespace: string): Watchable<RulesHistoryView> {
    return {
      current: () => this.view(namespace),
      subscribe: (listener, onEnd) => {
        let live = true;
        let sent = -1;
        const stop = this.store.watch(namespace).subscribe((state) => {
          this.record(namespace, state.revision, state.value.rules);
          this.view(namespace).then(
            (v) => {
              if (!live || v.revision <= sent) return;
              sent = v.revision;
              listener(v);
            },
            (err) => {
              if (live) onEnd?.(err);
            },
          );
        }, onEnd);
        return () => {
          live = false;
          stop();
        };
      },
    };
  }

  /**
   * `store`, with every write recorded (the revision it made, its time and, for stores without
   * their own history, the rules). Give this to `controllerRoutes` instead of the store itself.
   */
  recording(store: RulesStore = this.store): RulesStore {
    // A Proxy rather than a copy of the interface: every other member (an etcd store's `state`,
    // methods added later) passes through unchanged, bound to the store.
    return new Proxy(store, {
      get: (target, property) => {
        const value: unknown = Reflect.get(target, property, target);
        if (typeof value !== 'function') return value;
        const method = value as (...args: unknown[]) => Promise<unknown>;
        if (typeof property === 'string' && WRITES.has(property))
          return async (namespace: string, ...args: unknown[]) => {
            const result = (await method.call(target, namespace, ...args)) as WriteResult;
            await this.afterWrite(namespace, result.revision);
            return result;
          };
        return method.bind(target);
      },
    });
  }

  private async afterWrite(namespace: string, revision: number): Promise<void> {
    try {
      if (readsPast(this.store)) this.record(namespace, revision, []);
      else {
        // An in-memory read for these stores: the rules the write left (or a later write's).
        const now = await this.store.get(namespace);
        this.record(namespace, now.revision, now.rules);
      }
    } catch {
      // History is advice: the write is done and is answered as done.
    }
  }
}

/** Options of {@link rulesHistoryRoutes}. */
export interface RulesHistoryRoutesOptions {
  readonly history: RulesHistory;
  readonly watch?: WatchLimits | undefined;
}

/** `GET /v1/rules/history?limit=`: the namespace's recent rule revisions, newest first (watchable). */
export const rulesHistoryRoutes: FastifyPluginAsync<RulesHistoryRoutesOptions> = async (app, options) => {
  if (!app.hasRequestDecorator('namespace'))
    throw new Error('rulesHistoryRoutes needs authenticate(app, authenticator) registered first (request.namespace)');
  const tracker = new WatchTracker();
  app.addHook('preClose', async () => tracker.endAll(new Error('server closing')));
  app.setErrorHandler(controllerErrorHandler);
  app.get('/v1/rules/history', (request, reply) => {
    const text = queryValue(request.query, 'limit');
    const limit = text === undefined ? undefined : Number(text);
    if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 1))
      throw new InvalidArgumentError('rules history query', [
        { path: 'limit', message: `must be a whole number of 1 or more (got ${JSON.stringify(text)})` },
      ]);
    return serveRead(
      request,
      reply,
      tracker.track(options.history.watch(request.namespace)),
      (view: RulesHistoryView) =>
        limit === undefined ? view : { revisions: view.revisions.slice(0, limit), index: view.index },
      options.watch ?? {},
    );
  });
};
