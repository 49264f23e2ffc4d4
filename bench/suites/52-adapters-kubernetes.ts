/**
 * Kubernetes adapter: propagation latency from an EndpointSlice write on a real kube-apiserver
 * (on etcd >= 3.5) to the Discovery snapshot, through KubernetesSource's watch. Skipped, with a
 * line saying why, when the kube-apiserver or etcd35 binary is not provisioned.
 */
import { DiscoveryV1Api, KubeConfig, type V1EndpointSlice } from '@kubernetes/client-node';
import { KubernetesSource } from '../../packages/adapters/src/kubernetes/index.js';
import { Discovery } from '../../packages/core/src/index.js';
import { startKubeApiserver } from '../../test/servers/index.js';
import type { Suite } from '../core.js';
import { type Change, measurePropagation, reportPropagation, startOrSkip } from '../lib/propagation.js';

const CHANGES = 240;
const WARMUP = 20;
const SERVICE = 'bench-kube';

function slice(name: string, ips: readonly string[]): V1EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, labels: { 'kubernetes.io/service-name': SERVICE } },
    addressType: 'IPv4',
    endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  };
}

export const suite: Suite = {
  name: 'adapters-kubernetes',
  async run(report) {
    const kube = await startOrSkip('adapters-kubernetes', () => startKubeApiserver());
    if (kube === undefined) return;
    const kc = new KubeConfig();
    kc.loadFromString(kube.kubeconfig);
    const api = kc.makeApiClient(DiscoveryV1Api);
    const source = new KubernetesSource({ auth: { kubeconfig: kube.kubeconfig }, services: [SERVICE] });
    const discovery = new Discovery({ sources: [source] });
    try {
      await discovery.ready(30_000);
      // Each change replaces the slice's endpoint list: the k-th change sets one address 10.0.x.y.
      const namespace = 'default';
      const name = `${SERVICE}-a`;
      let resourceVersion = '';
      const created = await api.createNamespacedEndpointSlice({ namespace, body: slice(name, ['10.0.0.1']) });
      resourceVersion = created.metadata?.resourceVersion ?? '';
      const changes: Change[] = [];
      for (let c = 0; c < CHANGES + WARMUP; c++) {
        const ip = `10.1.${(c >> 8) & 255}.${c & 255}`;
        changes.push({
          async write() {
            const body = slice(name, [ip]);
            body.metadata = { ...body.metadata, resourceVersion };
            const replaced = await api.replaceNamespacedEndpointSlice({ name, namespace, body });
            resourceVersion = replaced.metadata?.resourceVersion ?? '';
          },
          seen: (set) => set.instances.length === 1 && set.instances[0]?.endpoint.host === ip,
        });
      }
      const result = await measurePropagation(discovery, SERVICE, changes, WARMUP);
      reportPropagation(report, 'kubernetes', '<= 50', result);
    } finally {
      discovery.close();
      await kube.stop();
    }
  },
};
