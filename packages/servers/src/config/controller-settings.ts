import * as z from 'zod/mini';
import { section, setting } from './define.js';
import { storeSection } from './store-settings.js';

/** The controller's settings (`controller.*`). `sharedStore`: the command has the `store` short form. */
export function controllerSection(sharedStore = false) {
  return section(
    {
      store: storeSection(
        'controller',
        'rules',
        'saved before each change is acknowledged',
        kubernetesStoreSettings(),
        sharedStore,
      ),
    },
    'The rules controller (Amalgam8 /v1/rules)',
  );
}

/** The settings of the `kubernetes` controller store (Rule custom resources). */
function kubernetesStoreSettings() {
  const text = z.string().check(z.minLength(1, { error: 'must not be empty' }));
  return {
    kubeconfig: setting(text, {
      kind: 'string',
      placeholder: '<file>',
      description:
        "kubeconfig of the Kubernetes API server holding the Rule objects (store type kubernetes; default: KUBECONFIG, ~/.kube/config, then the pod's service account)",
    }),
    context: setting(text, {
      kind: 'string',
      placeholder: '<name>',
      description:
        "Context of the kubeconfig to use (store type kubernetes; default: the kubeconfig's current context)",
    }),
  };
}
