import { existsSync } from 'node:fs';
import { InvalidArgumentError } from '@weft/core';
import { importPeer } from '../internal/peer.js';
import { RULE_RESOURCE } from './rule-resource.js';

/**
 * How to authenticate to the API server. Default: the client's `loadFromDefault()` — the
 * `KUBECONFIG` variable, then `~/.kube/config`, then the in-cluster service account.
 */
export type KubernetesAuth =
  /** A kubeconfig file (and optionally a context in it other than the current one). */
  | { kubeconfigPath: string; context?: string }
  /** A kubeconfig as YAML text. */
  | { kubeconfig: string; context?: string }
  /**
   * The pod's service account, as in-cluster clients do: the API server from
   * `KUBERNETES_SERVICE_HOST` / `KUBERNETES_SERVICE_PORT`, the token (re-read as it rotates),
   * CA and namespace from `/var/run/secrets/kubernetes.io/serviceaccount/`. `pathPrefix` is put
   * in front of that path (a sandbox or test that mounts the files elsewhere).
   */
  | { inCluster: true; pathPrefix?: string }
  /** A `KubeConfig` of `@kubernetes/client-node` you built yourself. */
  | { kubeConfig: object };

/**
 * What the adapter lists and watches: EndpointSlices, Pods when their labels become tags, and
 * Weft's `Rule` custom objects (through `createRulesApi`).
 */
export type KubeKind = 'endpointslices' | 'pods' | 'rules';

/** An object as listed or watched (plain JSON fields). */
export type KubeObject = Record<string, unknown> & {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string> | null };
};

/** One page of a list. */
export interface KubePage {
  items: KubeObject[];
  resourceVersion: string;
  continueToken: string | undefined;
}

/** An event of a watch stream: its type and object as the server sent them (plain JSON). */
export type WatchEvent = { type: string; object: KubeObject };

/** Which objects: a kind, in a namespace (all namespaces when undefined), with a label selector. */
export interface KubeScope {
  kind: KubeKind;
  namespace: string | undefined;
  labelSelector: string;
}

/** What the Kubernetes adapter needs from the API server, over `@kubernetes/client-node` (v2). */
export interface KubeApi {
  /** The cluster's server URL (for names and messages). */
  readonly server: string;
  /** The namespace of the kubeconfig's current context, if it names one. */
  readonly contextNamespace: string | undefined;
  list(scope: KubeScope, page: { limit: number; continueToken?: string }): Promise<KubePage>;
  /**
   * Starts a watch. Resolves once the server answered (the stream is open) or the attempt failed;
   * `done` is called exactly once when the stream ends: `null` for a clean end, the error otherwise.
   * The returned function closes the stream (then `done` is not called).
   */
  watch(
    scope: KubeScope,
    params: { resourceVersion: string; timeoutSeconds: number },
    onEvent: (event: WatchEvent) => void,
    done: (err: unknown) => void,
  ): Promise<() => void>;
}

type K8s = typeof import('@kubernetes/client-node');

let k8sModule: Promise<K8s> | undefined;

/** Imports the `@kubernetes/client-node` peer dependency once. */
export function loadKubernetesClient(): Promise<K8s> {
  k8sModule ??= importPeer('@kubernetes/client-node', 'Kubernetes', '^2.0.1', () => import('@kubernetes/client-node'));
  k8sModule.catch(() => {
    k8sModule = undefined;
  });
  return k8sModule;
}

/** HTTP status of a client error (ApiException `code`, watch error `statusCode`), if any. */
export function httpStatusOf(err: unknown): number | undefined {
  const e = err as { code?: unknown; statusCode?: unknown } | null | undefined;
  if (typeof e?.statusCode === 'number') return e.statusCode;
  if (typeof e?.code === 'number') return e.code;
  return undefined;
}

type KubeConfig = InstanceType<K8s['KubeConfig']>;

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

function invalid(path: string, message: string): InvalidArgumentError {
  return new InvalidArgumentError('Kubernetes source options', [{ path, message }]);
}

/** The in-cluster config, refused with what is missing when the process is not in a pod. */
function loadInCluster(kc: KubeConfig, pathPrefix: string): void {
  const missing: string[] = [];
  for (const name of ['KUBERNETES_SERVICE_HOST', 'KUBERNETES_SERVICE_PORT'])
    if (!process.env[name]) missing.push(`${name} is not set`);
  const token = `${pathPrefix}${SERVICE_ACCOUNT_DIR}/token`;
  if (!existsSync(token)) missing.push(`${token} does not exist`);
  if (missing.length > 0)
    throw invalid('auth.inCluster', `not running in a Kubernetes pod with a service account: ${missing.join('; ')}`);
  kc.loadFromCluster(pathPrefix);
}

function loadFile(kc: KubeConfig, path: string): void {
  try {
    kc.loadFromFile(path);
  } catch (err) {
    throw invalid('auth.kubeconfigPath', `cannot load ${JSON.stringify(path)}: ${(err as Error).message}`);
  }
}

function loadText(kc: KubeConfig, text: string): void {
  try {
    kc.loadFromString(text);
  } catch (err) {
    throw invalid('auth.kubeconfig', `is not a valid kubeconfig: ${(err as Error).message}`);
  }
}

function useContext(kc: KubeConfig, name: string): void {
  if (kc.getContextObject(name) === null) {
    const known = kc.getContexts().map((c) => JSON.stringify(c.name));
    throw invalid(
      'auth.context',
      `no context ${JSON.stringify(name)} in the kubeconfig (it has ${known.length === 0 ? 'none' : known.join(', ')})`,
    );
  }
  kc.setCurrentContext(name);
}

/** Loads the client's `KubeConfig` for `auth` and the cluster it points at. */
export async function loadKubeConfig(auth: KubernetesAuth | undefined): Promise<{
  k8s: K8s;
  kc: KubeConfig;
  server: string;
  contextNamespace: string | undefined;
}> {
  const k8s = await loadKubernetesClient();
  let kc: InstanceType<K8s['KubeConfig']>;
  if (auth !== undefined && 'kubeConfig' in auth) {
    if (!(auth.kubeConfig instanceof k8s.KubeConfig))
      throw new InvalidArgumentError('Kubernetes source options', [
        { path: 'auth.kubeConfig', message: 'must be a KubeConfig of @kubernetes/client-node' },
      ]);
    kc = auth.kubeConfig;
  } else {
    kc = new k8s.KubeConfig();
    if (auth === undefined) kc.loadFromDefault();
    else if ('inCluster' in auth) loadInCluster(kc, auth.pathPrefix ?? '');
    else if ('kubeconfigPath' in auth) loadFile(kc, auth.kubeconfigPath);
    else loadText(kc, auth.kubeconfig);
    if (auth !== undefined && 'context' in auth && auth.context !== undefined) useContext(kc, auth.context);
  }
  const cluster = kc.getCurrentCluster();
  if (cluster === null)
    throw new InvalidArgumentError('Kubernetes source options', [
      { path: 'auth', message: 'the kubeconfig has no current cluster' },
    ]);
  const contextNamespace = kc.getContextObject(kc.getCurrentContext())?.namespace;
  return { k8s, kc, server: cluster.server, contextNamespace };
}

/** Creates the {@link KubeApi} over a freshly loaded client. */
export async function createKubeApi(auth: KubernetesAuth | undefined): Promise<KubeApi> {
  return kubeApiOf(await loadKubeConfig(auth));
}

/** The list and watch paths of each kind. */
const API_BASE: Record<KubeKind, string> = {
  endpointslices: '/apis/discovery.k8s.io/v1',
  pods: '/api/v1',
  rules: `/apis/${RULE_RESOURCE.apiVersion}`,
};

/** The {@link KubeApi} over a loaded `KubeConfig`. */
export function kubeApiOf({ k8s, kc, server, contextNamespace }: Awaited<ReturnType<typeof loadKubeConfig>>): KubeApi {
  const discovery = kc.makeApiClient(k8s.DiscoveryV1Api);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const watcher = new k8s.Watch(kc);

  return {
    server,
    contextNamespace,
    async list({ kind, namespace, labelSelector }, { limit, continueToken }) {
      const params = {
        ...(labelSelector === '' ? {} : { labelSelector }),
        limit,
        ...(continueToken === undefined ? {} : { _continue: continueToken }),
      };
      if (kind === 'rules') {
        const { group, version, plural } = RULE_RESOURCE;
        const list = (
          namespace === undefined
            ? await custom.listCustomObjectForAllNamespaces({ ...params, group, version, resourcePlural: plural })
            : await custom.listNamespacedCustomObject({ ...params, group, version, plural, namespace })
        ) as { items?: KubeObject[]; metadata?: { resourceVersion?: string; continue?: string } };
        return {
          items: list.items ?? [],
          resourceVersion: list.metadata?.resourceVersion ?? '',
          continueToken: list.metadata?.continue || undefined,
        };
      }
      const list =
        kind === 'endpointslices'
          ? namespace === undefined
            ? await discovery.listEndpointSliceForAllNamespaces(params)
            : await discovery.listNamespacedEndpointSlice({ ...params, namespace })
          : namespace === undefined
            ? await core.listPodForAllNamespaces(params)
            : await core.listNamespacedPod({ ...params, namespace });
      return {
        items: list.items as unknown as KubeObject[],
        resourceVersion: list.metadata?.resourceVersion ?? '',
        continueToken: list.metadata?._continue || undefined,
      };
    },
    async watch({ kind, namespace, labelSelector }, { resourceVersion, timeoutSeconds }, onEvent, done) {
      const base = API_BASE[kind];
      const path =
        namespace === undefined ? `${base}/${kind}` : `${base}/namespaces/${encodeURIComponent(namespace)}/${kind}`;
      let closed = false;
      const controller = await watcher.watch(
        path,
        {
          ...(labelSelector === '' ? {} : { labelSelector }),
          resourceVersion,
          allowWatchBookmarks: true,
          timeoutSeconds,
        },
        (type: string, object: KubeObject) => {
          if (!closed) onEvent({ type, object });
        },
        (err: unknown) => {
          if (closed) return;
          closed = true;
          done(err ?? null);
        },
      );
      return () => {
        if (closed) return;
        closed = true;
        controller.abort();
      };
    },
  };
}
