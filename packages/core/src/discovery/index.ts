export { Discovery, type DiscoveryEvents, type DiscoveryOptions } from './discovery.js';
export { type EndpointFilter, type EndpointSet, instanceFingerprint } from './endpoint-set.js';
export { ManualSource } from './manual-source.js';
export type { Source, SourceObserver, SourceSnapshot } from './source.js';
export type { SourceHealth } from './source-state.js';
export { type FailedSource, SourcesFailedError } from './start-error.js';
