/**
 * mTLS ports of Kubernetes Services, against a real kube-apiserver (v1.34): a Service declares
 * its pods' `weft sidecar` inbound port with `appProtocol: weft.dev/mtls` (or the port name
 * `weft-mtls`), and KubernetesSource announces `weft_mtls` for its instances, on that port. No
 * controllers run here, so the test writes each EndpointSlice from its Service exactly as the
 * EndpointSlice controller does: the Service's labels, and per port its name, target port,
 * protocol and appProtocol. The API server has to accept the domain-prefixed appProtocol on both.
 */

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CoreV1Api,
  DiscoveryV1Api,
  KubeConfig,
  type V1EndpointSlice,
  type V1Service,
  type V1ServicePort,
} from '@kubernetes/client-node';
import { type AdapterWarning, KubernetesSource } from '@weft/adapters/kubernetes';
import { Discovery, parseSpiffeId, type ServiceInstance } from '@weft/core';
import { announcedIdentity, MTLS_METADATA_KEY } from '@weft/proxy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMirrors } from '../../packages/servers/src/registry/mirrors/open-mirrors.js';
import { type KubeApiserver, startKubeApiserver, waitFor } from '../servers/index.js';

const NAMESPACE = 'shop';

let kube: KubeApiserver;
let core: CoreV1Api;
let discoveryApi: DiscoveryV1Api;

beforeAll(async () => {
  kube = await startKubeApiserver();
  const kc = new KubeConfig();
  kc.loadFromString(kube.kubeconfig);
  core = kc.makeApiClient(CoreV1Api);
  discoveryApi = kc.makeApiClient(DiscoveryV1Api);
  await core.createNamespace({ body: { metadata: { name: NAMESPACE } } });
}, 240_000);

afterAll(async () => {
  await kube?.stop();
});

/** A ClusterIP Service with these ports (`targetPort` numbers: what the slices list). */
function service(name: string, ports: V1ServicePort[]): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: NAMESPACE, labels: { app: name } },
    spec: { selector: { app: name }, ports },
  };
}

/** The EndpointSlice the EndpointSlice controller would write for `svc` with these pod IPs. */
function sliceOf(svc: V1Service, ips: readonly string[]): V1EndpointSlice {
  const name = svc.metadata?.name as string;
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${name}-abcde`,
      namespace: NAMESPACE,
      // The controller copies the Service's labels (not its annotations) and adds these two.
      labels: {
        ...svc.metadata?.labels,
        'kubernetes.io/service-name': name,
        'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
      },
    },
    addressType: 'IPv4',
    endpoints: ips.map((ip, i) => ({
      addresses: [ip],
      conditions: { ready: true },
      targetRef: { kind: 'Pod', name: `${name}-${i}`, namespace: NAMESPACE },
    })),
    ports: (svc.spec?.ports ?? []).map((p) => ({
      name: p.name ?? '',
      port: p.targetPort as number,
      protocol: p.protocol ?? 'TCP',
      ...(p.appProtocol === undefined ? {} : { appProtocol: p.appProtocol }),
    })),
  };
}

/** Creates (or replaces) the Service and its slice, through the API server. */
async function apply(svc: V1Service, ips: readonly string[]): Promise<void> {
  const name = svc.metadata?.name as string;
  const slice = sliceOf(svc, ips);
  const sliceName = slice.metadata?.name as string;
  try {
    const current = await core.readNamespacedService({ name, namespace: NAMESPACE });
    await core.replaceNamespacedService({
      name,
      namespace: NAMESPACE,
      body: { ...svc, metadata: { ...svc.metadata, resourceVersion: current.metadata?.resourceVersion ?? '' } },
    });
    const currentSlice = await discoveryApi.readNamespacedEndpointSlice({ name: sliceName, namespace: NAMESPACE });
    await discoveryApi.replaceNamespacedEndpointSlice({
      name: sliceName,
      namespace: NAMESPACE,
      body: {
        ...slice,
        metadata: { ...slice.metadata, resourceVersion: currentSlice.metadata?.resourceVersion ?? '' },
      },
    });
  } catch (err) {
    if ((err as { code?: unknown }).code !== 404) throw err;
    await core.createNamespacedService({ namespace: NAMESPACE, body: svc });
    await discoveryApi.createNamespacedEndpointSlice({ namespace: NAMESPACE, body: slice });
  }
}

const describeInstance = (i: ServiceInstance): string =>
  `${i.endpoint.type}://${i.endpoint.value} ${announcedIdentity(i.metadata) ?? 'plaintext'}`;

describe('KubernetesSource: Services whose endpoints speak Weft mTLS', () => {
  it('announces weft_mtls with the SPIFFE ID on the marked port, and leaves an unmarked Service unchanged', async () => {
    const reviews = service('reviews', [
      { name: 'http', port: 80, targetPort: 9080, protocol: 'TCP' },
      { name: 'inbound', port: 15006, targetPort: 15006, protocol: 'TCP', appProtocol: 'weft.dev/mtls' },
    ]);
    const ratings = service('ratings', [{ name: 'weft-mtls', port: 15006, targetPort: 15006 }]);
    const details = service('details', [{ name: 'http', port: 80, targetPort: 9080 }]);
    await apply(reviews, ['10.30.0.1', '10.30.0.2']);
    await apply(ratings, ['10.30.1.1']);
    await apply(details, ['10.30.2.1']);

    const warnings: AdapterWarning[] = [];
    const source = new KubernetesSource({
      auth: { kubeconfig: kube.kubeconfig },
      namespace: NAMESPACE,
      // The mTLS port wins for marked Services; the others keep this one.
      port: 'http',
      mtls: { trustDomain: 'prod.example.com' },
      logger: { warn: (w) => warnings.push(w) },
    });
    const discovery = new Discovery({ sources: [source] });
    try {
      await discovery.ready(30_000);
      const of = (svc: string) => discovery.endpoints(svc).instances.map(describeInstance).sort();
      expect(of('reviews')).toEqual([
        'http://10.30.0.1:15006 spiffe://prod.example.com/ns/shop/svc/reviews',
        'http://10.30.0.2:15006 spiffe://prod.example.com/ns/shop/svc/reviews',
      ]);
      expect(of('ratings')).toEqual(['http://10.30.1.1:15006 spiffe://prod.example.com/ns/shop/svc/ratings']);
      expect(of('details')).toEqual(['http://10.30.2.1:9080 plaintext']);
      const [instance] = discovery.endpoints('reviews').instances;
      // The key the proxy reads, an ID core parses, naming the Kubernetes namespace and Service.
      expect(Object.keys(instance?.metadata ?? {})).toContain(MTLS_METADATA_KEY);
      expect(parseSpiffeId(announcedIdentity(instance?.metadata) as string)).toEqual({
        trustDomain: 'prod.example.com',
        namespace: 'shop',
        service: 'reviews',
      });
      expect(instance?.namespace).toBe('shop');
      expect(warnings).toEqual([]);

      // Marking a running Service moves its instances to the mTLS port, announced, as the watch
      // delivers the slice; unmarking moves them back.
      const marked = service('details', [
        { name: 'http', port: 80, targetPort: 9080 },
        { name: 'weft-mtls', port: 15006, targetPort: 15006 },
      ]);
      await apply(marked, ['10.30.2.1']);
      await waitFor(
        () => of('details').join() === 'http://10.30.2.1:15006 spiffe://prod.example.com/ns/shop/svc/details',
        15_000,
        { description: `details on its mTLS port; now ${JSON.stringify(of('details'))}` },
      );
      await apply(details, ['10.30.2.1']);
      await waitFor(() => of('details').join() === 'http://10.30.2.1:9080 plaintext', 15_000, {
        description: `details back in plaintext; now ${JSON.stringify(of('details'))}`,
      });
    } finally {
      discovery.close();
    }
  });

  it('uses Weft’s default trust domain when none is given', async () => {
    await apply(service('ratings', [{ name: 'weft-mtls', port: 15006, targetPort: 15006 }]), ['10.30.1.1']);
    const discovery = new Discovery({
      sources: [
        new KubernetesSource({ auth: { kubeconfig: kube.kubeconfig }, namespace: NAMESPACE, services: ['ratings'] }),
      ],
    });
    try {
      await discovery.ready(30_000);
      expect(discovery.endpoints('ratings').instances.map(describeInstance)).toEqual([
        'http://10.30.1.1:15006 spiffe://weft.local/ns/shop/svc/ratings',
      ]);
    } finally {
      discovery.close();
    }
  });

  it("a registry's Kubernetes mirror announces them in its mtlsTrustDomain", async () => {
    await apply(service('ratings', [{ name: 'weft-mtls', port: 15006, targetPort: 15006 }]), ['10.30.1.1']);
    const dir = mkdtempSync(join(tmpdir(), 'weft-kube-mirror-'));
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, kube.kubeconfig);
    const [mirror] = await openMirrors(
      [
        {
          services: ['ratings'],
          source: { type: 'kubernetes', kubeconfig, namespace: NAMESPACE, mtlsTrustDomain: 'mirror.example' },
        },
      ],
      { warn: () => {} },
    );
    const discovery = new Discovery({ sources: [mirror?.source as KubernetesSource] });
    try {
      await discovery.ready(30_000);
      expect(discovery.endpoints('ratings').instances.map(describeInstance)).toEqual([
        'http://10.30.1.1:15006 spiffe://mirror.example/ns/shop/svc/ratings',
      ]);
    } finally {
      discovery.close();
      await mirror?.close?.();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
