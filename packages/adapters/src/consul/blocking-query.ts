import type { BackoffOptions, Clock } from '@weft/core';
import { BackoffState } from '../internal/backoff.js';
import type { Indexed, ReadOptions } from './client.js';

/** Settings of one blocking-query loop. */
export interface BlockingQueryOptions {
  /** Longest time Consul holds a request, in ms; each request waits a random 90–100 % of it. */
  waitMs: number;
  /** Extra client-side time allowed past `waitMs` before a request counts as hung, in ms. */
  slackMs: number;
  backoff: BackoffOptions;
  clock: Clock;
  signal: AbortSignal;
  random?: () => number;
}

/** What a loop reports. */
export interface BlockingQueryHandlers<T> {
  /** A fresh answer. `changed` is false when the index did not move (a timed-out wait). */
  result(body: T, index: bigint, changed: boolean): void;
  /** A failed request; the loop backs off and retries on its own. */
  error(error: Error, attempt: number): void;
}

/**
 * One Consul blocking query, repeated until the signal aborts, following Consul's rules for
 * blocking queries:
 *
 * - The first request, and the first after any failure, does not block: it answers at once with
 *   the current state and index. (After a restart the index may have gone backwards; a blocking
 *   request with the old, now future, index would hang for the whole wait.)
 * - Later requests block on the last index, with `wait` jittered so many watchers do not all
 *   time out together.
 * - An index that goes backwards is taken as a reset: the answer is the current state.
 * - An index of 0 is raised to 1 (Consul bugs have returned 0, which turns the loop hot).
 * - Failures back off exponentially with full jitter and are reported; the loop never gives up.
 * - Answers that come back early without a new index several times in a row are rate-limited
 *   with the same backoff, so a misbehaving server cannot spin the loop.
 */
export async function runBlockingQuery<T>(
  read: (options: ReadOptions) => Promise<Indexed<T>>,
  handlers: BlockingQueryHandlers<T>,
  options: BlockingQueryOptions,
): Promise<void> {
  const { clock, signal } = options;
  const random = options.random ?? Math.random;
  const backoff = new BackoffState(options.backoff, random);
  const spin = new BackoffState(options.backoff, random);
  let index: bigint | undefined;
  let quickRepeats = 0;
  while (!signal.aborted) {
    // Whole milliseconds: the wait and the timeout derived from it show up in Consul's messages.
    const waitMs = Math.round(Math.max(1000, options.waitMs * (0.9 + 0.1 * random())));
    const started = clock.now();
    let answer: Indexed<T>;
    try {
      answer =
        index === undefined
          ? await read({ timeoutMs: options.slackMs + 5_000, signal })
          : await read({ index, waitMs, timeoutMs: Math.round(waitMs + waitMs / 16 + options.slackMs), signal });
      if (answer.index === undefined) throw new Error('Consul answered without an X-Consul-Index header');
    } catch (err) {
      if (signal.aborted) return;
      index = undefined;
      handlers.error(err instanceof Error ? err : new Error(String(err)), backoff.attempts + 1);
      try {
        await clock.sleep(backoff.next(), signal);
      } catch {
        return;
      }
      continue;
    }
    let next = answer.index as bigint;
    if (next <= 0n) next = 1n;
    const changed = index === undefined || next !== index;
    const wasFailing = backoff.attempts > 0;
    index = next;
    backoff.reset();
    handlers.result(answer.body, next, changed || wasFailing);
    if (!changed && clock.now() - started < Math.min(1000, waitMs / 2)) {
      if (++quickRepeats >= 3) {
        try {
          await clock.sleep(spin.next(), signal);
        } catch {
          return;
        }
      }
    } else {
      quickRepeats = 0;
      spin.reset();
    }
  }
}
