/**
 * The Kubernetes adapter against a real kube-apiserver (v1.34, on etcd >= 3.5, both built by
 * .ci/provision-servers.sh). No kubelets or controllers run: the tests create the Pods and
 * EndpointSlices themselves through @kubernetes/client-node, as the EndpointSlice controller
 * would. The conformance kit, then the mapping (conditions, named ports, several slices per
 * service, pod labels, bad slices) and the faults: a cut connection, an API server restart and
 * 410 Gone after etcd compaction.
 */

import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, DiscoveryV1Api, KubeConfig, type V1EndpointSlice, type V1Pod } from '@kubernetes/client-node';
import type { AdapterWarning } from '@weft/adapters/kubernetes';
import { KubernetesSource } from '@weft/adapters/kubernetes';
import { describeSourceConformance, type SourceFixture, type TestRecord } from '@weft/adapters/testkit';
import type { ServiceInstance, SourceSnapshot } from '@weft/core';
import * as vitest from 'vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type KubeApiserver,
  selfSignedCertificate,
  startKubeApiserver,
  TcpCutProxy,
  waitFor,
} from '../servers/index.js';
import { expectOneFailureStreak, RecordingLogger } from './recording-logger.js';

let kube: KubeApiserver;
let k8s: KubeClient;

beforeAll(async () => {
  kube = await startKubeApiserver();
  k8s = new KubeClient(kube.kubeconfig);
}, 240_000);

afterAll(async () => {
  await kube?.stop();
});

/** A kubeconfig for the same server and token, through `url` (a TcpCutProxy). */
function kubeconfigVia(url: string): string {
  return kube.kubeconfig.replace(kube.url, url);
}

function status(err: unknown): number | undefined {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

/** Creates Pods and EndpointSlices as the EndpointSlice controller would. */
class KubeClient {
  readonly discovery: DiscoveryV1Api;
  readonly core: CoreV1Api;
  constructor(kubeconfig: string) {
    const kc = new KubeConfig();
    kc.loadFromString(kubeconfig);
    this.discovery = kc.makeApiClient(DiscoveryV1Api);
    this.core = kc.makeApiClient(CoreV1Api);
  }

  async upsertSlice(slice: V1EndpointSlice, namespace = 'default'): Promise<void> {
    const name = slice.metadata?.name as string;
    try {
      const current = await this.discovery.readNamespacedEndpointSlice({ name, namespace });
      const body: V1EndpointSlice = {
        ...slice,
        metadata: { ...slice.metadata, resourceVersion: current.metadata?.resourceVersion ?? '' },
      };
      await this.discovery.replaceNamespacedEndpointSlice({ name, namespace, body });
    } catch (err) {
      if (status(err) !== 404) throw err;
      await this.discovery.createNamespacedEndpointSlice({ namespace, body: slice });
    }
  }

  async deleteSlice(name: string, namespace = 'default'): Promise<void> {
    try {
      await this.discovery.deleteNamespacedEndpointSlice({ name, namespace });
    } catch (err) {
      if (status(err) !== 404) throw err;
    }
  }

  async upsertPod(name: string, labels: Record<string, string>, namespace = 'default'): Promise<void> {
    const pod: V1Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace, labels },
      spec: { containers: [{ name: 'app', image: 'weft/test:1' }] },
    };
    try {
      const current = await this.core.readNamespacedPod({ name, namespace });
      const body = { ...current, metadata: { ...current.metadata, labels } };
      await this.core.replaceNamespacedPod({ name, namespace, body });
    } catch (err) {
      if (status(err) !== 404) throw err;
      await this.core.createNamespacedPod({ namespace, body: pod });
    }
  }

  async deletePod(name: string, namespace = 'default'): Promise<void> {
    try {
      await this.core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0 });
    } catch (err) {
      if (status(err) !== 404) throw err;
    }
  }
}

interface EndpointSpec {
  ip: string;
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
  pod?: string;
}

function slice(
  name: string,
  service: string,
  endpoints: readonly EndpointSpec[],
  ports: V1EndpointSlice['ports'] = [{ name: 'http', port: 8080, protocol: 'TCP' }],
): V1EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name,
      labels: { 'kubernetes.io/service-name': service, 'endpointslice.kubernetes.io/managed-by': 'weft-test' },
    },
    addressType: 'IPv4',
    endpoints: endpoints.map((e) => ({
      addresses: [e.ip],
      conditions: {
        ...(e.ready === undefined ? {} : { ready: e.ready }),
        ...(e.serving === undefined ? {} : { serving: e.serving }),
        ...(e.terminating === undefined ? {} : { terminating: e.terminating }),
      },
      ...(e.pod === undefined ? {} : { targetRef: { kind: 'Pod', name: e.pod, namespace: 'default' } }),
    })),
    ports,
  };
}

const tagsToLabels = (tags: readonly string[]): Record<string, string> =>
  Object.fromEntries(tags.map((t) => [t.slice(0, t.indexOf('=')), t.slice(t.indexOf('=') + 1)]));

/** The kit's record as a Pod (its tags as labels) and an EndpointSlice of one endpoint on it. */
async function upsertRecord(r: TestRecord): Promise<void> {
  const name = `${r.service}-${r.name}`;
  await k8s.upsertPod(name, tagsToLabels(r.tags));
  await k8s.upsertSlice(slice(name, r.service, [{ ip: r.host, pod: name }], [{ name: 'http', port: r.port }]));
}

async function removeRecord(r: TestRecord): Promise<void> {
  const name = `${r.service}-${r.name}`;
  await k8s.deleteSlice(name);
  await k8s.deletePod(name);
}

async function sourceFixture(): Promise<SourceFixture> {
  const proxy = await TcpCutProxy.start({ targetPort: kube.port });
  const warnings: AdapterWarning[] = [];
  const source = new KubernetesSource({
    auth: { kubeconfig: kubeconfigVia(proxy.url('https')) },
    podLabelsAsTags: true,
    port: 'http',
    logger: { warn: (w) => warnings.push(w) },
  });
  let bad = 0;
  return {
    source,
    upsert: upsertRecord,
    remove: removeRecord,
    restartServer: () => kube.restart(),
    async disconnect() {
      proxy.refuse(true);
      proxy.cut();
      return async () => proxy.refuse(false);
    },
    async writeBadRecord(service) {
      const name = `${service}-bad-${++bad}`;
      await k8s.upsertSlice(slice(name, service, [{ ip: '10.9.9.9' }], []));
      return { key: name };
    },
    warnings: () => warnings,
    async close() {
      await proxy.close();
    },
  };
}

describeSourceConformance(
  vitest,
  'KubernetesSource (kube-apiserver)',
  { create: sourceFixture, features: { disconnect: true, badRecords: true } },
  { servicePrefix: 'kit', recoveryBoundMs: 60_000 },
);

/** Keeps a source's snapshots and errors for assertions. */
class Recorder {
  snapshots: SourceSnapshot[] = [];
  errors: Error[] = [];
  private readonly sub;
  constructor(source: KubernetesSource) {
    this.sub = source.subscribe({ next: (s) => this.snapshots.push(s), error: (e) => this.errors.push(e) });
  }
  get current(): readonly ServiceInstance[] {
    return this.snapshots.at(-1)?.instances ?? [];
  }
  of(service: string): ServiceInstance[] {
    return this.current.filter((i) => i.service === service);
  }
  describe(service: string): string[] {
    return this.of(service)
      .map((i) => `${i.endpoint.value}:${i.status}`)
      .sort();
  }
  async until(what: string, cond: (r: Recorder) => boolean, timeoutMs = 15_000): Promise<void> {
    await waitFor(() => cond(this), timeoutMs, {
      intervalMs: 20,
      description: `${what}; last snapshot: ${JSON.stringify(this.current.map((i) => `${i.service}@${i.endpoint.value}:${i.status}`))}`,
    });
  }
  close(): void {
    this.sub.unsubscribe();
  }
}

describe('KubernetesSource: EndpointSlice mapping', () => {
  it('maps ready / serving / terminating to UP / STARTING / OUT_OF_SERVICE and merges the slices of a service', async () => {
    const rec = new Recorder(new KubernetesSource({ auth: { kubeconfig: kube.kubeconfig }, services: ['cond-svc'] }));
    try {
      await k8s.upsertSlice(
        slice('cond-svc-a', 'cond-svc', [
          { ip: '10.20.0.1', ready: true, serving: true, terminating: false },
          { ip: '10.20.0.2' }, // conditions unset: ready, as the API says
          { ip: '10.20.0.3', ready: false, serving: false, terminating: false },
        ]),
      );
      await k8s.upsertSlice(
        slice('cond-svc-b', 'cond-svc', [
          { ip: '10.20.0.4', ready: false, serving: true, terminating: true },
          { ip: '10.20.0.5', ready: false, serving: false, terminating: true },
        ]),
      );
      await rec.until('five endpoints from two slices', (r) => r.of('cond-svc').length === 5);
      expect(rec.describe('cond-svc')).toEqual([
        '10.20.0.1:8080:UP',
        '10.20.0.2:8080:UP',
        '10.20.0.3:8080:STARTING',
        '10.20.0.4:8080:OUT_OF_SERVICE',
        '10.20.0.5:8080:OUT_OF_SERVICE',
      ]);
      const draining = rec.of('cond-svc').find((i) => i.endpoint.host === '10.20.0.4');
      expect(draining?.metadata).toMatchObject({ slice: 'cond-svc-b', serving: true, terminating: true });
      // An endpoint turning ready, and a slice going away.
      await k8s.upsertSlice(slice('cond-svc-a', 'cond-svc', [{ ip: '10.20.0.3', ready: true }]));
      await k8s.deleteSlice('cond-svc-b');
      await rec.until('the update and the deletion', (r) => r.describe('cond-svc').join() === '10.20.0.3:8080:UP');
    } finally {
      rec.close();
      await k8s.deleteSlice('cond-svc-a');
      await k8s.deleteSlice('cond-svc-b');
    }
  });

  it('picks the port by name or number; a slice without it, or without ports, is skipped with a coded warning', async () => {
    const ports = [
      { name: 'http', port: 8080, protocol: 'TCP' },
      { name: 'grpc', port: 9090, protocol: 'TCP' },
    ];
    await k8s.upsertSlice(slice('ports-svc-a', 'ports-svc', [{ ip: '10.21.0.1' }], ports));
    await k8s.upsertSlice(slice('ports-svc-b', 'ports-svc', [{ ip: '10.21.0.2' }], [{ name: 'http', port: 8081 }]));
    await k8s.upsertSlice(slice('ports-svc-c', 'ports-svc', [{ ip: '10.21.0.3' }], []));
    const warnings: AdapterWarning[] = [];
    const logger = { warn: (w: AdapterWarning) => warnings.push(w) };
    const auth = { kubeconfig: kube.kubeconfig };
    const byName = new Recorder(new KubernetesSource({ auth, services: ['ports-svc'], port: 'grpc', logger }));
    const byNumber = new Recorder(new KubernetesSource({ auth, services: ['ports-svc'], port: 8081 }));
    const first = new Recorder(new KubernetesSource({ auth, services: ['ports-svc'] }));
    try {
      await byName.until('the grpc port', (r) => r.of('ports-svc').length === 1);
      expect(byName.describe('ports-svc')).toEqual(['10.21.0.1:9090:UP']);
      await byNumber.until('port 8081', (r) => r.of('ports-svc').length === 1);
      expect(byNumber.describe('ports-svc')).toEqual(['10.21.0.2:8081:UP']);
      await first.until('the first port of each slice', (r) => r.of('ports-svc').length === 2);
      expect(first.describe('ports-svc')).toEqual(['10.21.0.1:8080:UP', '10.21.0.2:8081:UP']);
      const codes = warnings.map((w) => `${w.code} ${w.object}`).sort();
      expect(codes).toEqual([
        'WEFT_WARN_K8S_PORT_NOT_FOUND EndpointSlice default/ports-svc-b',
        'WEFT_WARN_K8S_SLICE_WITHOUT_PORTS EndpointSlice default/ports-svc-c',
      ]);
    } finally {
      for (const r of [byName, byNumber, first]) r.close();
      for (const n of ['ports-svc-a', 'ports-svc-b', 'ports-svc-c']) await k8s.deleteSlice(n);
    }
  });

  it('pod labels become key=value tags when asked (read through the targetRef)', async () => {
    await k8s.upsertPod('labels-pod-1', { app: 'reviews', version: 'v2' });
    await k8s.upsertSlice(
      slice('labels-svc-a', 'labels-svc', [{ ip: '10.22.0.1', pod: 'labels-pod-1' }, { ip: '10.22.0.2' }]),
    );
    const auth = { kubeconfig: kube.kubeconfig };
    const withTags = new Recorder(new KubernetesSource({ auth, services: ['labels-svc'], podLabelsAsTags: true }));
    const without = new Recorder(new KubernetesSource({ auth, services: ['labels-svc'] }));
    try {
      await withTags.until('both endpoints', (r) => r.of('labels-svc').length === 2);
      const tagged = withTags.of('labels-svc').find((i) => i.endpoint.host === '10.22.0.1');
      expect(tagged?.tags).toEqual(['app=reviews', 'version=v2']);
      expect(tagged?.metadata.pod).toBe('labels-pod-1');
      expect(withTags.of('labels-svc').find((i) => i.endpoint.host === '10.22.0.2')?.tags).toEqual([]);
      await without.until('both endpoints', (r) => r.of('labels-svc').length === 2);
      expect(without.of('labels-svc').every((i) => i.tags.length === 0)).toBe(true);
    } finally {
      withTags.close();
      without.close();
      await k8s.deleteSlice('labels-svc-a');
      await k8s.deletePod('labels-pod-1');
    }
  });

  it('watches another namespace, or all of them', async () => {
    try {
      await k8s.core.createNamespace({ body: { metadata: { name: 'weft-other' } } });
    } catch (err) {
      if (status(err) !== 409) throw err;
    }
    await k8s.upsertSlice(slice('ns-svc-a', 'ns-svc', [{ ip: '10.23.0.1' }]), 'weft-other');
    await k8s.upsertSlice(slice('ns-svc-b', 'ns-svc', [{ ip: '10.23.0.2' }]));
    const auth = { kubeconfig: kube.kubeconfig };
    const other = new Recorder(new KubernetesSource({ auth, services: ['ns-svc'], namespace: 'weft-other' }));
    const all = new Recorder(new KubernetesSource({ auth, services: ['ns-svc'], namespace: '*' }));
    try {
      await other.until('the slice of weft-other', (r) => r.of('ns-svc').length === 1);
      expect(other.of('ns-svc')[0]?.namespace).toBe('weft-other');
      await all.until('both namespaces', (r) => r.of('ns-svc').length === 2);
    } finally {
      other.close();
      all.close();
      await k8s.deleteSlice('ns-svc-a', 'weft-other');
      await k8s.deleteSlice('ns-svc-b');
    }
  });
});

describe('KubernetesSource: authentication paths', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'weft-kube-auth-'));
    try {
      await k8s.core.createNamespace({ body: { metadata: { name: 'weft-ctx' } } });
    } catch (err) {
      if (status(err) !== 409) throw err;
    }
    await k8s.upsertSlice(slice('auth-svc-a', 'auth-svc', [{ ip: '10.30.0.1' }]));
    await k8s.upsertSlice(slice('auth-svc-b', 'auth-svc', [{ ip: '10.30.0.2' }]), 'weft-ctx');
  });
  afterAll(async () => {
    await k8s.deleteSlice('auth-svc-a');
    await k8s.deleteSlice('auth-svc-b', 'weft-ctx');
    await rm(dir, { recursive: true, force: true });
  });

  /** The endpoints of auth-svc the source sees first (waits for one), or its first error. */
  async function firstSight(source: KubernetesSource): Promise<string[] | Error> {
    const rec = new Recorder(source);
    try {
      await waitFor(() => rec.errors.length > 0 || rec.of('auth-svc').length > 0, 15_000, {
        intervalMs: 20,
        description: 'a snapshot with auth-svc, or an error',
      });
      return rec.errors[0] ?? rec.describe('auth-svc');
    } finally {
      rec.close();
    }
  }

  /** Runs `fn` with these environment variables (undefined: unset), then restores them. */
  async function withEnv<T>(vars: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
    const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
    const apply = (v: Record<string, string | undefined>) => {
      for (const [k, x] of Object.entries(v)) {
        if (x === undefined) delete process.env[k];
        else process.env[k] = x;
      }
    };
    apply(vars);
    try {
      return await fn();
    } finally {
      apply(saved);
    }
  }

  /** A kubeconfig whose current context points at a closed port; context `weft` at the server, namespace weft-ctx. */
  function twoContexts(): string {
    return [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: dead',
      '  cluster: { server: "https://127.0.0.1:1", insecure-skip-tls-verify: true }',
      '- name: weft',
      `  cluster: { server: "${kube.url}", insecure-skip-tls-verify: true }`,
      'users:',
      '- name: admin',
      `  user: { token: "${kube.token}" }`,
      'contexts:',
      '- name: dead',
      '  context: { cluster: dead, user: admin }',
      '- name: weft',
      '  context: { cluster: weft, user: admin, namespace: weft-ctx }',
      'current-context: dead',
      '',
    ].join('\n');
  }

  it('a kubeconfig file; a context other than the current one, whose namespace is the default', async () => {
    expect(
      await firstSight(new KubernetesSource({ auth: { kubeconfigPath: kube.kubeconfigPath }, services: ['auth-svc'] })),
    ).toEqual(['10.30.0.1:8080:UP']);
    const path = join(dir, 'two-contexts.yaml');
    await writeFile(path, twoContexts(), { mode: 0o600 });
    expect(
      await firstSight(
        new KubernetesSource({ auth: { kubeconfigPath: path, context: 'weft' }, services: ['auth-svc'] }),
      ),
    ).toEqual(['10.30.0.2:8080:UP']);
    expect(
      await firstSight(
        new KubernetesSource({ auth: { kubeconfig: twoContexts(), context: 'weft' }, services: ['auth-svc'] }),
      ),
    ).toEqual(['10.30.0.2:8080:UP']);
  });

  it('says which setting is wrong: an unknown context, a missing file, text that is not a kubeconfig', async () => {
    const path = join(dir, 'ctx.yaml');
    await writeFile(path, twoContexts(), { mode: 0o600 });
    const unknown = await firstSight(
      new KubernetesSource({ auth: { kubeconfigPath: path, context: 'prod' }, services: ['auth-svc'] }),
    );
    expect(unknown).toMatchObject({ code: 'WEFT_ERR_INVALID_ARGUMENT' });
    expect(String(unknown)).toMatch(/auth\.context: no context "prod" in the kubeconfig \(it has "dead", "weft"\)/);
    const missing = await firstSight(
      new KubernetesSource({ auth: { kubeconfigPath: join(dir, 'nope.yaml') }, services: ['auth-svc'] }),
    );
    expect(String(missing)).toMatch(/auth\.kubeconfigPath: cannot load ".*nope\.yaml"/);
    const garbage = await firstSight(
      new KubernetesSource({ auth: { kubeconfig: '{ not: [yaml' }, services: ['auth-svc'] }),
    );
    expect(String(garbage)).toMatch(/auth\.kubeconfig: is not a valid kubeconfig/);
  });

  it('no auth: the KUBECONFIG variable, as kubectl reads it', async () => {
    const seen = await withEnv({ KUBECONFIG: kube.kubeconfigPath }, () =>
      firstSight(new KubernetesSource({ services: ['auth-svc'] })),
    );
    expect(seen).toEqual(['10.30.0.1:8080:UP']);
  });

  it('a KubeConfig built by the caller; anything else is refused', async () => {
    const kc = new KubeConfig();
    kc.loadFromString(kube.kubeconfig);
    expect(await firstSight(new KubernetesSource({ auth: { kubeConfig: kc }, services: ['auth-svc'] }))).toEqual([
      '10.30.0.1:8080:UP',
    ]);
    const wrong = await firstSight(
      new KubernetesSource({ auth: { kubeConfig: { clusters: [] } }, services: ['auth-svc'] }),
    );
    expect(String(wrong)).toMatch(/auth\.kubeConfig: must be a KubeConfig/);
  });

  it('in cluster: service-account token, CA (TLS verified) and namespace files, the server from the environment', async () => {
    const prefix = join(dir, 'pod');
    const sa = join(prefix, 'var/run/secrets/kubernetes.io/serviceaccount');
    await mkdir(sa, { recursive: true });
    await writeFile(join(sa, 'token'), kube.token);
    // kube-apiserver's self-signed serving certificate, followed by the CA that signed it.
    await writeFile(join(sa, 'ca.crt'), await readFile(join(kube.certDir, 'apiserver.crt')));
    await writeFile(join(sa, 'namespace'), 'weft-ctx');
    const env = { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: String(kube.port) };
    const seen = await withEnv(env, () =>
      firstSight(new KubernetesSource({ auth: { inCluster: true, pathPrefix: prefix }, services: ['auth-svc'] })),
    );
    expect(seen).toEqual(['10.30.0.2:8080:UP']);
    // A CA that did not sign the server's certificate: refused, not silently trusted.
    await writeFile(join(sa, 'ca.crt'), selfSignedCertificate('weft-other-ca').cert);
    const untrusted = await withEnv(env, () =>
      firstSight(new KubernetesSource({ auth: { inCluster: true, pathPrefix: prefix }, services: ['auth-svc'] })),
    );
    expect(untrusted).toBeInstanceOf(Error);
    const why = (untrusted as Error & { cause?: unknown }).cause ?? untrusted;
    expect(String(why)).toMatch(/certificate|self.signed|CERT/i);
  });

  it('in cluster, outside a pod: an error that says what is missing', async () => {
    const seen = await withEnv({ KUBERNETES_SERVICE_HOST: undefined, KUBERNETES_SERVICE_PORT: undefined }, () =>
      firstSight(
        new KubernetesSource({ auth: { inCluster: true, pathPrefix: join(dir, 'no-pod') }, services: ['auth-svc'] }),
      ),
    );
    expect(String(seen)).toMatch(
      /auth\.inCluster: not running in a Kubernetes pod with a service account: KUBERNETES_SERVICE_HOST is not set; KUBERNETES_SERVICE_PORT is not set; .*no-pod\/var\/run\/secrets\/kubernetes\.io\/serviceaccount\/token does not exist/,
    );
  });
});

describe('KubernetesSource: faults', () => {
  it('a cut connection: the error is reported, the watch resumes from its resourceVersion and delivers what it missed', async () => {
    const proxy = await TcpCutProxy.start({ targetPort: kube.port });
    const logger = new RecordingLogger();
    const rec = new Recorder(
      new KubernetesSource({
        auth: { kubeconfig: kubeconfigVia(proxy.url('https')) },
        services: ['cut-svc'],
        // Pods too: two watches, one failure streak (one warning) for the outage.
        podLabelsAsTags: true,
        logger,
      }),
    );
    try {
      await k8s.upsertSlice(slice('cut-svc-a', 'cut-svc', [{ ip: '10.30.0.1' }]));
      await rec.until('the first endpoint', (r) => r.of('cut-svc').length === 1);
      proxy.refuse(true);
      proxy.cut();
      await rec.until('failed attempts after the cut', (r) => r.errors.length >= 3);
      expectOneFailureStreak(logger, { recovered: false });
      await k8s.upsertSlice(slice('cut-svc-a', 'cut-svc', [{ ip: '10.30.0.2' }]));
      await k8s.upsertSlice(slice('cut-svc-b', 'cut-svc', [{ ip: '10.30.0.3', ready: false }]));
      const reconnectAt = Date.now();
      const snapshotsBefore = rec.snapshots.length;
      proxy.refuse(false);
      await rec.until(
        'the changes made while cut off',
        (r) => r.describe('cut-svc').join() === '10.30.0.2:8080:UP,10.30.0.3:8080:STARTING',
      );
      expect(Date.now() - reconnectAt).toBeLessThan(8_000);
      expect(rec.snapshots.length).toBeGreaterThan(snapshotsBefore);
      await waitFor(() => logger.events('watch-recovered') === 1, 5_000, { description: 'the recovery to be logged' });
      expectOneFailureStreak(logger, { recovered: true });
    } finally {
      rec.close();
      await proxy.close();
      await k8s.deleteSlice('cut-svc-a');
      await k8s.deleteSlice('cut-svc-b');
    }
  }, 60_000);

  it('an API server restart mid-watch: reported (observer error + WEFT_WARN_WATCH_RESTART), then the watch resumes and delivers later changes', async () => {
    const warnings: AdapterWarning[] = [];
    const rec = new Recorder(
      new KubernetesSource({
        auth: { kubeconfig: kube.kubeconfig },
        services: ['restart-svc'],
        logger: { warn: (w) => warnings.push(w) },
      }),
    );
    try {
      await k8s.upsertSlice(slice('restart-svc-a', 'restart-svc', [{ ip: '10.31.0.1' }]));
      await rec.until('the first endpoint', (r) => r.of('restart-svc').length === 1);
      await kube.restart();
      const restartedAt = Date.now();
      await k8s.upsertSlice(slice('restart-svc-a', 'restart-svc', [{ ip: '10.31.0.1' }, { ip: '10.31.0.2' }]));
      await rec.until('a change after the restart', (r) => r.of('restart-svc').length === 2, 60_000);
      expect(Date.now() - restartedAt).toBeLessThan(60_000);
      expect(rec.errors.length).toBeGreaterThan(0);
      expect(warnings.some((w) => w.code === 'WEFT_WARN_WATCH_RESTART')).toBe(true);
      await k8s.deleteSlice('restart-svc-a');
      await rec.until('a second change after the restart', (r) => r.of('restart-svc').length === 0);
    } finally {
      rec.close();
      await k8s.deleteSlice('restart-svc-a');
    }
  }, 240_000);
});

describe('KubernetesSource: 410 Gone (watch cache off, etcd compacted)', () => {
  let bare: KubeApiserver;
  let client: KubeClient;
  beforeAll(async () => {
    // Without the watch cache, watches are served by etcd itself, so a compaction makes an old
    // resourceVersion unservable: the watch answers 410 Gone ("too old resource version").
    bare = await startKubeApiserver({ extraArgs: ['--watch-cache=false', '--etcd-compaction-interval=0'] });
    client = new KubeClient(bare.kubeconfig);
  }, 240_000);
  afterAll(async () => {
    await bare?.stop();
  });

  it('resuming from a compacted resourceVersion relists and delivers the state it missed', async () => {
    const proxy = await TcpCutProxy.start({ targetPort: bare.port });
    const warnings: AdapterWarning[] = [];
    const rec = new Recorder(
      new KubernetesSource({
        auth: { kubeconfig: bare.kubeconfig.replace(bare.url, proxy.url('https')) },
        services: ['gone-svc'],
        logger: { warn: (w) => warnings.push(w) },
      }),
    );
    try {
      await client.upsertSlice(slice('gone-svc-a', 'gone-svc', [{ ip: '10.32.0.1' }]));
      await rec.until('the first endpoint', (r) => r.of('gone-svc').length === 1);
      proxy.refuse(true);
      proxy.cut();
      await rec.until('an error after the cut', (r) => r.errors.length > 0);
      // What the source misses: a new slice, and the old one gone.
      await client.upsertSlice(slice('gone-svc-b', 'gone-svc', [{ ip: '10.32.0.2' }]));
      await client.deleteSlice('gone-svc-a');
      const compactedTo = await bare.etcd.compact();
      expect(compactedTo).toBeGreaterThan(0);
      const reconnectAt = Date.now();
      proxy.refuse(false);
      await rec.until('the state missed while cut off', (r) => r.describe('gone-svc').join() === '10.32.0.2:8080:UP');
      expect(Date.now() - reconnectAt).toBeLessThan(10_000);
      const relist = warnings.find((w) => w.code === 'WEFT_WARN_WATCH_RELIST');
      expect(relist?.message).toMatch(/410/);
      // And it watches on from the new list.
      await client.upsertSlice(slice('gone-svc-b', 'gone-svc', [{ ip: '10.32.0.2' }, { ip: '10.32.0.3' }]));
      await rec.until('a change after the relist', (r) => r.of('gone-svc').length === 2);
    } finally {
      rec.close();
      await proxy.close();
      await client.deleteSlice('gone-svc-a');
      await client.deleteSlice('gone-svc-b');
    }
  }, 60_000);
});
