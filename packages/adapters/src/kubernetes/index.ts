/**
 * `@weft/adapters/kubernetes`: Kubernetes EndpointSlices as a read-only discovery
 * {@link KubernetesSource | source} (list + watch with resourceVersion and bookmarks, relist on
 * 410, restart with backoff on any failure), and Weft's rules as `Rule` custom objects
 * (`rules.weft.dev`) followed by a {@link KubernetesRulesSource}. Needs
 * `@kubernetes/client-node` (^2), an optional peer dependency loaded on first use.
 *
 * @packageDocumentation
 * @module @weft/adapters/kubernetes
 */
export type { AdapterLogger, AdapterWarning, AdapterWarningCode } from '../internal/log.js';
export { processWarningLogger } from '../internal/log.js';
export { MissingPeerDependencyError } from '../internal/peer.js';
export type { KubernetesAuth } from './client.js';
export {
  MTLS_APP_PROTOCOL,
  MTLS_PORT_NAME,
  SERVICE_NAME_LABEL,
  statusOf as endpointStatus,
} from './mapping.js';
export type { IdentifiedRule, RuleCondition, RuleStatus } from './rule-objects.js';
export { RULE_RESOURCE } from './rule-resource.js';
export {
  type KubernetesRulesObserver,
  KubernetesRulesSource,
  type KubernetesRulesSourceOptions,
  type KubernetesRulesUpdate,
} from './rules-source.js';
export { KubernetesSource, type KubernetesSourceOptions } from './source.js';
