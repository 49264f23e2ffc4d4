export { type DurableFileHandle, type DurableFs, writeFileDurably } from './durable-write.js';
export {
  RevisionMismatchError,
  RuleConflictError,
  RulesStoreError,
  StoredRulesInvalidError,
  StoreUnavailableError,
  StoreWriteError,
  UnknownRuleError,
} from './errors.js';
export { EtcdRulesStore, type EtcdRulesStoreOptions, type EtcdStoreState } from './etcd-store.js';
export { FileRulesStore, type FileRulesStoreOptions } from './file-store.js';
export { ruleKind, ruleMatcher } from './filter.js';
export {
  KubernetesRulesStore,
  type KubernetesRulesStoreOptions,
  type KubernetesStoreConfig,
  KubernetesStoreUnavailableError,
  ReadOnlyStoreError,
} from './kubernetes-store.js';
export { MemoryRulesStore, type MemoryRulesStoreOptions } from './memory-store.js';
export type { RulesStoreOptions } from './store-base.js';
export type {
  NamespaceRules,
  RuleFilter,
  RuleKind,
  RulesStore,
  StoredRule,
  WriteOptions,
  WriteResult,
} from './types.js';
