import type { BackoffOptions, Clock } from '@weft/core';
import { BackoffState } from '../internal/backoff.js';
import { pause } from '../internal/clock.js';
import { type AdapterLogger, asError } from '../internal/log.js';
import type { WatchHealth } from '../internal/watch-health.js';
import { httpStatusOf, type KubeApi, type KubeObject, type KubeScope, type WatchEvent } from './client.js';

/** Settings of a {@link Reflector}. */
export interface ReflectorOptions {
  /** Source name, for messages. */
  source: string;
  /** Server-side lifetime of one watch request, in seconds. */
  watchTimeoutSeconds: number;
  pageSize: number;
  backoff: BackoffOptions;
  logger: AdapterLogger;
  clock: Clock;
  signal: AbortSignal;
  /**
   * Where failures and recoveries go (the consumer's error, one `WEFT_WARN_WATCH_RESTART` per
   * streak); shared by the reflectors of one subscription, each a part named by its kind.
   */
  health: WatchHealth;
}

/** What a {@link Reflector} reports. */
export interface ReflectorHandlers {
  /** The cache changed (after a list or a watch event), or a watch is back after a failure. */
  changed(): void;
}

/** A list that has not answered after this long counts as failed (a hung server must not stall the loop). */
const LIST_TIMEOUT_MS = 30_000;

/** `promise`, or a rejection after `ms` (the request itself is left to finish on its own). */
function withDeadline<T>(promise: Promise<T>, ms: number, clock: Clock, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = clock.setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
    promise.then(
      (v) => {
        timer.clear();
        resolve(v);
      },
      (err: unknown) => {
        timer.clear();
        reject(err);
      },
    );
  });
}

/** After a watch is re-established following a failure: how long replayed events may take to arrive. */
const RECOVERY_SETTLE_MS = 200;

type Ending = { kind: 'end' } | { kind: 'gone'; reason: string } | { kind: 'error'; error: Error };
type WatchOutcome = Ending & {
  /** The server answered 200 and the stream was open. */
  established: boolean;
  /** Events received (bookmarks included). */
  events: number;
};

/**
 * A local cache of one kind of object, kept current the way client-go's reflector does it, minus
 * its silent failure modes: list (paged), then watch from the list's resourceVersion with
 * bookmarks. A watch that ends when its `timeoutSeconds` run out is resumed from the last
 * resourceVersion; one that fails or ends early is reported (to `health`: the consumer's error,
 * a `WEFT_WARN_WATCH_RESTART` warning per failure streak) and resumed with backoff from the same resourceVersion, so
 * the server replays what was missed; `410 Gone` — the server no longer has that version — is
 * logged (`WEFT_WARN_WATCH_RELIST`) and answered with a fresh list. It never stops before the
 * signal aborts.
 */
export class Reflector {
  /** The objects, by `namespace/name`. */
  readonly objects = new Map<string, KubeObject>();
  /** True once the first list has completed. */
  synced = false;
  /** Set by a failure: the next report should go out even if nothing changed (it clears a stale mark). */
  recovering = true;
  /** Between a failure and the next successful list or established watch. */
  failing = false;
  private resourceVersion = '';
  private closeWatch: (() => void) | undefined;

  constructor(
    private readonly api: KubeApi,
    private readonly scope: KubeScope,
    private readonly options: ReflectorOptions,
    private readonly handlers: ReflectorHandlers,
    /** Keeps only what is needed of each object (pods are large; their labels are enough). */
    private readonly reduce: (o: KubeObject) => KubeObject = (o) => o,
    /** Called for objects that are added or modified, before `changed`. */
    private readonly onUpsert?: (o: KubeObject) => void,
  ) {
    options.signal.addEventListener('abort', () => this.closeWatch?.(), { once: true });
    void this.run();
  }

  /** The resourceVersion the cache is at. */
  get version(): string {
    return this.resourceVersion;
  }

  private get stopped(): boolean {
    return this.options.signal.aborted;
  }

  private async run(): Promise<void> {
    const backoff = new BackoffState(this.options.backoff);
    let needList = true;
    while (!this.stopped) {
      if (needList) {
        try {
          await this.relist();
          needList = false;
        } catch (err) {
          if (this.stopped) return;
          await this.fail(`the list of ${this.scope.kind}`, err, backoff);
          continue;
        }
      }
      const started = this.options.clock.now();
      const outcome = await this.watchOnce();
      if (this.stopped) return;
      const lived = this.options.clock.now() - started;
      // A watch that was up and useful ends the failure streak.
      if (outcome.established && (outcome.events > 0 || lived >= 1000)) backoff.reset();
      if (outcome.kind === 'gone') {
        this.options.logger.warn({
          code: 'WEFT_WARN_WATCH_RELIST',
          message: `${this.options.source}: watch of ${this.scope.kind} from resourceVersion ${this.resourceVersion} answered 410 Gone (${outcome.reason}); listing again`,
          source: this.options.source,
          object: `${this.scope.kind} resourceVersion ${this.resourceVersion}`,
        });
        needList = true;
        // Gone twice in a row would mean the fresh list is already too old: back off then.
        if (backoff.attempts > 0) await this.sleep(backoff.next());
        continue;
      }
      if (outcome.kind === 'error') {
        // Resume from the last resourceVersion: the server replays what was missed, or answers 410.
        await this.fail(`the watch of ${this.scope.kind}`, outcome.error, backoff);
        continue;
      }
      // A clean end: normal when the server's timeoutSeconds ran out, resumed at once.
      if (lived >= this.options.watchTimeoutSeconds * 1000 * 0.8) {
        this.options.logger.debug?.(
          `${this.options.source}: watch of ${this.scope.kind} ended after ${Math.round(lived)} ms; resuming`,
          {
            resourceVersion: this.resourceVersion,
          },
        );
        continue;
      }
      // Earlier than asked (a server shutting down, a proxy closing it): a failure like any other.
      await this.fail(
        `the watch of ${this.scope.kind}`,
        new Error(
          `the watch stream ended after ${Math.round(lived)} ms (timeoutSeconds ${this.options.watchTimeoutSeconds})`,
        ),
        backoff,
      );
    }
  }

  /** Reports a failure (to the consumer, and the logger once per streak), then waits out the backoff. */
  private async fail(what: string, err: unknown, backoff: BackoffState): Promise<void> {
    this.recovering = true;
    this.failing = true;
    this.options.health.failed(err, { what, part: this.scope.kind });
    await this.sleep(backoff.next());
  }

  /** Works again after a failure: says so once (the forced report follows through `changed`). */
  private recovered(): void {
    this.failing = false;
    this.options.health.recovered(this.scope.kind);
  }

  private sleep(ms: number): Promise<void> {
    return pause(this.options.clock, ms, this.options.signal);
  }

  private async relist(): Promise<void> {
    const fresh = new Map<string, KubeObject>();
    let continueToken: string | undefined;
    let resourceVersion = '';
    for (;;) {
      const page = await withDeadline(
        this.api.list(this.scope, {
          limit: this.options.pageSize,
          ...(continueToken === undefined ? {} : { continueToken }),
        }),
        LIST_TIMEOUT_MS,
        this.options.clock,
        `list of ${this.scope.kind}`,
      );
      for (const o of page.items) fresh.set(keyOf(o), this.reduce(o));
      // The first page's resourceVersion is the list's snapshot; later pages belong to it.
      if (resourceVersion === '') resourceVersion = page.resourceVersion;
      continueToken = page.continueToken;
      if (continueToken === undefined) break;
      if (this.stopped) return;
    }
    this.objects.clear();
    for (const [k, o] of fresh) {
      this.objects.set(k, o);
      this.onUpsert?.(o);
    }
    this.resourceVersion = resourceVersion;
    this.synced = true;
    this.recovering = true;
    this.recovered();
    this.handlers.changed();
  }

  private watchOnce(): Promise<WatchOutcome> {
    return new Promise<WatchOutcome>((resolve) => {
      let settled = false;
      let established = false;
      let events = 0;
      const settle = (o: Ending): void => {
        if (settled) return;
        settled = true;
        this.closeWatch?.();
        this.closeWatch = undefined;
        this.options.signal.removeEventListener('abort', onAbort);
        resolve({ ...o, established, events });
      };
      const onAbort = (): void => settle({ kind: 'end' });
      const onEvent = (event: WatchEvent): void => {
        if (settled) return;
        events++;
        const obj = event.object as KubeObject & { code?: number; reason?: string; message?: string };
        switch (event.type) {
          case 'ADDED':
          case 'MODIFIED': {
            const reduced = this.reduce(obj);
            this.objects.set(keyOf(obj), reduced);
            this.onUpsert?.(reduced);
            break;
          }
          case 'DELETED':
            this.objects.delete(keyOf(obj));
            break;
          case 'BOOKMARK':
            break;
          case 'ERROR':
            if (obj.code === 410) settle({ kind: 'gone', reason: obj.reason ?? obj.message ?? 'Expired' });
            else
              settle({
                kind: 'error',
                error: new Error(
                  `watch ERROR event: ${obj.code ?? '?'} ${obj.reason ?? ''} ${obj.message ?? ''}`.trim(),
                ),
              });
            return;
          default:
            return;
        }
        const rv = obj.metadata?.resourceVersion;
        if (typeof rv === 'string' && rv !== '') this.resourceVersion = rv;
        if (event.type !== 'BOOKMARK') this.handlers.changed();
      };
      const done = (err: unknown): void => {
        if (err === null || err === undefined) settle({ kind: 'end' });
        else if (httpStatusOf(err) === 410) settle({ kind: 'gone', reason: 'HTTP 410' });
        else settle({ kind: 'error', error: asError(err) });
      };
      if (this.stopped) {
        settle({ kind: 'end' });
        return;
      }
      this.options.signal.addEventListener('abort', onAbort, { once: true });
      this.api
        .watch(
          this.scope,
          { resourceVersion: this.resourceVersion, timeoutSeconds: this.options.watchTimeoutSeconds },
          onEvent,
          done,
        )
        .then(
          (close) => {
            if (settled || this.stopped) {
              close();
              return;
            }
            established = true;
            this.recovered();
            this.closeWatch = close;
            // Back after a failure: the events missed meanwhile are replayed first thing; give
            // them a moment, then report even if nothing changed, so the consumer learns it is
            // fresh again.
            if (this.recovering)
              this.options.clock.setTimeout(() => {
                if (!settled && !this.stopped) this.handlers.changed();
              }, RECOVERY_SETTLE_MS);
          },
          (err: unknown) => settle({ kind: 'error', error: asError(err) }),
        );
    });
  }
}

/** `namespace/name` of an object. */
export function keyOf(o: KubeObject): string {
  return `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
}
