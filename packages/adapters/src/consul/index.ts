/**
 * `@weft/adapters/consul`: Consul as a Weft {@link ConsulRegistry | registry} (register with a
 * TTL or HTTP check, renew, deregister, maintenance) and as a discovery
 * {@link ConsulSource | source} (health blocking queries). Needs the `consul` package (^2), an
 * optional peer dependency loaded on first use.
 *
 * @packageDocumentation
 * @module @weft/adapters/consul
 */
export type { AdapterLogger, AdapterWarning, AdapterWarningCode } from '../internal/log.js';
export { processWarningLogger } from '../internal/log.js';
export { MissingPeerDependencyError } from '../internal/peer.js';
export { type ConsulConnectionOptions, ConsulRequestError } from './client.js';
export type { ConsulWatchOptions } from './options.js';
export { type ConsulCheckOption, ConsulRegistry, type ConsulRegistryOptions } from './registry.js';
export { ConsulSource, type ConsulSourceOptions } from './source.js';
