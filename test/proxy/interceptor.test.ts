/**
 * The mesh as an undici interceptor (`new Agent().compose(mesh(…))`), on real loopback HTTP:
 * routing and balancing through the engine, pass-through of other hosts, the Agent owning the
 * connection pools, composition with undici's retry and redirect interceptors in both orders,
 * and the same coded errors as MeshAgent.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { compile } from '@weft/core';
import { Agent, type Dispatcher, interceptors, Pool, request, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  isInjectedReset,
  isMeshRequestError,
  MemoryAccessLog,
  MeshAgent,
  type MeshInterceptor,
  type MeshInterceptorOptions,
  mesh,
  meshErrorOf,
  rulesRouter,
} from '../../packages/proxy/src/index.js';
import { cleanupAfterEach, discoveryOf, loopbackInstance, type Upstream, upstreams } from './helpers.js';

const cleanup = cleanupAfterEach();

/** `new Agent().compose(mesh(options), ...outer)`, closed after the test. */
function composed(
  options: MeshInterceptorOptions,
  ...outer: Dispatcher.DispatcherComposeInterceptor[]
): { weft: MeshInterceptor; agent: Agent; dispatcher: Dispatcher } {
  const weft = mesh(options);
  const agent = new Agent();
  const dispatcher = agent.compose(weft, ...outer);
  cleanup.push(async () => {
    await weft.close();
    await agent.close();
  });
  return { weft, agent, dispatcher };
}

async function upstreamOf(dispatcher: Dispatcher, url: string, headers: Record<string, string> = {}) {
  const res = await request(url, { dispatcher, headers });
  expect(res.statusCode).toBe(200);
  return ((await res.body.json()) as { upstream: string }).upstream;
}

/** A plain HTTP server outside the mesh that records the headers it got. */
async function plainServer(): Promise<{ server: Server; port: number; headers: () => Record<string, unknown> }> {
  let last: Record<string, unknown> = {};
  const server = createServer((req, res) => {
    last = req.headers;
    res.end('not in the mesh');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  cleanup.push(() => new Promise<void>((r) => server.close(() => r())));
  return { server, port: (server.address() as AddressInfo).port, headers: () => last };
}

describe('mesh() as an undici interceptor', () => {
  let v1: Upstream[];
  let v2: Upstream[];

  beforeAll(async () => {
    v1 = await upstreams('v1-', 3, ['version=v1']);
    v2 = await upstreams('v2-', 1, ['version=v2']);
  });

  afterAll(async () => {
    await Promise.all([...v1, ...v2].map((u) => u.close()));
  });

  it('routes to two versions by a rule, with request() and fetch()', async () => {
    const { discovery } = discoveryOf([['reviews', [...v1, ...v2]]]);
    const router = rulesRouter(
      compile([
        {
          id: 'jason',
          destination: 'reviews',
          priority: 2,
          match: { headers: { Cookie: '^(.*?;)?(user=jason)(;.*)?$' } },
          route: { backends: [{ tags: ['version=v2'] }] },
        },
        { destination: 'reviews', priority: 1, route: { backends: [{ tags: ['version=v1'] }] } },
      ]),
    );
    const { dispatcher } = composed({ discovery, router });
    for (let i = 0; i < 10; i++) {
      expect(await upstreamOf(dispatcher, 'http://reviews/r')).toMatch(/^v1-/);
      expect(await upstreamOf(dispatcher, 'http://reviews/r', { cookie: 'user=jason; theme=dark' })).toBe('v2-0');
    }
    const res = await undiciFetch('http://reviews/fetched', { dispatcher, headers: { cookie: 'user=jason' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ upstream: 'v2-0', path: '/fetched' });
    const plain = await undiciFetch('http://reviews/fetched', { dispatcher });
    expect(((await plain.json()) as { upstream: string }).upstream).toMatch(/^v1-/);
    // Node's own fetch (its bundled undici) takes the composed dispatcher too, at run time.
    const global = await fetch('http://reviews/global', {
      dispatcher,
      headers: { cookie: 'user=jason' },
    } as unknown as RequestInit);
    expect(await global.json()).toMatchObject({ upstream: 'v2-0', path: '/global' });
  });

  it('balances across the endpoints, with the Agent it is composed on owning one pool per endpoint', async () => {
    const { discovery } = discoveryOf([['reviews', v1]]);
    const log = new MemoryAccessLog();
    const { agent, dispatcher, weft } = composed({ discovery, accessLog: log, identity: { name: 'productpage' } });
    const seen: Record<string, number> = {};
    for (let i = 0; i < 60; i++) {
      const u = await upstreamOf(dispatcher, 'http://reviews/api/1');
      seen[u] = (seen[u] ?? 0) + 1;
    }
    expect(Object.keys(seen).sort()).toEqual(['v1-0', 'v1-1', 'v1-2']);
    for (const n of Object.values(seen)) expect(n).toBeGreaterThanOrEqual(5);
    // The Agent keeps the connections, keyed by each instance's origin (never `http://reviews`).
    expect(Object.keys(agent.stats).sort()).toEqual(v1.map((u) => `http://127.0.0.1:${u.port}`).sort());
    // Upstreams get the service's authority as Host and a request id, as from MeshAgent.
    expect(v1[0]?.lastHeaders.host).toBe('reviews');
    expect(v1[0]?.lastHeaders['x-request-id']).toMatch(/^[0-9a-f]{24}-[0-9a-z]+$/);
    expect(log.records.filter((r) => r.path === '/api/1')).toHaveLength(60);
    expect(log.records[0]).toMatchObject({ src: 'productpage:', dst: 'reviews:', status: 200 });
    expect(weft.metrics?.text()).toContain('weft_requests_total{service="reviews",code="200"} 60');
    expect(weft.serviceOf('http://reviews')).toBe('reviews');
  });

  it('retries a refused connection on another endpoint through the Agent', async () => {
    const dead = loopbackInstance('flaky', 'http', await closedPort());
    const { discovery, source } = discoveryOf([['flaky', v1.slice(0, 1)]]);
    source.set([dead, (v1[0] as Upstream).instance('flaky')]);
    const log = new MemoryAccessLog();
    const { dispatcher } = composed({ discovery, accessLog: log });
    for (let i = 0; i < 10; i++) expect(await upstreamOf(dispatcher, 'http://flaky/')).toBe('v1-0');
    const retried = log.records.filter((r) => r.attempts > 1);
    expect(retried.length).toBeGreaterThan(0);
    expect(retried.every((r) => r.attempts === 2 && r.upstream_host === `127.0.0.1:${v1[0]?.port}`)).toBe(true);
  });

  it('passes hosts that are not mesh services down the chain untouched', async () => {
    const { discovery } = discoveryOf([['reviews', v1]]);
    const other = await plainServer();
    const { weft, dispatcher } = composed({ discovery });
    const res = await request(`http://127.0.0.1:${other.port}/x`, { dispatcher, headers: { 'x-mine': '1' } });
    expect(await res.body.text()).toBe('not in the mesh');
    expect(other.headers()).toMatchObject({ host: `127.0.0.1:${other.port}`, 'x-mine': '1' });
    expect(other.headers()['x-request-id']).toBeUndefined();
    expect(weft.serviceOf(`http://127.0.0.1:${other.port}`)).toBeNull();
    const fetched = await undiciFetch(`http://127.0.0.1:${other.port}/y`, { dispatcher });
    expect(await fetched.text()).toBe('not in the mesh');
    expect(weft.metrics?.text() ?? '').not.toContain('weft_requests_total{');
  });

  it('fails like MeshAgent when the service has no endpoint: WEFT_ERR_NO_ENDPOINTS, with request() and fetch()', async () => {
    const { discovery, source } = discoveryOf([['ghost', v1.slice(0, 1)]]);
    source.set([]);
    const isMeshHost = (h: string) => h === 'ghost';
    const { dispatcher } = composed({ discovery, isMeshHost });
    const agent = new MeshAgent({ discovery, isMeshHost });
    cleanup.push(() => agent.close());
    const viaAgent = await request('http://ghost/', { dispatcher: agent }).catch((e: unknown) => e);
    const viaInterceptor = await request('http://ghost/', { dispatcher }).catch((e: unknown) => e);
    for (const err of [viaAgent, viaInterceptor]) {
      expect(isMeshRequestError(err)).toBe(true);
      expect(err).toMatchObject({ code: 'WEFT_ERR_NO_ENDPOINTS', status: 503, service: 'ghost' });
    }
    const fetchErr = await undiciFetch('http://ghost/', { dispatcher }).catch((e: unknown) => e);
    expect(fetchErr).toBeInstanceOf(TypeError);
    expect(meshErrorOf(fetchErr)).toMatchObject({ code: 'WEFT_ERR_NO_ENDPOINTS', service: 'ghost' });
  });

  it('refuses a Pool or Client (bound to one origin) and bad options with WEFT_ERR_INVALID_ARGUMENT', async () => {
    const { discovery } = discoveryOf([['reviews', v1]]);
    const weft = mesh({ discovery });
    cleanup.push(() => weft.close());
    const pool = new Pool(`http://127.0.0.1:${v1[0]?.port}`);
    cleanup.push(() => pool.close());
    expect(() => pool.compose(weft)).toThrow(expect.objectContaining({ code: 'WEFT_ERR_INVALID_ARGUMENT' }));
    expect(() => mesh({ discovery, timeoutMs: -1 })).toThrow(
      expect.objectContaining({
        code: 'WEFT_ERR_INVALID_ARGUMENT',
        issues: [expect.objectContaining({ path: 'timeoutMs' })],
      }),
    );
  });

  it('carries the incoming request headers inside withIncoming', async () => {
    const { discovery } = discoveryOf([['reviews', v2]]);
    const { weft, dispatcher } = composed({ discovery, propagateHeaders: ['x-request-id', 'cookie'] });
    await weft.withIncoming({ 'x-request-id': 'incoming-1', cookie: 'user=jason' }, async () => {
      await upstreamOf(dispatcher, 'http://reviews/chain');
    });
    expect(v2[0]?.lastHeaders).toMatchObject({ 'x-request-id': 'incoming-1', cookie: 'user=jason' });
  });

  it('works composed on a second dispatcher, and fails mesh requests once closed (others pass)', async () => {
    const { discovery } = discoveryOf([['reviews', v1]]);
    const other = await plainServer();
    const weft = mesh({ discovery });
    const a = new Agent().compose(weft);
    const b = new Agent().compose(weft);
    cleanup.push(async () => {
      await a.close();
      await b.close();
    });
    expect(await upstreamOf(a, 'http://reviews/a')).toMatch(/^v1-/);
    expect(await upstreamOf(b, 'http://reviews/b')).toMatch(/^v1-/);
    expect(weft.metrics?.text()).toContain('weft_requests_total{service="reviews",code="200"} 2');
    await weft.close();
    await expect(request('http://reviews/', { dispatcher: a })).rejects.toMatchObject({ code: 'UND_ERR_CLOSED' });
    const res = await request(`http://127.0.0.1:${other.port}/`, { dispatcher: a });
    expect(await res.body.text()).toBe('not in the mesh');
  });
});

describe("mesh() composed with undici's retry and redirect interceptors", () => {
  /** An upstream that answers 503 to its first `failures` requests, then 200. */
  async function flaky(failures: number): Promise<Upstream> {
    const [u] = await upstreams('flaky-', 1);
    const up = u as Upstream;
    up.handler = (req, res, self) => {
      req.resume();
      if (self.hits <= failures) {
        res.writeHead(503, { 'content-length': '0' }).end();
        return;
      }
      res.end(JSON.stringify({ upstream: self.name, hits: self.hits }));
    };
    cleanup.push(() => up.close());
    return up;
  }
  const retry = () => interceptors.retry({ maxRetries: 3, minTimeout: 5, timeoutFactor: 1, statusCodes: [503] });

  it('retry outside the mesh (compose(mesh(), retry())): each retry is a new mesh call', async () => {
    const up = await flaky(2);
    const { discovery } = discoveryOf([['reviews', [up]]]);
    const log = new MemoryAccessLog();
    const { dispatcher } = composed({ discovery, accessLog: log, retry: false }, retry());
    const res = await request('http://reviews/outer', { dispatcher });
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    expect(up.hits).toBe(3);
    expect(log.records.map((r) => r.status)).toEqual([503, 503, 200]);
  });

  it('retry outside the mesh retries an injected reset (ECONNRESET) like a real one, then rejects with it', async () => {
    const [u] = await upstreams('reset-', 1);
    const up = u as Upstream;
    cleanup.push(() => up.close());
    const { discovery } = discoveryOf([['reviews', [up]]]);
    const router = rulesRouter(
      compile([{ destination: 'reviews', actions: [{ action: 'abort', return_code: -1, probability: 1, tags: [] }] }]),
    );
    const log = new MemoryAccessLog();
    const { dispatcher } = composed({ discovery, router, accessLog: log }, retry());
    const err = await request('http://reviews/reset', { dispatcher }).catch((e: unknown) => e);
    expect(isInjectedReset(err)).toBe(true);
    expect(log.records).toHaveLength(4); // the first call and undici's 3 retries, each a mesh call
    expect(up.hits).toBe(0);
  });

  it('MeshAgent.compose(retry()) retries too (a handler throwing at the end gets its error, as in undici)', async () => {
    // undici's retry handler asks for a retry by throwing from onResponseEnd; the engine used to
    // drop that error, and the call never ended.
    const up = await flaky(1);
    const { discovery } = discoveryOf([['reviews', [up]]]);
    const agent = new MeshAgent({ discovery, retry: false });
    cleanup.push(() => agent.close());
    const res = await request('http://reviews/agent', { dispatcher: agent.compose(retry()) });
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    expect(up.hits).toBe(2);
  });

  it('retry inside the mesh (compose(retry(), mesh())): one mesh call, retried on its endpoint', async () => {
    const up = await flaky(2);
    const { discovery } = discoveryOf([['reviews', [up]]]);
    const log = new MemoryAccessLog();
    const weft = mesh({ discovery, accessLog: log, retry: false });
    const agent = new Agent();
    cleanup.push(async () => {
      await weft.close();
      await agent.close();
    });
    const res = await undiciFetch('http://reviews/inner', { dispatcher: agent.compose(retry(), weft) });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    expect(up.hits).toBe(3);
    expect(log.records.map((r) => r.status)).toEqual([200]);
    expect(log.records[0]?.attempts).toBe(1);
  });

  it('redirect outside the mesh follows a Location naming another service through the mesh', async () => {
    const [reviews, details] = await upstreams('svc-', 2);
    for (const u of [reviews, details]) cleanup.push(() => (u as Upstream).close());
    (reviews as Upstream).handler = (req, res) => {
      req.resume();
      res.writeHead(302, { location: 'http://details/moved', 'content-length': '0' }).end();
    };
    const { discovery } = discoveryOf([
      ['reviews', [reviews as Upstream]],
      ['details', [details as Upstream]],
    ]);
    const log = new MemoryAccessLog();
    const { dispatcher } = composed({ discovery, accessLog: log }, interceptors.redirect({ maxRedirections: 2 }));
    const res = await undiciFetch('http://reviews/start', { dispatcher });
    expect(await res.json()).toMatchObject({ upstream: 'svc-1', path: '/moved' });
    expect(details?.lastHeaders.host).toBe('details');
    expect(log.records.map((r) => [r.dst, r.status])).toEqual([
      ['reviews:', 302],
      ['details:', 200],
    ]);
  });

  it('redirect inside the mesh follows a relative Location on the same instance, within one mesh call', async () => {
    const [up] = await upstreams('same-', 1);
    const u = up as Upstream;
    cleanup.push(() => u.close());
    u.handler = (req, res, self) => {
      req.resume();
      if (req.url === '/start') res.writeHead(302, { location: '/final', 'content-length': '0' }).end();
      else res.end(JSON.stringify({ upstream: self.name, path: req.url }));
    };
    const { discovery } = discoveryOf([['reviews', [u]]]);
    const log = new MemoryAccessLog();
    const weft = mesh({ discovery, accessLog: log });
    const agent = new Agent();
    cleanup.push(async () => {
      await weft.close();
      await agent.close();
    });
    const dispatcher = agent.compose(interceptors.redirect({ maxRedirections: 2 }), weft);
    const res = await request('http://reviews/start', { dispatcher });
    expect(await res.body.json()).toMatchObject({ upstream: 'same-0', path: '/final' });
    expect(log.records.map((r) => [r.path, r.status])).toEqual([['/start', 200]]);
  });
});

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
