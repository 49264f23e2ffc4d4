/** Records what a registry watch tells its consumer, for the tests that take a store away and back. */
import type { Registry, RegistrySnapshot, ServiceInstance, Subscription } from '@weft/core';

/** Everything one watch reported so far (the arrays grow, the counters move, as it reports). */
export interface WatchRecording {
  readonly errors: Error[];
  readonly snapshots: RegistrySnapshot[];
  /** Times `onRecover` was called. */
  recoveries: number;
  /** The reason `onEnd` was called with; undefined while the watch goes on. */
  ended: unknown;
  /** The instances of the last snapshot (none before the first). */
  latest(): readonly ServiceInstance[];
  readonly subscription: Subscription;
}

/** Watches `service` of `registry`, recording errors, recoveries, its end and every snapshot. */
export function recordWatch(registry: Pick<Registry, 'watch'>, service: string): WatchRecording {
  const errors: Error[] = [];
  const snapshots: RegistrySnapshot[] = [];
  const recording: Omit<WatchRecording, 'subscription'> = {
    errors,
    snapshots,
    recoveries: 0,
    ended: undefined,
    latest: () => snapshots.at(-1)?.instances ?? [],
  };
  const subscription = registry.watch(
    {
      service,
      onError: (e) => errors.push(e),
      onRecover: () => {
        recording.recoveries++;
      },
      onEnd: (reason) => {
        recording.ended = reason;
      },
    },
    (snapshot) => {
      snapshots.push(snapshot);
    },
  );
  return Object.assign(recording, { subscription });
}
