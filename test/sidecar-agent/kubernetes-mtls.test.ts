/**
 * mTLS between proxies on Kubernetes, as real `weft` processes on a real kube-apiserver: the
 * Service `web` declares its sidecar's inbound port with `appProtocol: weft.dev/mtls`, and callers'
 * sidecars (`registry.type: kubernetes`) learn from the EndpointSlice that the port speaks mTLS
 * and which identity to demand. The control plane's CA is in the trust domain `prod.example`, given
 * to the sidecars with `--identity-trust-domain`; one caller is left without it, and one without
 * an identity at all, to show how each fails.
 */
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { DiscoveryV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KubeApiserver, startKubeApiserver } from '../servers/index.js';
import { listeningUrl, startWeft, type WeftProcess } from '../servers-cli/weft-process.js';
import { freePort, get, health, killAll, sidecarUrls, until } from './helpers.js';

/** Kubernetes refuses loopback addresses in EndpointSlices: the inbound listener uses the machine's own. */
const hostIp = Object.values(networkInterfaces())
  .flat()
  .find((i) => i?.family === 'IPv4' && !i.internal)?.address;

const TRUST_DOMAIN = 'prod.example';
const started: WeftProcess[] = [];
let kube: KubeApiserver;
let app: Server;
let inboundPort: number;
/** Outbound proxies: with an identity in the right trust domain, without the setting, without identity. */
let client: string;
/** Admin listeners of web's and client's sidecars. */
let webAdmin: string;
let clientAdmin: string;
let unset: WeftProcess;
let unsetProxy: string;
let anonymous: string;

function sidecar(service: string, kubeconfig: string, controlPlane: string, extra: string[]): WeftProcess {
  const p = startWeft([
    'sidecar',
    '--service-name',
    service,
    '--registry-type',
    'kubernetes',
    '--registry-kubeconfig',
    kubeconfig,
    '--controller-url',
    controlPlane,
    '--proxy-port',
    '0',
    '--admin-port',
    '0',
    '--log-level',
    'warn',
    ...extra,
  ]);
  started.push(p);
  return p;
}

beforeAll(async () => {
  if (hostIp === undefined) throw new Error('this machine has no non-loopback IPv4 address for an EndpointSlice');
  kube = await startKubeApiserver();
  app = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ url: req.url, xfcc: req.headers['x-forwarded-client-cert'] ?? null }));
  });
  await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
  const appPort = (app.address() as { port: number }).port;
  inboundPort = await freePort();

  // What the EndpointSlice controller writes for the Service `web` with ports
  // {http: appPort} and {inbound: inboundPort, appProtocol: weft.dev/mtls}, one ready pod.
  const kc = new KubeConfig();
  kc.loadFromString(kube.kubeconfig);
  await kc.makeApiClient(DiscoveryV1Api).createNamespacedEndpointSlice({
    namespace: 'default',
    body: {
      metadata: { name: 'web-abc', labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: [hostIp], conditions: { ready: true } }],
      ports: [
        { name: 'http', port: appPort, protocol: 'TCP' },
        { name: 'inbound', port: inboundPort, protocol: 'TCP', appProtocol: 'weft.dev/mtls' },
      ],
    },
  });

  const cp = startWeft([
    'control-plane',
    '--port',
    '0',
    '--log-level',
    'warn',
    '--identity-trust-domain',
    TRUST_DOMAIN,
  ]);
  started.push(cp);
  const controlPlane = await listeningUrl(cp);
  const kubeconfig = join(kube.dir, 'weft-sidecar-mtls.kubeconfig');
  writeFileSync(kubeconfig, kube.kubeconfig);
  const td = ['--identity-trust-domain', TRUST_DOMAIN];
  // web's own sidecar: strict, so nothing reaches the app without a certificate of the mesh.
  const web = sidecar('web', kubeconfig, controlPlane, [
    ...td,
    '--identity-enabled',
    '--endpoint-port',
    String(appPort),
    '--inbound-port',
    String(inboundPort),
    '--inbound-host',
    hostIp,
    '--mtls-mode',
    'strict',
  ]);
  const callers = [
    sidecar('client', kubeconfig, controlPlane, [...td, '--identity-enabled', '--no-register']),
    sidecar('client', kubeconfig, controlPlane, ['--identity-enabled', '--no-register']),
    sidecar('anonymous', kubeconfig, controlPlane, ['--no-register']),
  ];
  unset = callers[1] as WeftProcess;
  const urls = await Promise.all([web, ...callers].map((p) => sidecarUrls(p)));
  [client, unsetProxy, anonymous] = urls.slice(1).map((u) => u.proxy) as [string, string, string];
  [webAdmin, clientAdmin] = [urls[0]?.admin as string, urls[1]?.admin as string];
}, 240_000);

afterAll(async () => {
  await killAll(started);
  await new Promise((r) => app?.close(r));
  await kube?.stop();
});

interface Answer {
  url?: string;
  xfcc?: string | null;
  code?: string;
}

describe('weft sidecar with registry.type kubernetes and a Service port marked weft.dev/mtls', () => {
  it('reaches the marked port over mTLS, proving the caller’s identity to the strict listener', async () => {
    // Not before both have their first certificate: a call made earlier fails its connection, and
    // outlier detection would then set web's only endpoint aside for a while.
    await until(
      'web’s inbound listener and client’s certificate',
      async () => {
        const [w, c] = await Promise.all([health(webAdmin), health(clientAdmin)]);
        const listening = (w.inbound as { listening?: boolean } | undefined)?.listening === true;
        const certified = (c.identity as { notAfter?: string | null } | undefined)?.notAfter != null;
        return listening && certified ? true : undefined;
      },
      45_000,
    );
    let last = '';
    const answer = await until(
      'client’s sidecar to reach web over mTLS',
      async () => {
        const r = await get(`${client}/web/hello`).catch((err: Error) => ({ status: 0, body: err.message }));
        last = `${r.status} ${r.body}`;
        return r.status === 200 ? (JSON.parse(r.body) as Answer) : undefined;
      },
      45_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; last answer: ${last}`);
    });
    expect(answer.url).toBe('/hello');
    expect(answer.xfcc).toMatch(new RegExp(`URI=spiffe://${TRUST_DOMAIN}/ns/default/svc/client$`));
  }, 60_000);

  it('a caller without an identity sends plain HTTP to that port: the strict listener refuses it (403 coded)', async () => {
    const refused = await until('anonymous’s sidecar to get an answer', async () => {
      const r = await get(`${anonymous}/web/hello`).catch(() => undefined);
      return r?.status === 403 ? (JSON.parse(r.body) as Answer) : undefined;
    });
    expect(refused.code).toBe('WEFT_ERR_FORBIDDEN');
  });

  it('a caller whose identity.trustDomain is unset announces weft.local: it says so, and its calls fail the identity check', async () => {
    await until('the mismatch to be logged', async () =>
      unset.stderr().includes(`set identity.trustDomain to ${TRUST_DOMAIN}`) ? true : undefined,
    );
    expect(unset.stderr()).toContain(
      `the controller's trust domain is ${TRUST_DOMAIN}, but the Kubernetes source announces weft.local`,
    );
    // Every attempt fails the peer identity check (a connect failure), named in the error answer.
    const r = await get(`${unsetProxy}/web/hello`);
    expect(r.status).toBe(504);
    const body = JSON.parse(r.body) as { code: string; attempts: Array<{ outcome: string; error: string }> };
    expect(body.code).toBe('WEFT_ERR_RETRIES_EXHAUSTED');
    expect(body.attempts.length).toBeGreaterThan(0);
    for (const a of body.attempts) {
      expect(a.outcome).toBe('connect-failure');
      expect(a.error).toBe(
        `the upstream presented spiffe://${TRUST_DOMAIN}/ns/default/svc/web instead of spiffe://weft.local/ns/default/svc/web`,
      );
    }
  });
});
