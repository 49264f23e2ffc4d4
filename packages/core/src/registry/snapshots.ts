import { isWeftError } from '../errors/index.js';
import type { RegistryReader, RegistrySnapshot, WatchOptions } from './types.js';

/**
 * A registry watch as an async iterator that always yields the latest snapshot: states the
 * consumer was too slow to pull are skipped, never queued, so memory stays constant however far
 * behind it falls. Works with any {@link RegistryReader}.
 *
 * The iterator finishes when the registry closes (or `return()` / `break` / `await using` ends
 * it) and throws the signal's reason when `options.signal` aborts.
 */
export function watchSnapshots(
  registry: RegistryReader,
  options: WatchOptions = {},
): AsyncIterableIterator<RegistrySnapshot> & AsyncDisposable {
  let latest: RegistrySnapshot | undefined;
  let waiting: { resolve: (r: IteratorResult<RegistrySnapshot>) => void; reject: (e: unknown) => void } | undefined;
  let done = false;
  let failure: { reason: unknown } | undefined;
  const { onEnd: userOnEnd, ...watchOptions } = options;

  const finish = (): IteratorResult<RegistrySnapshot> => ({ done: true, value: undefined });

  const subscription = registry.watch(
    {
      ...watchOptions,
      onEnd: (reason) => {
        done = true;
        // A closed registry is a normal end of the stream; an abort is the consumer's error.
        if (!isWeftError(reason, 'WEFT_ERR_CLOSED')) failure = { reason };
        const w = waiting;
        waiting = undefined;
        if (w !== undefined) {
          if (failure === undefined) w.resolve(finish());
          else {
            w.reject(failure.reason);
            failure = undefined;
          }
        }
        userOnEnd?.(reason);
      },
    },
    (snapshot) => {
      const w = waiting;
      if (w !== undefined) {
        waiting = undefined;
        w.resolve({ done: false, value: snapshot });
      } else latest = snapshot;
    },
  );

  const stop = async (): Promise<IteratorResult<RegistrySnapshot>> => {
    done = true;
    latest = undefined;
    subscription.unsubscribe();
    const w = waiting;
    waiting = undefined;
    w?.resolve(finish());
    return finish();
  };

  const iterator: AsyncIterableIterator<RegistrySnapshot> & AsyncDisposable = {
    next(): Promise<IteratorResult<RegistrySnapshot>> {
      if (latest !== undefined) {
        const value = latest;
        latest = undefined;
        return Promise.resolve({ done: false, value });
      }
      if (failure !== undefined) {
        const { reason } = failure;
        failure = undefined; // thrown once; afterwards the iterator is simply done
        return Promise.reject(reason);
      }
      if (done) return Promise.resolve(finish());
      return new Promise((resolve, reject) => {
        waiting = { resolve, reject };
      });
    },
    return: stop,
    [Symbol.asyncIterator]() {
      return iterator;
    },
    async [Symbol.asyncDispose]() {
      await stop();
    },
  };
  return iterator;
}
