/**
 * mTLS between proxies, as real `weft` processes: one control plane issuing short-lived workload
 * certificates (4 s, renewed every 2 s), and apps a, b and c each behind a `weft sidecar
 * --identity-enabled`. b's sidecar has a permissive inbound listener, c's a strict one; a and c
 * call out through their own sidecars. The apps are plain HTTP servers of this test.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:tls';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listeningUrl, startWeft, type WeftProcess } from '../servers-cli/weft-process.js';
import { freePort, health, killAll, registered, sidecarUrls, until } from './helpers.js';

const TD = 'spiffe://weft.local/ns/default/svc';
const started: WeftProcess[] = [];
const apps: Server[] = [];
let controlPlane: string;
/** The outbound proxies of a's and c's sidecars. */
let aProxy: string;
let cProxy: string;
/** The inbound listeners of b's (permissive) and c's (strict) sidecars. */
let bInbound: number;
let cInbound: number;
let bSidecar: WeftProcess;
let bAdmin: string;
/** The admin listeners of a's (no inbound listener) and c's sidecars. */
let aAdmin: string;
let cAdmin: string;

/** An app: answers with what it received (plain HTTP, the caller as its sidecar names it). */
async function app(name: string): Promise<number> {
  const server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({
        app: name,
        url: req.url,
        xfcc: req.headers['x-forwarded-client-cert'] ?? null,
        proto: req.headers['x-forwarded-proto'] ?? null,
      }),
    );
  });
  apps.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

function sidecar(service: string, extra: string[]): WeftProcess {
  const p = startWeft([
    'sidecar',
    '--service-name',
    service,
    '--registry-url',
    controlPlane,
    '--endpoint-host',
    '127.0.0.1',
    '--proxy-port',
    '0',
    '--admin-port',
    '0',
    '--identity-enabled',
    '--log-level',
    'warn',
    ...extra,
  ]);
  started.push(p);
  return p;
}

interface Answer {
  status: number;
  body: { app?: string; url?: string; xfcc?: string | null; proto?: string | null; code?: string; policy?: string };
}

async function call(url: string, dispatcher?: Agent): Promise<Answer> {
  const res = await request(url, { ...(dispatcher === undefined ? {} : { dispatcher }), headersTimeout: 5000 });
  const text = await res.body.text();
  return { status: res.statusCode, body: JSON.parse(text) as Answer['body'] };
}

/** The registry's instance of a service once it announces its identity, else undefined. */
async function announced(
  service: string,
): Promise<{ endpoint: { value: string }; metadata?: Record<string, unknown> } | undefined> {
  const list = (await registered(controlPlane, service)) as Array<{
    endpoint: { value: string };
    metadata?: Record<string, unknown>;
  }>;
  return list.find((i) => i.metadata?.weft_mtls !== undefined);
}

/** The serial number of the certificate a TLS listener presents to a new connection (no client certificate: permissive). */
function servedSerial(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      const serial = socket.getPeerX509Certificate()?.serialNumber ?? '';
      socket.destroy();
      resolve(serial);
    });
    socket.on('error', reject);
  });
}

beforeAll(async () => {
  const cp = startWeft(['control-plane', '--port', '0', '--log-level', 'warn', '--identity-cert-ttl', '4s']);
  started.push(cp);
  controlPlane = await listeningUrl(cp);
  const [aPort, bPort, cPort] = await Promise.all([app('a'), app('b'), app('c')]);
  [bInbound, cInbound] = await Promise.all([freePort(), freePort()]);
  // a calls out only: its sidecar registers nothing.
  const a = sidecar('a', ['--no-register', '--endpoint-port', String(aPort)]);
  bSidecar = sidecar('b', [
    '--endpoint-port',
    String(bPort),
    '--inbound-port',
    String(bInbound),
    '--inbound-host',
    '127.0.0.1',
  ]);
  const c = sidecar('c', [
    '--endpoint-port',
    String(cPort),
    '--inbound-port',
    String(cInbound),
    '--inbound-host',
    '127.0.0.1',
    '--mtls-mode',
    'strict',
  ]);
  const urls = await Promise.all([sidecarUrls(a), sidecarUrls(c), sidecarUrls(bSidecar)]);
  [aProxy, cProxy] = urls.map((u) => u.proxy) as [string, string];
  bAdmin = (urls[2] as { admin: string }).admin;
  [aAdmin, cAdmin] = [(urls[0] as { admin: string }).admin, (urls[1] as { admin: string }).admin];
  // Registered once the inbound listeners have their certificates, with the listener's port.
  const [b, cc] = await Promise.all([
    until('b registered with its identity', () => announced('b'), 20_000),
    until('c registered with its identity', () => announced('c'), 20_000),
  ]);
  expect(b).toMatchObject({ endpoint: { value: `127.0.0.1:${bInbound}` }, metadata: { weft_mtls: `${TD}/b` } });
  expect(cc).toMatchObject({ endpoint: { value: `127.0.0.1:${cInbound}` }, metadata: { weft_mtls: `${TD}/c` } });
}, 40_000);

afterAll(async () => {
  await killAll(started);
  await Promise.all(apps.map((s) => new Promise((r) => s.close(r))));
});

describe('weft sidecar with an inbound mTLS listener', () => {
  it('carries a → b over mTLS: b sees plain HTTP and x-forwarded-client-cert naming a', async () => {
    const answer = await until('a’s sidecar to reach b', async () => {
      const r = await call(`${aProxy}/b/hello?x=1`).catch(() => undefined);
      return r?.status === 200 ? r : undefined;
    });
    expect(answer.body).toMatchObject({ app: 'b', url: '/hello?x=1', proto: 'https' });
    expect(answer.body.xfcc).toMatch(new RegExp(`URI=${TD}/a$`));
  });

  it('permissive: b’s inbound port also serves a plaintext caller, without an identity', async () => {
    const answer = await call(`http://127.0.0.1:${bInbound}/plain`);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ app: 'b', url: '/plain', xfcc: null, proto: 'http' });
  });

  it('strict: c’s inbound port refuses a plaintext caller (403 coded) and serves a over mTLS', async () => {
    const refused = await call(`http://127.0.0.1:${cInbound}/plain`);
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('WEFT_ERR_FORBIDDEN');
    const answer = await until('a’s sidecar to reach c', async () => {
      const r = await call(`${aProxy}/c/x`).catch(() => undefined);
      return r?.status === 200 ? r : undefined;
    });
    expect(answer.body.xfcc).toMatch(new RegExp(`URI=${TD}/a$`));
  });

  it('a policy that lets only a call b refuses c (403 coded) while a passes', async () => {
    const put = await fetch(`${controlPlane}/v1/authorization`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        policies: [{ id: 'only-a', destination: 'b', action: 'allow', from: [{ services: ['a'] }] }],
      }),
    });
    expect(put.status).toBe(200);
    try {
      const refused = await until('the policy to reach b’s inbound listener', async () => {
        const r = await call(`${cProxy}/b/x`);
        return r.status === 403 ? r : undefined;
      });
      expect(refused.body).toMatchObject({ code: 'WEFT_ERR_FORBIDDEN' });
      expect((await call(`${aProxy}/b/x`)).status).toBe(200);
      // A plaintext caller has no identity: the policy does not let it in either.
      expect((await call(`http://127.0.0.1:${bInbound}/x`)).status).toBe(403);
      // Counted by b's inbound listener, beside its outbound proxy's families.
      const metrics = await (await fetch(`${bAdmin}/metrics`)).text();
      expect(metrics).toMatch(/^weft_inbound_authz_denied_total\{service="b"\} [1-9]/m);
      expect(metrics).toMatch(/^weft_inbound_requests_total\{service="b",code="200"\} [1-9]/m);
    } finally {
      await fetch(`${controlPlane}/v1/authorization`, { method: 'DELETE' });
    }
  });

  it('/health shows each sidecar’s identity, and its inbound listener where it has one', async () => {
    interface IdentitySection {
      spiffeId: string;
      notAfter: string;
      renewsInSeconds: number;
      expired: boolean;
      lastError?: unknown;
    }
    const [a, b, c] = await Promise.all([health(aAdmin), health(bAdmin), health(cAdmin)]);
    for (const [name, body] of [
      ['a', a],
      ['b', b],
      ['c', c],
    ] as const) {
      const identity = body.identity as IdentitySection;
      expect(identity).toMatchObject({ spiffeId: `${TD}/${name}`, expired: false });
      expect(identity.lastError).toBeUndefined();
      // 4 s certificates, renewed at half their lifetime: at most 2 s to go, and never past the expiry.
      const left = Date.parse(identity.notAfter) - Date.now();
      expect(left).toBeGreaterThan(0);
      expect(left).toBeLessThanOrEqual(4_000 + 1_000);
      expect(identity.renewsInSeconds).toBeGreaterThanOrEqual(0);
      expect(identity.renewsInSeconds).toBeLessThanOrEqual(2);
      expect(identity.renewsInSeconds * 1000).toBeLessThanOrEqual(left + 500);
    }
    expect(b.inbound).toEqual({ listening: true, port: bInbound, mtls: 'permissive' });
    expect(c.inbound).toEqual({ listening: true, port: cInbound, mtls: 'strict' });
    // a has no inbound listener: no section for it.
    expect(a).not.toHaveProperty('inbound');
  });

  it('loses no request while both ends rotate their certificates under load', async () => {
    const rotations = () =>
      [...bSidecar.stderr().matchAll(new RegExp(`identity: ${TD}/b certificate (\\w+)`, 'g'))].length;
    const before = rotations();
    const dispatcher = new Agent({ connections: 4 });
    let ok = 0;
    const failures: string[] = [];
    const deadline = Date.now() + 5_000;
    const worker = async (): Promise<void> => {
      while (Date.now() < deadline) {
        try {
          const r = await call(`${aProxy}/b/load`, dispatcher);
          if (r.status === 200 && r.body.xfcc?.endsWith(`URI=${TD}/a`)) ok++;
          else failures.push(`${r.status} ${JSON.stringify(r.body)}`);
        } catch (err) {
          failures.push((err as Error).message);
        }
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    await dispatcher.close();
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(50);
    // 4 s certificates are renewed every 2 s: b's certificate changed at least twice meanwhile.
    expect(rotations() - before).toBeGreaterThanOrEqual(2);
    // …and a new connection gets the latest one (the listener swapped its secure context).
    const normal = (serial: string) => serial.toLowerCase().replace(/^0+/, '');
    await until('b’s inbound listener to present its latest certificate', async () => {
      const latest = [...bSidecar.stderr().matchAll(new RegExp(`identity: ${TD}/b certificate (\\w+)`, 'g'))].at(
        -1,
      )?.[1];
      const served = await servedSerial(bInbound);
      return latest !== undefined && normal(served) === normal(latest) ? true : undefined;
    });
  }, 20_000);
});
