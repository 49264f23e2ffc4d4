import { compile } from '@weft/core';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryAccessLog, MeshAgent, rulesRouter } from '../../packages/proxy/src/index.js';
import { http } from '../servers/http.js';
import { discoveryOf, tally, type Upstream, upstreams, withinBinomial } from './helpers.js';

describe('MeshAgent with the rule engine (Amalgam8 rules)', () => {
  let v1: Upstream[];
  let v2: Upstream[];
  let discovery: ReturnType<typeof discoveryOf>['discovery'];
  const agents: MeshAgent[] = [];

  beforeAll(async () => {
    v1 = await upstreams('v1-', 2, ['version=v1']);
    v2 = await upstreams('v2-', 2, ['version=v2']);
    discovery = discoveryOf([['helloworld', [...v1, ...v2]]]).discovery;
  });

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.close()));
    await Promise.all([...v1, ...v2].map((u) => u.close()));
  });

  function agent(rules: unknown[], extra: Partial<ConstructorParameters<typeof MeshAgent>[0]> = {}): MeshAgent {
    const mesh = new MeshAgent({ discovery, router: rulesRouter(compile(rules)), ...extra });
    agents.push(mesh);
    return mesh;
  }

  async function upstreamOf(mesh: MeshAgent, headers: Record<string, string> = {}): Promise<string> {
    const res = await request('http://helloworld/hello', { dispatcher: mesh, headers });
    expect(res.statusCode).toBe(200);
    return ((await res.body.json()) as { upstream: string }).upstream;
  }

  it('counts the calls of each rule backend apart (weft_backend_*{backend}), next to the service totals', async () => {
    const mesh = agent([
      {
        destination: 'helloworld',
        priority: 1,
        route: { backends: [{ tags: ['version=v2'], weight: 0.5 }, { tags: ['version=v1'] }] },
      },
    ]);
    const seen: string[] = [];
    for (let i = 0; i < 40; i++) seen.push(await upstreamOf(mesh));
    const v2Calls = seen.filter((u) => u.startsWith('v2')).length;
    const text = mesh.metrics?.text() ?? '';
    expect(text).toContain('weft_requests_total{service="helloworld",code="200"} 40');
    expect(text).toContain(
      `weft_backend_requests_total{service="helloworld",backend="version=v2",code="200"} ${v2Calls}`,
    );
    expect(text).toContain(
      `weft_backend_requests_total{service="helloworld",backend="version=v1",code="200"} ${40 - v2Calls}`,
    );
    expect(text).toContain(
      `weft_backend_request_duration_seconds_count{service="helloworld",backend="version=v2"} ${v2Calls}`,
    );
    expect(text).toMatch(
      /weft_backend_request_duration_seconds_bucket\{service="helloworld",backend="version=v1",le="\+Inf"\} \d+/,
    );
  });

  it('splits traffic by weight within binomial bounds over 2000 requests (25 % v2 / 75 % v1)', async () => {
    const mesh = agent([
      {
        destination: 'helloworld',
        priority: 1,
        route: { backends: [{ tags: ['version=v2'], weight: 0.25 }, { tags: ['version=v1'] }] },
      },
    ]);
    const seen: string[] = [];
    const n = 2000;
    const inflight = 20;
    let next = 0;
    await Promise.all(
      Array.from({ length: inflight }, async () => {
        while (next < n) {
          next++;
          seen.push(await upstreamOf(mesh));
        }
      }),
    );
    const byVersion = tally(seen, (u) => u.slice(0, 2));
    expect((byVersion.v1 ?? 0) + (byVersion.v2 ?? 0)).toBe(n);
    expect(withinBinomial(byVersion.v2 ?? 0, n, 0.25)).toBe(true);
    // Within a backend, both instances share the load.
    const byInstance = tally(seen, (u) => u);
    for (const u of [...v1, ...v2]) expect(byInstance[u.name] ?? 0).toBeGreaterThan(100);
  });

  it('routes by cookie (user=jason → v2) and by header, others to the default', async () => {
    const mesh = agent([
      {
        id: 'jason',
        priority: 3,
        destination: 'helloworld',
        match: { headers: { Cookie: '^(.*?;)?(user=jason)(;.*)?$' } },
        route: { backends: [{ tags: ['version=v2'] }] },
      },
      {
        id: 'canary-header',
        priority: 2,
        destination: 'helloworld',
        match: { headers: { 'X-Canary': '^yes$' } },
        route: { backends: [{ tags: ['version=v2'] }] },
      },
      { id: 'default', priority: 1, destination: 'helloworld', route: { backends: [{ tags: ['version=v1'] }] } },
    ]);
    for (let i = 0; i < 20; i++) {
      expect(await upstreamOf(mesh, { cookie: 'user=jason; theme=dark' })).toMatch(/^v2-/);
      expect(await upstreamOf(mesh, { 'x-canary': 'yes' })).toMatch(/^v2-/);
      expect(await upstreamOf(mesh, { cookie: 'user=alice' })).toMatch(/^v1-/);
      expect(await upstreamOf(mesh)).toMatch(/^v1-/);
    }
  });

  it('matches rules on the caller identity configured once on the agent', async () => {
    const rules = [
      {
        priority: 2,
        destination: 'helloworld',
        match: { source: { name: 'reviews', tags: ['version=v2'] } },
        route: { backends: [{ tags: ['version=v2'] }] },
      },
      { priority: 1, destination: 'helloworld', route: { backends: [{ tags: ['version=v1'] }] } },
    ];
    const fromReviewsV2 = agent(rules, { identity: { name: 'reviews', tags: ['version=v2'] } });
    const fromReviewsV1 = agent(rules, { identity: { name: 'reviews', tags: ['version=v1'] } });
    for (let i = 0; i < 10; i++) {
      expect(await upstreamOf(fromReviewsV2)).toMatch(/^v2-/);
      expect(await upstreamOf(fromReviewsV1)).toMatch(/^v1-/);
    }
  });

  it('injects a delay for jason only and aborts per instance tags; retries recover from aborts', async () => {
    const log = new MemoryAccessLog();
    const mesh = agent(
      [
        { priority: 1, destination: 'helloworld', route: { backends: [{ tags: ['version=v1'] }] } },
        {
          id: 'jason-delay',
          priority: 10,
          destination: 'helloworld',
          match: { headers: { Cookie: '^(.*?;)?(user=jason)(;.*)?$' } },
          actions: [
            { action: 'delay', duration: 0.3, probability: 1, tags: ['version=v1'] },
            { action: 'trace', log_key: 'recipe', log_value: 'r-1' },
          ],
        },
        {
          id: 'bob-abort',
          priority: 9,
          destination: 'helloworld',
          match: { headers: { Cookie: '^(.*?;)?(user=bob)(;.*)?$' } },
          actions: [{ action: 'abort', return_code: 503, probability: 1, tags: ['version=v1'] }],
        },
      ],
      { accessLog: log },
    );
    let t = Date.now();
    await upstreamOf(mesh);
    expect(Date.now() - t).toBeLessThan(250);
    t = Date.now();
    await upstreamOf(mesh, { cookie: 'user=jason', 'x-request-id': 'jason-1' });
    expect(Date.now() - t).toBeGreaterThanOrEqual(290);
    expect(log.records.find((r) => r.request_id === 'jason-1')).toMatchObject({ recipe: 'r-1', status: 200 });
    const res = await request('http://helloworld/hello', { dispatcher: mesh, headers: { cookie: 'user=bob' } });
    expect(res.statusCode).toBe(503);
    expect(res.headers['x-weft-fault']).toBe('abort');
    await res.body.text();
  });

  // 21 tries at p = 0.5 each: all aborted with probability 5e-7 per call.
  it('recovers from an injected abort at 50 % with retries (faults are rolled per attempt)', async () => {
    const mesh = agent([
      {
        priority: 1,
        destination: 'helloworld',
        route: {
          backends: [{ tags: ['version=v1'] }],
          retries: { attempts: 20, retry_on: ['5xx'], backoff: { base: '1ms', max: '2ms' } },
        },
      },
      {
        priority: 5,
        destination: 'helloworld',
        actions: [{ action: 'abort', return_code: 503, probability: 0.5 }],
      },
    ]);
    for (let i = 0; i < 30; i++) expect(await upstreamOf(mesh)).toMatch(/^v1-/);
  });

  it('answers 412 when route rules exist but none matches, and rewrites prefixes', async () => {
    const mesh = agent([
      {
        priority: 1,
        destination: 'helloworld',
        match: { headers: { 'X-Only': '^me$' } },
        route: { backends: [{ tags: ['version=v1'] }], uri: { prefix: '/old', prefix_rewrite: '/new' } },
      },
    ]);
    await expect(request('http://helloworld/x', { dispatcher: mesh })).rejects.toMatchObject({
      code: 'WEFT_ERR_NO_ROUTE',
      status: 412,
    });
    const res = await request('http://helloworld/old/page?q=1', { dispatcher: mesh, headers: { 'x-only': 'me' } });
    expect(((await res.body.json()) as { path: string }).path).toBe('/new/page?q=1');
  });

  it('picks up rule updates: a destination named by new rules becomes a mesh host', async () => {
    const router = rulesRouter([
      { priority: 1, destination: 'helloworld', route: { backends: [{ tags: ['version=v1'] }] } },
    ]);
    const mesh = new MeshAgent({ discovery, router });
    agents.push(mesh);
    expect(mesh.serviceOf('http://alias')).toBeNull();
    router.update([
      { priority: 1, destination: 'helloworld', route: { backends: [{ tags: ['version=v2'] }] } },
      { priority: 1, destination: 'alias', route: { backends: [{ tags: ['version=v1'] }] } },
    ]);
    expect(mesh.serviceOf('http://alias')).toBe('alias');
    expect(await upstreamOf(mesh)).toMatch(/^v2-/);
    await expect(request('http://alias/', { dispatcher: mesh })).rejects.toMatchObject({
      code: 'WEFT_ERR_NO_ENDPOINTS',
      status: 503,
    });
  });

  it('explains a decision on the sidecar admin port', async () => {
    const { Sidecar } = await import('../../packages/proxy/src/index.js');
    const sidecar = new Sidecar({
      discovery,
      router: rulesRouter(
        compile([
          {
            id: 'jason',
            priority: 2,
            destination: 'helloworld',
            match: { headers: { Cookie: '^(.*?;)?(user=jason)(;.*)?$' } },
            route: { backends: [{ tags: ['version=v2'] }] },
          },
          { id: 'default', priority: 1, destination: 'helloworld', route: { backends: [{ tags: ['version=v1'] }] } },
        ]),
      ),
      port: 0,
      admin: { port: 0 },
      accessLog: false,
    });
    const addr = await sidecar.listen();
    try {
      const ex = JSON.parse(
        (
          await http(
            `http://127.0.0.1:${addr.adminPort}/debug/explain?service=helloworld&path=/&header.cookie=user%3Djason`,
          )
        ).body,
      );
      expect(ex.explanation.decision.rule.id).toBe('jason');
      const viaSidecar = await http(`http://127.0.0.1:${addr.port}/helloworld/hi`, {
        headers: { cookie: 'user=jason' },
      });
      expect(JSON.parse(viaSidecar.body).upstream).toMatch(/^v2-/);
    } finally {
      await sidecar.close();
    }
  });
});
