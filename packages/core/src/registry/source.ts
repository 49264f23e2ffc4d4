import type { Source, SourceObserver } from '../discovery/source.js';
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
 * snapshots. When the registry ends the watch (it closed) the observer gets an error, so
 * Discovery keeps the last state and reports it stale rather than silently freezing.
 */
export function registrySource(registry: RegistryReader, options: RegistrySourceOptions = {}): Source {
  const { namespace, service } = options;
  return {
    name: options.name ?? 'registry',
    subscribe(observer: SourceObserver): Subscription {
      return registry.watch(
        {
          ...(namespace === undefined ? {} : { namespace }),
          ...(service === undefined ? {} : { service }),
          onEnd: (reason) => observer.error(reason instanceof Error ? reason : new Error(String(reason))),
        },
        (snapshot) => observer.next({ instances: snapshot.instances, revision: snapshot.revision }),
      );
    },
  };
}
