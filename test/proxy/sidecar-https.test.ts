import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { instanceId, type ServiceInstance } from '@weft/core';
import { Pool } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Sidecar, type SidecarOptions } from '../../packages/proxy/src/index.js';
import { http } from '../servers/http.js';
import { Discovery, ManualSource } from './helpers.js';

/** A throwaway self-signed certificate for `localhost`, made with the openssl CLI. */
function selfSigned(): { key: Buffer; cert: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), 'weft-https-'));
  try {
    try {
      const subject = ['-days', '1', '-subj', '/CN=localhost'];
      const args = ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'key.pem', '-out', 'cert.pem'];
      execFileSync('openssl', [...args, ...subject], { cwd: dir, stdio: 'pipe' });
    } catch (e) {
      const err = e as NodeJS.ErrnoException & { stderr?: Buffer };
      throw new Error(
        err.code === 'ENOENT'
          ? 'sidecar-https.test.ts needs the `openssl` CLI on PATH to make a self-signed certificate'
          : `openssl failed to make a self-signed certificate: ${err.stderr?.toString() ?? err.message}`,
      );
    }
    return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('Sidecar to an https upstream', () => {
  let upstream: Server | undefined;
  /** TLS handshakes the upstream completed. */
  let handshakes = 0;
  let discovery: Discovery;
  let sidecar: Sidecar | undefined;

  beforeAll(async () => {
    const server = createServer(selfSigned(), (req, res) => {
      req.resume();
      req.on('end', () => {
        const body = JSON.stringify({ path: req.url, xff: req.headers['x-forwarded-for'] ?? null });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      });
    });
    server.on('secureConnection', () => handshakes++);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    upstream = server;
    const upstreamPort = (server.address() as AddressInfo).port;
    const value = `127.0.0.1:${upstreamPort}`;
    const instance: ServiceInstance = {
      id: instanceId('svc', 'https', value),
      namespace: 'default',
      service: 'svc',
      endpoint: { type: 'https', value, host: '127.0.0.1', port: upstreamPort },
      tags: [],
      metadata: {},
      status: 'UP',
      ttl: 30,
      registeredAt: 0,
      lastHeartbeat: 0,
    };
    discovery = new Discovery({ sources: [new ManualSource('test', [instance])] });
  });

  afterEach(async () => {
    await sidecar?.close();
    sidecar = undefined;
    upstream?.closeAllConnections();
  });

  afterAll(async () => {
    const server = upstream;
    if (server !== undefined) await new Promise<void>((r) => server.close(() => r()));
  });

  async function start(extra: Partial<SidecarOptions> = {}): Promise<string> {
    sidecar = new Sidecar({ discovery, port: 0, admin: false, accessLog: false, ...extra });
    return `http://127.0.0.1:${(await sidecar.listen()).port}`;
  }

  it('without upstreamPool, answers 502 WEFT_ERR_INVALID_ARGUMENT naming the option', async () => {
    const base = await start();
    const r = await http(`${base}/svc/some/path`);
    expect(r.status).toBe(502);
    const body = JSON.parse(r.body);
    expect(body.code).toBe('WEFT_ERR_INVALID_ARGUMENT');
    expect(body.error).toMatch(/upstreamPool/);
    expect(handshakes).toBe(0);
  });

  it('with an undici Pool as upstreamPool, proxies over TLS and reuses the connection', async () => {
    const before = handshakes;
    const base = await start({
      upstreamPool: (origin, options) => new Pool(origin, { ...options, connect: { rejectUnauthorized: false } }),
    });
    const r1 = await http(`${base}/svc/some/path`);
    expect(r1.status).toBe(200);
    const b1 = JSON.parse(r1.body);
    expect(b1.path).toBe('/some/path');
    expect(b1.xff).toBe('127.0.0.1');
    const r2 = await http(`${base}/svc/again?x=1`);
    expect(r2.status).toBe(200);
    expect(JSON.parse(r2.body).path).toBe('/again?x=1');
    expect(handshakes - before).toBe(1);
  });
});
