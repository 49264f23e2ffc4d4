import { type KubeApi, type KubernetesAuth, kubeApiOf, loadKubeConfig } from './client.js';
import type { RuleStatus } from './rule-objects.js';
import { RULE_RESOURCE } from './rule-resource.js';

/** The API server, for `Rule` objects: list and watch them, and write their status. */
export interface RulesApi extends KubeApi {
  /**
   * Merge-patches the status subresource of one object, at `resourceVersion` (the version the
   * status was computed from): an object changed since answers 409, and its new version is judged
   * when its watch event arrives.
   */
  patchStatus(namespace: string, name: string, resourceVersion: string, status: RuleStatus): Promise<void>;
}

/** The field manager Weft's status writes are recorded under (`kubectl get -o yaml --show-managed-fields`). */
export const FIELD_MANAGER = 'weft-rules';

/** Creates the {@link RulesApi} over a freshly loaded client. */
export async function createRulesApi(auth: KubernetesAuth | undefined): Promise<RulesApi> {
  const loaded = await loadKubeConfig(auth);
  const { k8s, kc } = loaded;
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const { group, version, plural } = RULE_RESOURCE;
  const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
  return {
    ...kubeApiOf(loaded),
    async patchStatus(namespace, name, resourceVersion, status) {
      await custom.patchNamespacedCustomObjectStatus(
        {
          group,
          version,
          plural,
          namespace,
          name,
          body: { metadata: { resourceVersion }, status },
          fieldManager: FIELD_MANAGER,
        },
        mergePatch,
      );
    },
  };
}
