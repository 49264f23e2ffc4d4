/**
 * `@weft/adapters/kubernetes`: Kubernetes EndpointSlices as a read-only discovery
 * {@link KubernetesSource | source} (list + watch with resourceVersion and bookmarks, relist on
 * 410, restart with backoff on any failure). Needs `@kubernetes/client-node` (^2), an optional
 * peer dependency loaded on first use.
 *
 * @packageDocumentation
 */
export type { AdapterLogger, AdapterWarning, AdapterWarningCode } from '../internal/log.js';
export { processWarningLogger } from '../internal/log.js';
export { MissingPeerDependencyError } from '../internal/peer.js';
export type { KubernetesAuth } from './client.js';
export { SERVICE_NAME_LABEL, statusOf as endpointStatus } from './mapping.js';
export { KubernetesSource, type KubernetesSourceOptions } from './source.js';
