/**
 * The custom resource that holds Weft's rules in Kubernetes: `rules.weft.dev`, one namespaced
 * `Rule` object per Amalgam8 rule. The object's name is the rule's id; its `spec` is the rule
 * (without `id`); its `status` says whether Weft accepted it.
 */
export const RULE_RESOURCE = Object.freeze({
  group: 'weft.dev',
  version: 'v1alpha1',
  plural: 'rules',
  singular: 'rule',
  kind: 'Rule',
  listKind: 'RuleList',
  shortNames: ['wrule'],
  apiVersion: 'weft.dev/v1alpha1',
});
