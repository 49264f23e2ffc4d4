/**
 * Authorization policies at the gateway, over real sockets: client addresses (distinct loopback
 * addresses), paths and methods, verified workload identities over mTLS (a caller without a
 * certificate, with another service's, with one from another CA, with an expired one), policy
 * swaps, and what a refusal looks like (403, coded body, access log, metrics).
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isWeftError } from '@weft/core';
import { request } from 'undici';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type AuthorizationInput,
  MemoryAccessLog,
  MeshAgent,
  Sidecar,
  type SidecarOptions,
} from '../../packages/proxy/src/index.js';
import { discoveryOf, type Upstream, upstreams } from './helpers.js';
import { type Pem, type TestCa, testCa } from './test-certificates.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()?.();
});

async function gateway(authorization: AuthorizationInput | undefined, options: Partial<SidecarOptions> = {}) {
  const [up] = (await upstreams('u', 1)) as [Upstream];
  const d = discoveryOf([['svc', [up]]]);
  const log = new MemoryAccessLog();
  const sidecar = new Sidecar({
    discovery: d.discovery,
    port: 0,
    admin: { port: 0 },
    accessLog: log,
    ...(authorization === undefined ? {} : { authorization }),
    ...options,
  });
  const { port, adminPort } = await sidecar.listen();
  cleanup.push(async () => {
    await sidecar.close();
    await up.close();
  });
  return { up, sidecar, port, adminPort: adminPort as number, log, discovery: d.discovery };
}

interface Answer {
  status: number;
  body: string;
}

function collect(resolve: (a: Answer) => void) {
  return (res: import('node:http').IncomingMessage) => {
    const parts: Buffer[] = [];
    res.on('data', (d: Buffer) => parts.push(d));
    res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString() }));
  };
}

/** A request through the gateway from `localAddress` (one of the machine's loopback addresses). */
function call(port: number, path: string, localAddress = '127.0.0.1', method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method, localAddress, agent: false }, collect(resolve));
    req.on('error', reject);
    req.end();
  });
}

/** An HTTPS request presenting `client` (or no certificate). */
function callTls(port: number, path: string, ca: string, client?: Pem): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: '127.0.0.1', port, path, ca, agent: false, ...(client === undefined ? {} : client) },
      collect(resolve),
    );
    req.on('error', reject);
    req.end();
  });
}

const blockOne = {
  policies: [{ id: 'block-lab', destination: '*', action: 'deny', from: [{ ipBlocks: ['127.0.0.2/32'] }] }],
};

describe('authorization at the gateway, by client address', () => {
  it('refuses a denied address with 403 and a coded body, never reaching the upstream; its neighbour passes', async () => {
    const { up, port, log } = await gateway(blockOne);
    const refused = await call(port, '/svc/a', '127.0.0.2');
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body)).toMatchObject({
      code: 'WEFT_ERR_FORBIDDEN',
      status: 403,
      service: 'svc',
      policy: 'block-lab',
      reason: 'denied by policy "block-lab"',
      error: 'GET svc/a refused: denied by policy "block-lab"',
    });
    expect(up.hits).toBe(0);
    expect(log.records.at(-1)).toMatchObject({ status: 403, error_code: 'WEFT_ERR_FORBIDDEN', attempts: 0 });
    expect((await call(port, '/svc/a', '127.0.0.3')).status).toBe(200);
    expect(up.hits).toBe(1);
  });

  it('counts refusals in weft_authz_denied_total', async () => {
    const { port, adminPort } = await gateway(blockOne);
    await call(port, '/svc/a', '127.0.0.2');
    await call(port, '/svc/b', '127.0.0.2');
    await call(port, '/svc/c', '127.0.0.4');
    const metrics = await (await request(`http://127.0.0.1:${adminPort}/metrics`)).body.text();
    expect(metrics).toContain('weft_authz_denied_total{service="svc"} 2');
  });

  it('judges paths and methods under default deny', async () => {
    const { port } = await gateway({
      defaultAction: 'deny',
      policies: [
        {
          id: 'public',
          destination: 'svc',
          action: 'allow',
          to: [{ methods: ['GET'], paths: [{ prefix: '/public/' }] }],
        },
      ],
    });
    expect((await call(port, '/svc/public/x')).status).toBe(200);
    expect((await call(port, '/svc/public/x', '127.0.0.1', 'DELETE')).status).toBe(403);
    expect((await call(port, '/svc/private')).status).toBe(403);
  });

  it('swaps policies whole: the next request is judged by the new set; a bad set is refused and the old stays', async () => {
    const { sidecar, port } = await gateway(undefined);
    expect((await call(port, '/svc/a', '127.0.0.2')).status).toBe(200);
    sidecar.setAuthorization(blockOne);
    expect((await call(port, '/svc/a', '127.0.0.2')).status).toBe(403);
    let err: unknown;
    try {
      sidecar.setAuthorization({
        policies: [{ id: 'x', destination: 'svc', action: 'allow', from: [{ ipBlocks: ['nope'] }] }],
      });
    } catch (e) {
      err = e;
    }
    expect(isWeftError(err, 'WEFT_ERR_INVALID_ARGUMENT')).toBe(true);
    expect((err as { issues: { path: string }[] }).issues[0]?.path).toBe('policies[0].from[0].ipBlocks[0]');
    expect((await call(port, '/svc/a', '127.0.0.2')).status).toBe(403);
    sidecar.setAuthorization(undefined);
    expect((await call(port, '/svc/a', '127.0.0.2')).status).toBe(200);
  });

  it('does not judge the calls an application makes itself through MeshAgent', async () => {
    const [up] = (await upstreams('m', 1)) as [Upstream];
    const d = discoveryOf([['svc', [up]]]);
    const agent = new MeshAgent({ discovery: d.discovery, authorization: { defaultAction: 'deny', policies: [] } });
    cleanup.push(async () => {
      await agent.close();
      await up.close();
    });
    const res = await request('http://svc/x', { dispatcher: agent });
    await res.body.text();
    expect(res.statusCode).toBe(200);
  });
});

describe('authorization at an mTLS gateway, by workload identity', () => {
  let ca: TestCa;
  let server: Pem;
  let productpage: Pem;
  let details: Pem;
  let expired: Pem;
  let stranger: Pem;

  beforeAll(async () => {
    ca = await testCa();
    server = await ca.issue('gateway', { ip: '127.0.0.1' });
    productpage = await ca.issue('productpage', { uri: 'spiffe://weft.local/ns/default/svc/productpage' });
    details = await ca.issue('details', { uri: 'spiffe://weft.local/ns/default/svc/details' });
    expired = await ca.issue(
      'productpage',
      { uri: 'spiffe://weft.local/ns/default/svc/productpage' },
      { notBefore: new Date(Date.now() - 7_200_000), notAfter: new Date(Date.now() - 3_600_000) },
    );
    const otherCa = await testCa('another CA');
    stranger = await otherCa.issue('productpage', { uri: 'spiffe://weft.local/ns/default/svc/productpage' });
  });

  async function mtlsGateway() {
    return gateway(
      {
        defaultAction: 'deny',
        policies: [{ id: 'pp-only', destination: 'svc', action: 'allow', from: [{ services: ['productpage'] }] }],
      },
      // Unverified clients still complete the handshake, so the policy (not TLS) answers them, with a reason.
      { tls: { key: server.key, cert: server.cert, ca: ca.cert, requestCert: true, rejectUnauthorized: false } },
    );
  }

  it('lets the allowed identity through', async () => {
    const { port, up } = await mtlsGateway();
    expect((await callTls(port, '/svc/a', ca.cert, productpage)).status).toBe(200);
    expect(up.hits).toBe(1);
  });

  it.each([
    [
      'another service’s certificate',
      () => details,
      'caller spiffe://weft.local/ns/default/svc/details is not one of services productpage',
    ],
    ['no certificate', () => undefined, 'caller is not authenticated (needs one of services productpage)'],
    ['a certificate of another CA', () => stranger, 'caller is not authenticated (needs one of services productpage)'],
    ['an expired certificate', () => expired, 'caller is not authenticated (needs one of services productpage)'],
  ])('refuses %s', async (_name, client, reason) => {
    const { port, up } = await mtlsGateway();
    const res = await callTls(port, '/svc/a', ca.cert, client());
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body)).toMatchObject({
      code: 'WEFT_ERR_FORBIDDEN',
      reason: `no allow policy for svc matched; "pp-only": ${reason}`,
    });
    expect(up.hits).toBe(0);
  });
});
