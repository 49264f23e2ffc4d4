/** Helpers of the tests of Weft's rules as Kubernetes custom resources (adapter and controller store). */

import { existsSync } from 'node:fs';
import { ApiextensionsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { RULE_RESOURCE, type RuleStatus, rulesCustomResourceDefinition } from '@weft/adapters/kubernetes';
import type { KubeApiserver } from '../servers/index.js';
import { http, waitFor } from '../servers/index.js';

/** kubectl, when installed (the Debian/Ubuntu `kubectl` package puts it in /usr/bin). */
export function kubectlPath(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':'))
    if (dir && existsSync(`${dir}/kubectl`)) return `${dir}/kubectl`;
  return undefined;
}

function status(err: unknown): number | undefined {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

/** Installs the rules CRD (as `kubectl apply -f` would: create) and waits until it is served. */
export async function installRulesCrd(kube: KubeApiserver): Promise<void> {
  const kc = new KubeConfig();
  kc.loadFromString(kube.kubeconfig);
  const ext = kc.makeApiClient(ApiextensionsV1Api);
  // A plain POST of the manifest's JSON, as kubectl sends it: the typed client would drop the
  // `x-kubernetes-*` keys (it only knows them by their camel-cased model names).
  const created = await http(`${kube.url}/apis/apiextensions.k8s.io/v1/customresourcedefinitions`, {
    method: 'POST',
    insecure: true,
    headers: { authorization: `Bearer ${kube.token}`, 'content-type': 'application/json' },
    body: rulesCustomResourceDefinition(),
  });
  if (created.status !== 201 && created.status !== 409)
    throw new Error(`creating the rules CRD answered ${created.status}: ${created.body}`);
  await waitFor(async () => {
    const crd = await ext.readCustomResourceDefinition({ name: `${RULE_RESOURCE.plural}.${RULE_RESOURCE.group}` });
    return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
  }, 30_000);
  // Established can precede the first list being served by a moment.
  const custom = kc.makeApiClient(CustomObjectsApi);
  const { group, version, plural } = RULE_RESOURCE;
  await waitFor(
    () =>
      custom.listNamespacedCustomObject({ group, version, plural, namespace: 'default' }).then(
        () => true,
        () => false,
      ),
    30_000,
  );
}

/** A `Rule` object as read back. */
export interface ReadRule {
  metadata: { name: string; resourceVersion: string; generation: number };
  spec: Record<string, unknown>;
  status?: RuleStatus;
}

/** Creates, edits and deletes `Rule` objects through the API, as kubectl does. */
export class RuleObjects {
  private readonly custom: CustomObjectsApi;
  private readonly core: CoreV1Api;

  constructor(kubeconfig: string) {
    const kc = new KubeConfig();
    kc.loadFromString(kubeconfig);
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.core = kc.makeApiClient(CoreV1Api);
  }

  async namespace(name: string): Promise<void> {
    try {
      await this.core.createNamespace({ body: { metadata: { name } } });
    } catch (err) {
      if (status(err) !== 409) throw err;
    }
  }

  async create(namespace: string, name: string, spec: unknown): Promise<void> {
    const { group, version, plural, apiVersion, kind } = RULE_RESOURCE;
    await this.custom.createNamespacedCustomObject({
      group,
      version,
      plural,
      namespace,
      body: { apiVersion, kind, metadata: { name }, spec },
      fieldValidation: 'Strict',
    });
  }

  async get(namespace: string, name: string): Promise<ReadRule> {
    const { group, version, plural } = RULE_RESOURCE;
    return (await this.custom.getNamespacedCustomObject({ group, version, plural, namespace, name })) as ReadRule;
  }

  /**
   * Replaces the spec: a PUT of the object at its resourceVersion, as `kubectl edit` / `replace`
   * do, read again and retried when a status write got in between (409).
   */
  async replaceSpec(namespace: string, name: string, spec: unknown): Promise<void> {
    const { group, version, plural } = RULE_RESOURCE;
    for (let attempt = 1; ; attempt++) {
      const current = await this.get(namespace, name);
      try {
        await this.custom.replaceNamespacedCustomObject({
          group,
          version,
          plural,
          namespace,
          name,
          body: { ...current, spec },
          fieldValidation: 'Strict',
        });
        return;
      } catch (err) {
        if (status(err) !== 409 || attempt >= 5) throw err;
      }
    }
  }

  async delete(namespace: string, name: string): Promise<void> {
    const { group, version, plural } = RULE_RESOURCE;
    await this.custom.deleteNamespacedCustomObject({ group, version, plural, namespace, name });
  }
}
