import { WeftRegistrySource } from '@weft/adapters/weft';
import { DEFAULT_TRUST_DOMAIN, type Registry } from '@weft/core';
import { type SidecarConfig, urlList } from '../config/sidecar-settings.js';

/**
 * Where the app is registered and where the proxy's endpoints come from: the same store, chosen
 * by `registry.type`. `weft` is Weft's registry over HTTP (`RegistrationClient` and
 * `WeftRegistrySource`); `consul` and `etcd` are @weft/adapters' registries and sources, loaded
 * only when asked for, so the default sidecar never loads their clients. `kubernetes` is a source
 * only: Kubernetes registers the pod itself (its EndpointSlices follow the pod's readiness).
 */

/** A discovery source the mesh can also close on shutdown. */
export interface EndpointSource {
  readonly name: string;
  subscribe: WeftRegistrySource['subscribe'];
  close(): void | Promise<void>;
}

/** `registry.url` as its list of URLs (checkSidecar requires it wherever the agent reads it). */
const registryUrls = (config: SidecarConfig): string[] => urlList(config.registry.url ?? []);

const consulOptions = (config: SidecarConfig) => ({
  // checkSidecar allows one URL with consul.
  address: registryUrls(config)[0] as string,
  ...(config.registry.token === undefined ? {} : { token: config.registry.token }),
});

/**
 * The trust domain of the `weft_mtls` IDs the Kubernetes source announces for Services with an
 * mTLS port: `identity.trustDomain`, else Weft's default (the controller's, too, unless changed).
 */
export const kubernetesTrustDomain = (config: SidecarConfig): string =>
  config.identity.trustDomain ?? DEFAULT_TRUST_DOMAIN;

/** The endpoints source of `registry.type`. */
export async function endpointSource(config: SidecarConfig): Promise<EndpointSource> {
  const urls = registryUrls(config);
  switch (config.registry.type) {
    case 'consul': {
      const { ConsulSource } = await import('@weft/adapters/consul');
      return new ConsulSource(consulOptions(config));
    }
    case 'etcd': {
      const { EtcdSource } = await import('@weft/adapters/etcd');
      return new EtcdSource({ hosts: urls });
    }
    case 'kubernetes': {
      const { KubernetesSource } = await import('@weft/adapters/kubernetes');
      // Pod labels become tags (version=v2), as Amalgam8's Kubernetes adapter made them.
      const source = new KubernetesSource({
        podLabelsAsTags: true,
        // Services with an mTLS port (appProtocol weft.dev/mtls) announce weft_mtls in this trust domain.
        mtls: { trustDomain: kubernetesTrustDomain(config) },
        ...(config.registry.kubeconfig === undefined ? {} : { auth: { kubeconfigPath: config.registry.kubeconfig } }),
      });
      // Its watches end with their subscriptions (Discovery's close): nothing else to close.
      return { name: source.name, subscribe: (observer) => source.subscribe(observer), close: () => undefined };
    }
    default:
      // Several URLs are the registry's replicas: the source fails over between them.
      return new WeftRegistrySource({
        url: urls,
        ...(config.registry.token === undefined ? {} : { token: config.registry.token }),
      });
  }
}

/**
 * The `Registry` the app is registered in, for `consul` and `etcd` (`weft` uses `RegistrationClient`).
 * The TTL policy is widened to what the sidecar asks for: `registry.ttl` is the user's choice.
 * etcd's own keep-alive is off: the sidecar's heartbeat (`registry.heartbeat`) renews, as it does
 * with the other stores, and a lost lease shows as "unknown instance" and is registered again.
 */
export async function storeRegistry(config: SidecarConfig, ttlSeconds: number): Promise<Registry> {
  const ttl = { defaultSeconds: ttlSeconds, minSeconds: 1, maxSeconds: Math.max(600, ttlSeconds) };
  if (config.registry.type === 'consul') {
    const { ConsulRegistry } = await import('@weft/adapters/consul');
    return new ConsulRegistry({ ...consulOptions(config), ttl });
  }
  const { EtcdRegistry } = await import('@weft/adapters/etcd');
  return new EtcdRegistry({ hosts: registryUrls(config), ttl, keepAlive: false });
}
