import type { Source, SourceObserver, SourceSnapshot } from '../discovery/source.js';
import type { RegistryReader, Subscription } from './types.js';

/** Options of {@link registrySource}. */
export interface RegistrySourceOptions {
  /** Namespace to expose; defaults to the default namespace. */
  namespace?: string;
  /** Only this service (a smaller snapshot per change); the whole namespace when absent. */
  service?: string;
  /** The source's name in logs and staleness reports; defaults to `registry`. */
  name?: string;
}

/**
 * Any {@link RegistryReader} — the in-memory registry, a store-backed one, the registry client —
 * as a discovery {@link Source}: one watch, whose snapshots (every status) become source
 * snapshots. When the registry ends the watch (it closed) or reports that it cannot see changes
 * (`onError`: its store is unreachable) the observer gets an error, so Discovery keeps the last
 * state and reports it stale rather than silently freezing; when the watch recovers the last
 * snapshot is delivered again, which clears the stale mark.
 */
export function registrySource(registry: RegistryReader, options: RegistrySourceOptions = {}): Source {
  const { namespace, service } = options;
  return {
    name: options.name ?? 'registry',
    subscribe(observer: SourceObserver): Subscription {
      let last: SourceSnapshot | undefined;
      return registry.watch(
        {
          ...(namespace === undefined ? {} : { namespace }),
          ...(service === undefined ? {} : { service }),
          onEnd: (reason) => observer.error(reason instanceof Error ? reason : new Error(String(reason))),
          // A store that cannot see changes for a while (etcd, Consul unreachable) says so: the
          // state is kept, marked stale, until the watch recovers.
          onError: (error) => observer.error(error),
          // Recovered with nothing changed meanwhile, no new snapshot would come: deliver the
          // last one again so Discovery clears the stale mark (a source's `next` does that).
          onRecover: () => {
            if (last !== undefined) observer.next(last);
          },
        },
        (snapshot) => {
          last = { instances: snapshot.instances, revision: snapshot.revision };
          observer.next(last);
        },
      );
    },
  };
}
