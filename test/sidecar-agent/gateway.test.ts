/**
 * `weft gateway` as an edge operator runs it: a process with a certificate and key terminating
 * HTTPS in front of services registered in a `weft control-plane`, and a `tcpProxies` listener
 * forwarding raw TCP to a registered service. The upstreams are plain servers of this test,
 * registered through the registry's API as any other language would register them.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect, createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selfSignedCertificate } from '../servers/tls.js';
import { listeningUrl, startWeft, type WeftProcess } from '../servers-cli/weft-process.js';
import { freePort, health, killAll, sidecarUrls, until } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'weft-gateway-'));
const started: WeftProcess[] = [];
const { cert, key } = selfSignedCertificate('localhost');
let controlPlane: string;
let upstream: Server;
let echo: TcpServer;
let gateway: { process: WeftProcess; proxy: string; admin: string; tcpPort: number };

const listen = (server: Server | TcpServer): Promise<number> =>
  new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));

/** Registers an instance with the registry's Amalgam8 API (a TTL that outlives the test). */
async function register(service: string, type: 'http' | 'tcp', port: number): Promise<void> {
  const res = await fetch(`${controlPlane}/api/v1/instances`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ service_name: service, endpoint: { type, value: `127.0.0.1:${port}` }, ttl: 600 }),
  });
  expect(res.status).toBe(201);
}

/** GET over HTTPS, trusting only the test's certificate (and checking its name, localhost). */
function httpsGet(url: string, localAddress?: string): Promise<{ status: number; body: string; encrypted: boolean }> {
  return new Promise((resolve, reject) => {
    const options = { ca: cert, servername: 'localhost', timeout: 5000, agent: false as const, localAddress };
    const req = httpsRequest(url, options, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, encrypted: true }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Sends `text` over a TCP connection and resolves with the first `text.length` characters that come
 * back, then closes. The write side stays open until then: the sidecar's TCP listener does not
 * keep a half-closed connection (a client's FIN ends both directions), so `end(text)` would lose
 * the answer.
 */
function tcpRoundTrip(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    let got = '';
    socket.setEncoding('utf8').on('data', (d: string) => {
      got += d;
      if (got.length >= text.length) {
        socket.end();
        resolve(got);
      }
    });
    socket.on('close', () => resolve(got));
    socket.on('error', reject);
    socket.setTimeout(5000, () => socket.destroy(new Error('timed out')));
  });
}

beforeAll(async () => {
  upstream = createHttpServer((req, res) => {
    res.setHeader('content-type', 'text/plain');
    res.end(`upstream saw ${req.method} ${req.url}`);
  });
  // Echoes what it receives, upper-cased (so the answer cannot be the request coming back
  // unproxied), and ends when the client does.
  echo = createTcpServer((socket) => {
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => socket.write(d.toUpperCase()));
    socket.on('end', () => socket.end());
  });
  const [upstreamPort, echoPort] = await Promise.all([listen(upstream), listen(echo)]);

  const cp = startWeft(['control-plane', '--port', '0', '--log-level', 'warn']);
  started.push(cp);
  controlPlane = await listeningUrl(cp);
  await register('web', 'http', upstreamPort);
  await register('echo', 'tcp', echoPort);

  writeFileSync(join(dir, 'cert.pem'), cert);
  writeFileSync(join(dir, 'key.pem'), key);
  const tcpPort = await freePort();
  const process = startWeft([
    'gateway',
    '--tls-cert',
    join(dir, 'cert.pem'),
    '--tls-key',
    join(dir, 'key.pem'),
    // The gateway's default is 0.0.0.0; the test keeps it on loopback.
    '--proxy-host',
    '127.0.0.1',
    '--proxy-port',
    '0',
    '--admin-port',
    '0',
    '--tcp-proxies',
    `echo:${tcpPort}`,
    '--registry-url',
    controlPlane,
    '--log-level',
    'warn',
  ]);
  started.push(process);
  gateway = { process, ...(await sidecarUrls(process)), tcpPort };
}, 60_000);

afterAll(async () => {
  await killAll(started);
  await Promise.all([new Promise((r) => upstream?.close(r)), new Promise((r) => echo?.close(r))]);
  rmSync(dir, { recursive: true, force: true });
});

describe('weft gateway', () => {
  it('terminates HTTPS with the configured certificate and routes to a registered upstream', async () => {
    expect(gateway.proxy).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const res = await until('the gateway to route to web', async () => {
      const r = await httpsGet(`${gateway.proxy}/web/hello?x=1`);
      return r.status === 200 ? r : undefined;
    });
    // Amalgam8's /<service>/ prefix is stripped on the way to the upstream.
    expect(res.body).toBe('upstream saw GET /hello?x=1');
    expect((await health(gateway.admin)).mode).toBe('gateway');
  });

  it('refuses a client that does not trust the certificate, and plain HTTP', async () => {
    const untrusting = new Promise((resolve, reject) => {
      const req = httpsRequest(`${gateway.proxy}/web/hello`, { timeout: 5000 }, resolve);
      req.on('error', reject);
      req.end();
    });
    await expect(untrusting).rejects.toThrow(/self[- ]signed/i);
    const plain = fetch(`${gateway.proxy.replace('https:', 'http:')}/web/hello`, { signal: AbortSignal.timeout(5000) });
    await expect(plain).rejects.toThrow();
  });

  it('answers 404 over HTTPS for a service the registry does not know', async () => {
    expect((await httpsGet(`${gateway.proxy}/nowhere/x`)).status).toBe(404);
  });

  it('forwards a tcpProxies listener to the registered TCP service', async () => {
    expect(gateway.process.stderr()).toContain(`tcp echo :${gateway.tcpPort}`);
    const answer = await until('the tcp proxy to reach echo', async () => {
      const got = await tcpRoundTrip(gateway.tcpPort, 'hello over tcp');
      return got === '' ? undefined : got;
    });
    expect(answer).toBe('HELLO OVER TCP');
  });

  it('enforces the control plane’s authorization policies without a restart: a denied address gets 403', async () => {
    const policies = async (method: 'PUT' | 'DELETE', body?: unknown) => {
      const res = await fetch(`${controlPlane}/v1/authorization`, {
        method,
        ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
      });
      expect(res.status).toBe(200);
    };
    await policies('PUT', {
      policies: [{ id: 'block-lab', destination: '*', action: 'deny', from: [{ ipBlocks: ['127.0.0.2/32'] }] }],
    });
    const refused = await until('the policy to reach the gateway', async () => {
      const r = await httpsGet(`${gateway.proxy}/web/x`, '127.0.0.2');
      return r.status === 403 ? r : undefined;
    });
    expect(JSON.parse(refused.body)).toMatchObject({ code: 'WEFT_ERR_FORBIDDEN', policy: 'block-lab' });
    expect((await httpsGet(`${gateway.proxy}/web/x`, '127.0.0.3')).status).toBe(200);
    await policies('DELETE');
    await until('the gateway to open again', async () =>
      (await httpsGet(`${gateway.proxy}/web/x`, '127.0.0.2')).status === 200 ? true : undefined,
    );
  });

  it('stops on SIGTERM with exit code 0', async () => {
    gateway.process.child.kill('SIGTERM');
    expect(await gateway.process.exited).toBe(0);
  });
});
