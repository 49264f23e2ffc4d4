/**
 * `weft sidecar` with `registry.type: kubernetes` on a real kube-apiserver: the proxy's endpoints
 * come from the EndpointSlices (pod labels as tags, so version rules work), the rules from a
 * `weft control-plane`, and registration is Kubernetes' own — the sidecar writes nothing, and its
 * admin `/ready` (the pod's readinessProbe) follows the app's health checks.
 */
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, DiscoveryV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KubeApiserver, startKubeApiserver } from '../servers/index.js';
import { listeningUrl, startWeft, type WeftProcess } from '../servers-cli/weft-process.js';
import { get, killAll, sidecarUrls, until } from './helpers.js';

/**
 * Kubernetes refuses loopback addresses in EndpointSlices, so the app listens on the machine's
 * own address (these machines have one, though no route out).
 */
const hostIp = Object.values(networkInterfaces())
  .flat()
  .find((i) => i?.family === 'IPv4' && !i.internal)?.address;

const started: WeftProcess[] = [];
let kube: KubeApiserver;
let app: Server;
let healthy = true;
let sidecar: { process: WeftProcess; proxy: string; admin: string };
let controlPlane: string;

beforeAll(async () => {
  kube = await startKubeApiserver();
  app = createServer((req, res) => {
    if (req.url === '/health') res.statusCode = healthy ? 200 : 500;
    res.end(`k8s app saw ${req.url}`);
  });
  if (hostIp === undefined) throw new Error('this machine has no non-loopback IPv4 address for an EndpointSlice');
  await new Promise<void>((resolve) => app.listen(0, hostIp, resolve));
  const appPort = (app.address() as { port: number }).port;

  // What the EndpointSlice controller would have written for a ready pod labelled version=v1.
  const kc = new KubeConfig();
  kc.loadFromString(kube.kubeconfig);
  await kc.makeApiClient(CoreV1Api).createNamespacedPod({
    namespace: 'default',
    body: {
      metadata: { name: 'web-1', labels: { app: 'web', version: 'v1' } },
      spec: { containers: [{ name: 'app', image: 'weft/test:1' }] },
    },
  });
  await kc.makeApiClient(DiscoveryV1Api).createNamespacedEndpointSlice({
    namespace: 'default',
    body: {
      metadata: { name: 'web-abc', labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4',
      endpoints: [
        {
          addresses: [hostIp],
          conditions: { ready: true },
          targetRef: { kind: 'Pod', name: 'web-1', namespace: 'default' },
        },
      ],
      ports: [{ name: 'http', port: appPort, protocol: 'TCP' }],
    },
  });

  const cp = startWeft(['control-plane', '--port', '0', '--log-level', 'warn']);
  started.push(cp);
  controlPlane = await listeningUrl(cp);
  const kubeconfig = join(kube.dir, 'weft-sidecar.kubeconfig');
  writeFileSync(kubeconfig, kube.kubeconfig);
  const process = startWeft([
    'sidecar',
    '--registry-type',
    'kubernetes',
    '--registry-kubeconfig',
    kubeconfig,
    '--controller-url',
    controlPlane,
    '--service-name',
    'web',
    '--endpoint-port',
    String(appPort),
    '--healthchecks',
    `http://${hostIp}:${appPort}/health`,
    '--health-interval',
    '150ms',
    '--proxy-port',
    '0',
    '--admin-port',
    '0',
  ]);
  started.push(process);
  sidecar = { process, ...(await sidecarUrls(process)) };
}, 180_000);

afterAll(async () => {
  await killAll(started);
  await new Promise((r) => app?.close(r));
  await kube?.stop();
});

describe('weft sidecar with registry.type kubernetes', () => {
  it("routes to the service's EndpointSlices, with pod labels as tags for the rules", async () => {
    const answer = await until('the proxy to route from the EndpointSlice', async () => {
      const res = await get(`${sidecar.proxy}/web/hello`);
      return res.status === 200 ? res.body : undefined;
    });
    expect(answer).toBe('k8s app saw /hello');
    // A rule that needs the pod's version label to be a tag.
    const rules = await fetch(`${controlPlane}/v1/rules`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        rules: [{ id: 'web-v2-only', destination: 'web', route: { backends: [{ tags: ['version=v2'] }] } }],
      }),
    });
    expect(rules.status).toBe(201);
    await until('the rule to leave no v2 instance', async () =>
      (await get(`${sidecar.proxy}/web/hello`)).status === 503 ? true : undefined,
    );
    await fetch(`${controlPlane}/v1/rules?id=web-v2-only`, { method: 'DELETE' });
    await until('the default route again', async () =>
      (await get(`${sidecar.proxy}/web/hello`)).status === 200 ? true : undefined,
    );
  });

  it('leaves registration to Kubernetes: /ready follows the health checks', async () => {
    expect(sidecar.process.stderr()).toContain(
      "web: registered by Kubernetes, not by the sidecar: point the pod's readinessProbe",
    );
    expect((await get(`${sidecar.admin}/ready`)).status).toBe(200);
    healthy = false;
    const notReady = await until('/ready to fail', async () => {
      const res = await get(`${sidecar.admin}/ready`);
      return res.status === 503 ? res.body : undefined;
    });
    expect(JSON.parse(notReady)).toMatchObject({ ready: false, healthy: false, draining: false });
    const health = JSON.parse((await get(`${sidecar.admin}/health`)).body) as { registration: unknown };
    expect(health.registration).toBeNull();
    healthy = true;
    await until('/ready again', async () => ((await get(`${sidecar.admin}/ready`)).status === 200 ? true : undefined));
  });

  it('refuses registry.url with registry.type kubernetes, naming the setting', async () => {
    const p = startWeft(['sidecar', '--registry-type', 'kubernetes', '--registry-url', 'http://x:1', '--no-register']);
    expect(await p.exited).toBe(2);
    expect(p.stderr()).toContain('registry.url');
    expect(p.stderr()).toContain('is not used with registry.type kubernetes');
  });
});
