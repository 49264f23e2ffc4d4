export { MemoryRegistry, type MemoryRegistryStats } from './memory-registry.js';
export type { CapacityOption, MemoryRegistryEvents, MemoryRegistryOptions } from './options.js';
export { NamespaceSchema } from './query.js';
export { type RegistryFile, RegistryFileSchema } from './snapshot-file.js';
export { watchSnapshots } from './snapshots.js';
export { type RegistrySourceOptions, registrySource } from './source.js';
export { DEFAULT_TTL_POLICY, effectiveTtlSeconds, type TtlPolicy, TtlPolicySchema } from './ttl.js';
export {
  DEFAULT_NAMESPACE,
  type InstanceQuery,
  type NamespaceOption,
  type Registry,
  type RegistryReader,
  type RegistrySnapshot,
  type RegistryWriter,
  type SnapshotListener,
  type Subscription,
  type WatchOptions,
} from './types.js';
