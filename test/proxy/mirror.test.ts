import { Readable } from 'node:stream';
import { compile } from '@weft/core';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { shadowHost } from '../../packages/proxy/src/engine/mirror.js';
import {
  MemoryAccessLog,
  MeshAgent,
  type MeshAgentOptions,
  rulesRouter,
  Sidecar,
} from '../../packages/proxy/src/index.js';
import { http } from '../servers/http.js';
import { cleanupAfterEach, discoveryOf, sleep, Upstream, upstreams } from './helpers.js';

const cleanup = cleanupAfterEach();

/** A mirror upstream that records each request's method, path, Host and body. */
async function mirrorUpstream(status = 200) {
  const seen: Array<{ method: string; path: string; host: string; body: string; rid: string }> = [];
  const u = new Upstream('mirror', ['version=v2'], (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({
        method: req.method ?? '',
        path: req.url ?? '',
        host: req.headers.host ?? '',
        body: Buffer.concat(chunks).toString(),
        rid: String(req.headers['x-request-id'] ?? ''),
      });
      res.writeHead(status, { 'content-type': 'application/json' }).end('{"upstream":"mirror"}');
    });
  });
  await u.listen();
  return { u, seen };
}

async function setup(mirror: Upstream, percentage: number | undefined, options: Partial<MeshAgentOptions> = {}) {
  const primary = await upstreams('p', 1, ['version=v1']);
  const d = discoveryOf([['svc', [...primary, mirror]]]);
  const router = rulesRouter(
    compile([
      {
        destination: 'svc',
        route: {
          backends: [{ tags: ['version=v1'] }],
          mirror: { tags: ['version=v2'], ...(percentage === undefined ? {} : { percentage }) },
        },
      },
    ]),
  );
  const mesh = new MeshAgent({ discovery: d.discovery, router, ...options });
  cleanup.push(async () => {
    await mesh.destroy();
    await Promise.all([...primary, mirror].map((u) => u.close().catch(() => undefined)));
  });
  return { primary: primary[0] as Upstream, mesh, discovery: d.discovery, router };
}

async function until(cond: () => boolean, ms = 3_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await sleep(5);
  }
}

describe('route.mirror', () => {
  it('at 100 % copies every request to the mirror; the client sees only the primary response', async () => {
    const { u: mirror, seen } = await mirrorUpstream(500);
    const { primary, mesh } = await setup(mirror, 100);
    const n = 20;
    for (let i = 0; i < n; i++) {
      const post = i % 2 === 1;
      const res = await request(`http://svc/item/${i}`, {
        dispatcher: mesh,
        method: post ? 'POST' : 'GET',
        ...(post ? { body: `payload-${i}` } : {}),
      });
      expect(res.statusCode).toBe(200);
      expect(((await res.body.json()) as { upstream: string }).upstream).toBe('p0');
    }
    expect(primary.hits).toBe(n);
    await until(() => seen.length === n);
    const byPath = new Map(seen.map((s) => [s.path, s]));
    for (let i = 0; i < n; i++) {
      const s = byPath.get(`/item/${i}`);
      expect(s?.method).toBe(i % 2 === 1 ? 'POST' : 'GET');
      expect(s?.body).toBe(i % 2 === 1 ? `payload-${i}` : '');
      expect(s?.host).toBe('svc-shadow');
      expect(s?.rid).not.toBe('');
    }
    expect(primary.lastHeaders.host).not.toMatch(/shadow/);
    // undici's `query` option reaches the mirror too.
    const q = await request('http://svc/q', { dispatcher: mesh, query: { a: '1' } });
    await q.body.dump();
    await until(() => seen.some((s) => s.path === '/q?a=1'));
    // The mirror answered 500: counted as failed, never seen by the client.
    await until(() => mesh.metrics?.snapshot().svc?.mirrors.failed === n + 1);
    expect(mesh.metrics?.snapshot().svc?.calls).toEqual({ '200': n + 1 });
  });

  it('a mirror upstream that is down does not fail (or delay) the primary call; failures are counted and logged', async () => {
    const { u: mirror } = await mirrorUpstream();
    await mirror.kill();
    const log = new MemoryAccessLog();
    const { mesh } = await setup(mirror, undefined, { accessLog: log });
    for (let i = 0; i < 10; i++) {
      const res = await request('http://svc/x', { dispatcher: mesh, method: 'POST', body: 'b' });
      expect(res.statusCode).toBe(200);
      await res.body.dump();
    }
    await until(() => mesh.metrics?.snapshot().svc?.mirrors.failed === 10);
    expect(mesh.metrics?.snapshot().svc?.calls).toEqual({ '200': 10 });
    const records = log.records;
    expect(records.filter((r) => r.mirror !== true)).toHaveLength(10);
    const failed = records.filter((r) => r.mirror === true);
    expect(failed).toHaveLength(10);
    expect(failed[0]).toMatchObject({ dst: 'svc:version=v2', error_code: 'ECONNREFUSED' });
  });

  it('a slow mirror does not hold up the primary response', async () => {
    const { u: mirror, seen } = await mirrorUpstream();
    const inner = mirror.handler;
    mirror.handler = (req, res, up) => {
      setTimeout(() => inner?.(req, res, up), 1_000);
    };
    const { mesh } = await setup(mirror, 100);
    const started = Date.now();
    for (let i = 0; i < 5; i++) {
      const res = await request('http://svc/slow', { dispatcher: mesh });
      await res.body.dump();
      expect(res.statusCode).toBe(200);
    }
    expect(Date.now() - started).toBeLessThan(800);
    await until(() => seen.length === 5);
  });

  it('mirrors a streamed body only when it was recorded within the replay buffer', async () => {
    const { u: mirror, seen } = await mirrorUpstream();
    const { mesh } = await setup(mirror, 100, { replayBufferBytes: 64 });
    const small = await request('http://svc/small', {
      dispatcher: mesh,
      method: 'POST',
      body: Readable.from([Buffer.from('ab'), Buffer.from('cd')]),
    });
    await small.body.dump();
    const big = await request('http://svc/big', {
      dispatcher: mesh,
      method: 'POST',
      body: Readable.from([Buffer.alloc(100, 120)]),
    });
    await big.body.dump();
    expect([small.statusCode, big.statusCode]).toEqual([200, 200]);
    await until(() => seen.length === 1);
    await sleep(30);
    expect(seen.map((s) => [s.path, s.body])).toEqual([['/small', 'abcd']]);
    expect(mesh.metrics?.snapshot().svc?.mirrors).toEqual({ ok: 1, failed: 0, skipped: 1 });
  });

  it('mirrors a percentage of requests', async () => {
    const { u: mirror, seen } = await mirrorUpstream();
    const { mesh } = await setup(mirror, 25);
    const n = 400;
    for (let i = 0; i < n; i++) await (await request('http://svc/p', { dispatcher: mesh })).body.dump();
    await sleep(50);
    const k = seen.length;
    // Binomial(400, 0.25): mean 100, sd ≈ 8.7.
    expect(k).toBeGreaterThan(60);
    expect(k).toBeLessThan(140);
  });

  it('mirrors through the sidecar, request body included', async () => {
    const { u: mirror, seen } = await mirrorUpstream();
    const { primary, discovery, router } = await setup(mirror, 100);
    const sidecar = new Sidecar({ discovery, router, port: 0, admin: false, accessLog: false });
    const addr = await sidecar.listen();
    cleanup.push(() => sidecar.drain());
    const res = await http(`http://127.0.0.1:${addr.port}/svc/up`, { method: 'POST', body: 'hello' });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ upstream: 'p0', path: '/up' });
    await until(() => seen.length === 1);
    expect(seen[0]).toMatchObject({ method: 'POST', path: '/up', body: 'hello', host: 'svc-shadow' });
    expect(primary.hits).toBe(1);
  });

  it('appends -shadow to the host name as Envoy does', () => {
    expect(shadowHost('reviews')).toBe('reviews-shadow');
    expect(shadowHost('reviews:9080')).toBe('reviews-shadow:9080');
    expect(shadowHost('[::1]:80')).toBe('[::1]-shadow:80');
  });
});
