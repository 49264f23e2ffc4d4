import { RuleSchema } from '@weft/core';
import { buildRulesCrd } from './crd-schema.js';

/**
 * The `rules.weft.dev` CustomResourceDefinition as a plain object (what
 * `packages/adapters/kubernetes/rules.weft.dev.crd.yaml` holds), for tools that install it
 * through the API rather than with `kubectl apply -f`.
 */
export function rulesCustomResourceDefinition(): Record<string, unknown> {
  return buildRulesCrd(RuleSchema);
}
