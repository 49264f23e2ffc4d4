import type { Clock } from '@weft/core';
import { type AdapterLogger, asError, describeError } from './log.js';

/** Settings of a {@link WatchHealth}. */
export interface WatchHealthOptions {
  /** The adapter source's name (`etcd:/weft/default`, `consul`), the `source` of its warnings. */
  readonly source: string;
  /** What is watched (a key prefix, a kind, a path), the `object` of its warnings. */
  readonly object: string;
  readonly logger: AdapterLogger;
  readonly clock: Clock;
  /** Each failure, as it happens: a source's `observer.error()`, a registry watch's `onError`. */
  readonly onError?: (error: Error) => void;
  /** Once, when a watch that reported a failure works again: a registry watch's `onRecover`. */
  readonly onRecover?: () => void;
}

/**
 * The one way every watch of this package reports failure and recovery, so an operator reads
 * the same story from every adapter and a consumer gets the same signals:
 *
 * - every failure goes to `onError` (a source's observer, so Discovery marks the state stale);
 * - the **first** failure of a streak is a `WEFT_WARN_WATCH_RESTART` warning with the cause —
 *   an outage of a minute is one warning, not one per retry — and the later ones `debug` events
 *   (`event: 'watch-failed'`, with the attempt);
 * - the first success after a streak is a `debug` event (`event: 'watch-recovered'`, with the
 *   failures and how long it was down) and `onRecover`.
 *
 * A watch made of several loops (Consul's catalog and per-service queries, a Kubernetes source's
 * slices and pods) passes each loop as `part`: the streak starts with the first failing part and
 * ends when no part is failing any more.
 */
export class WatchHealth {
  private readonly failingParts = new Set<string>();
  private failures = 0;
  private downSince: number | undefined;
  private reported = false;

  constructor(private readonly options: WatchHealthOptions) {}

  /** True between a failure and the recovery of every part. */
  get failing(): boolean {
    return this.downSince !== undefined;
  }

  /** When the current failure streak began ({@link Clock.now}), or undefined when all is well. */
  get failingSince(): number | undefined {
    return this.downSince;
  }

  /**
   * A failed attempt. `what` says what failed in the warning (default: `the watch of <object>`).
   * With `report: false` the failure is logged (it starts a streak) but not passed to `onError`:
   * an interruption the watch repairs at once (a stream that broke and is simply reopened) needs
   * no stale mark unless the repair fails too.
   */
  failed(error: unknown, options: { what?: string; part?: string; report?: boolean } = {}): void {
    const { source, object, logger, clock } = this.options;
    const what = options.what ?? `the watch of ${object}`;
    this.failingParts.add(options.part ?? '');
    this.failures++;
    if (this.downSince === undefined) {
      this.downSince = clock.now();
      logger.warn({
        code: 'WEFT_WARN_WATCH_RESTART',
        message: `${source}: ${what} failed: ${describeError(error)}; retrying with backoff until it works again`,
        source,
        object,
        cause: error,
      });
    } else {
      logger.debug?.(`${source}: ${what} failed again: ${describeError(error)}`, {
        event: 'watch-failed',
        object,
        attempt: this.failures,
      });
    }
    if (options.report === false) return;
    this.reported = true;
    try {
      this.options.onError?.(asError(error));
    } catch {
      // a consumer's callback failing is the consumer's business; the watch goes on
    }
  }

  /**
   * An attempt worked (`part`: that loop). Ends the streak once no part is failing: logs the
   * recovery and calls `onRecover`. Returns true when this call ended a streak.
   */
  recovered(part = ''): boolean {
    if (this.downSince === undefined || !this.failingParts.delete(part) || this.failingParts.size > 0) return false;
    const { source, object, logger, clock } = this.options;
    const downMs = Math.max(0, clock.now() - this.downSince);
    logger.debug?.(
      `${source}: the watch of ${object} works again after ${this.failures} failure(s) in ${Math.round(downMs)} ms`,
      { event: 'watch-recovered', object, failures: this.failures, downMs },
    );
    const reported = this.reported;
    this.downSince = undefined;
    this.failures = 0;
    this.reported = false;
    if (reported)
      try {
        this.options.onRecover?.();
      } catch {
        // the consumer's business, as above
      }
    return true;
  }

  /** Forgets a part that no longer exists (a service no longer watched): it cannot hold a streak open. */
  forget(part: string): void {
    this.recovered(part);
  }
}
