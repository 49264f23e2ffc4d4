/**
 * `@weft/adapters/etcd` — Weft's registry and discovery source over etcd v3, on the `etcd3`
 * client (an optional peer dependency, loaded on first use).
 *
 * Key layout: `<prefix>/<namespace>/services/<service>/<id>` → the instance as JSON, on a lease
 * of its TTL (prefix `/weft` by default). See the package README.
 *
 * @packageDocumentation
 * @module @weft/adapters/etcd
 */

export type { EtcdConnectionOptions } from './client.js';
export {
  DEFAULT_PREFIX,
  decodeInstance,
  encodeInstance,
  instanceKey,
  namespaceKeyPrefix,
  parseInstanceKey,
  serviceKeyPrefix,
} from './keys.js';
export {
  type EtcdCompareAndPutResult,
  EtcdKeyspace,
  type EtcdKeyspaceOptions,
  type EtcdKeyValue,
  type EtcdPrefixWatchHandle,
} from './keyspace.js';
export { ETCD3_RANGE } from './load.js';
export type { WatchTiming } from './prefix-watch.js';
export { EtcdRegistry, type EtcdRegistryEvents, type EtcdRegistryOptions } from './registry.js';
export { EtcdSource, type EtcdSourceOptions } from './source.js';
