import { Readable } from 'node:stream';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { isMeshRequestError, MeshAgent, type MeshAgentOptions, toRetryPlan } from '../../packages/proxy/src/index.js';
import { discoveryOf, routerFor, sleep, type Upstream, upstreams } from './helpers.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()?.();
});

async function setup(count: number, options: Partial<MeshAgentOptions> = {}) {
  const ups = await upstreams('u', count);
  const d = discoveryOf([['svc', ups]]);
  const mesh = new MeshAgent({ discovery: d.discovery, ...options });
  cleanup.push(async () => {
    await mesh.destroy();
    await Promise.all(ups.map((u) => u.close().catch(() => undefined)));
  });
  return { ups, mesh, ...d };
}

async function get(mesh: MeshAgent, path = '/'): Promise<{ status: number; upstream: string | undefined }> {
  const res = await request(`http://svc${path}`, { dispatcher: mesh });
  const text = await res.body.text();
  let upstream: string | undefined;
  try {
    upstream = (JSON.parse(text) as { upstream?: string }).upstream;
  } catch {
    upstream = undefined;
  }
  return { status: res.statusCode, upstream };
}

const failWith = (status: number) => (u: Upstream) => {
  u.handler = (req, res) => {
    req.resume();
    res.writeHead(status, { 'content-type': 'text/plain' }).end('failing');
  };
};

describe('MeshAgent resilience on real sockets', () => {
  it('retries recover from a killed instance with zero failed client calls', async () => {
    const { ups, mesh } = await setup(3);
    let done = 0;
    let failed = 0;
    const failures: unknown[] = [];
    const worker = async () => {
      while (done < 1500) {
        done++;
        try {
          const r = await get(mesh, '/work');
          if (r.status !== 200) failed++;
        } catch (err) {
          failed++;
          failures.push(err);
        }
      }
    };
    const workers = Array.from({ length: 16 }, worker);
    await sleep(30);
    await (ups[1] as Upstream).kill();
    await Promise.all(workers);
    expect(failures).toEqual([]);
    expect(failed).toBe(0);
    expect(mesh.metrics?.snapshot().svc?.retries).toBeGreaterThan(0);
  });

  it('a retry goes to another endpoint than the one that failed, even when the balancer favours the dead one', async () => {
    // No ejection and no breaker: the dead instance stays in the set, idle (its connect failures
    // end at once), so least-request keeps drawing it; only the retry's avoidance saves the call.
    // (A third of the calls need a retry, more than the default budget allows: no budget here.)
    const { ups, mesh } = await setup(3, {
      outlier: false,
      breaker: { trip: { kind: 'consecutive', threshold: 1_000_000 } },
      retryBudget: false,
    });
    await (ups[0] as Upstream).kill();
    const failures: unknown[] = [];
    for (let i = 0; i < 1000; i++) {
      try {
        const r = await get(mesh, '/one-at-a-time');
        if (r.status !== 200) failures.push(r.status);
      } catch (err) {
        failures.push(err);
      }
    }
    expect(failures).toEqual([]);
    expect(mesh.metrics?.snapshot().svc?.retries).toBeGreaterThan(100);
  });

  it('rejects with a coded error carrying the attempt history when every instance is down', async () => {
    const { ups, mesh } = await setup(2, { outlier: false });
    await Promise.all(ups.map((u) => u.kill()));
    try {
      await request('http://svc/x', { dispatcher: mesh });
      expect.unreachable();
    } catch (err) {
      expect(isMeshRequestError(err)).toBe(true);
      if (!isMeshRequestError(err)) return;
      expect(err.code).toBe('WEFT_ERR_RETRIES_EXHAUSTED');
      expect(err.attempts).toHaveLength(3);
      for (const a of err.attempts) {
        expect(a.reason).toBe('connect-failure');
        expect(a.endpoint).toMatch(/^127\.0\.0\.1:\d+$/);
        expect(a.durationMs).toBeGreaterThanOrEqual(0);
      }
      expect(err.message).toMatch(
        /^GET svc\/x failed after 3 attempts, the last: connection refused by 127\.0\.0\.1:\d+; attempts: #1 127\.0\.0\.1:\d+ connect-failure/,
      );
      expect(err.toJSON()).toMatchObject({ code: 'WEFT_ERR_RETRIES_EXHAUSTED', service: 'svc' });
    }
  });

  it('ejects a failing instance within a bounded number of requests and brings it back', async () => {
    const ejectMs = 400;
    const { ups, mesh } = await setup(3, {
      lbPolicy: 'round_robin',
      retry: false,
      outlier: { consecutiveGatewayErrors: 3, baseEjectionTimeMs: ejectMs },
    });
    const bad = ups[0] as Upstream;
    failWith(503)(bad);
    for (let i = 0; i < 30; i++) await get(mesh);
    // Round robin sends every third request to the bad one: ejected after its 3rd failure.
    expect(bad.hits).toBeLessThanOrEqual(4);
    const before = bad.hits;
    for (let i = 0; i < 30; i++) expect((await get(mesh)).status).toBe(200);
    expect(bad.hits).toBe(before);
    expect(mesh.metrics?.snapshot().svc?.ejections).toBe(1);
    // Healthy again; after the ejection time it gets traffic again.
    bad.handler = undefined;
    await sleep(ejectMs + 100);
    for (let i = 0; i < 30; i++) expect((await get(mesh)).status).toBe(200);
    expect(bad.hits).toBeGreaterThan(before + 5);
  });

  it('opens the circuit breaker, then half-opens and closes after successful probes', async () => {
    const { ups, mesh } = await setup(1, {
      retry: false,
      outlier: false,
      breaker: {
        trip: { kind: 'consecutive', threshold: 3 },
        openDurationMs: 300,
        halfOpenMaxProbes: 2,
        halfOpenSuccesses: 2,
      },
    });
    const u = ups[0] as Upstream;
    failWith(500)(u);
    for (let i = 0; i < 3; i++) expect((await get(mesh)).status).toBe(500);
    expect(u.hits).toBe(3);
    // Open: refused locally, the upstream sees nothing.
    await expect(request('http://svc/', { dispatcher: mesh })).rejects.toMatchObject({
      code: 'WEFT_ERR_CIRCUIT_OPEN',
      status: 503,
    });
    expect(u.hits).toBe(3);
    u.handler = undefined;
    await sleep(350);
    // Half-open: probes pass; two successes close it.
    expect((await get(mesh)).status).toBe(200);
    expect((await get(mesh)).status).toBe(200);
    for (let i = 0; i < 10; i++) expect((await get(mesh)).status).toBe(200);
    expect(u.hits).toBe(15);
  });

  it('half-open re-opens on a failed probe', async () => {
    const { ups, mesh } = await setup(1, {
      retry: false,
      outlier: false,
      breaker: {
        trip: { kind: 'consecutive', threshold: 2 },
        openDurationMs: 200,
        halfOpenMaxProbes: 1,
        halfOpenSuccesses: 1,
      },
    });
    const u = ups[0] as Upstream;
    failWith(502)(u);
    await get(mesh);
    await get(mesh);
    await expect(get(mesh)).rejects.toMatchObject({ code: 'WEFT_ERR_CIRCUIT_OPEN' });
    await sleep(250);
    expect((await get(mesh)).status).toBe(502); // the probe
    await expect(get(mesh)).rejects.toMatchObject({ code: 'WEFT_ERR_CIRCUIT_OPEN' });
    expect(u.hits).toBe(3);
  });

  it('applies a per-try timeout and retries on another instance', async () => {
    const { ups, mesh } = await setup(2, {
      lbPolicy: 'round_robin',
      outlier: false,
      retry: { maxAttempts: 3, perTryTimeoutMs: 150, retryOn: ['connect-failure', 'reset', 'timeout'] },
    });
    const slow = ups[0] as Upstream;
    slow.handler = () => {}; // never answers
    const started = Date.now();
    for (let i = 0; i < 6; i++) {
      const r = await get(mesh);
      expect(r.status).toBe(200);
      expect(r.upstream).toBe('u1');
    }
    expect(slow.hits).toBeGreaterThan(0);
    expect(Date.now() - started).toBeLessThan(6 * 150 + 2000);
  });

  it('fails with WEFT_ERR_TIMEOUT when the only instance hangs', async () => {
    const { ups, mesh } = await setup(1, { outlier: false, retry: false, timeoutMs: 200 });
    (ups[0] as Upstream).handler = () => {};
    const started = Date.now();
    await expect(get(mesh)).rejects.toMatchObject({ code: 'WEFT_ERR_TIMEOUT', status: 504 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });

  it('keeps routing on the last-known-good endpoints while the discovery source is down', async () => {
    const { mesh, source, discovery } = await setup(2);
    expect((await get(mesh)).status).toBe(200);
    source.fail(new Error('registry unreachable'));
    expect(discovery.endpoints('svc').stale).toBe(true);
    for (let i = 0; i < 20; i++) expect((await get(mesh)).status).toBe(200);
  });

  it('follows discovery changes: a new instance gets traffic, a removed one none', async () => {
    const { ups, mesh, source } = await setup(1, { lbPolicy: 'round_robin' });
    const extra = await upstreams('x', 1);
    cleanup.push(() => (extra[0] as Upstream).close());
    source.set([...ups, ...extra].map((u) => u.instance('svc')));
    const seen = new Set<string | undefined>();
    for (let i = 0; i < 10; i++) seen.add((await get(mesh)).upstream);
    expect(seen).toEqual(new Set(['u0', 'x0']));
    source.set(extra.map((u) => u.instance('svc')));
    const hits = (ups[0] as Upstream).hits;
    for (let i = 0; i < 10; i++) expect((await get(mesh)).upstream).toBe('x0');
    expect((ups[0] as Upstream).hits).toBe(hits);
  });

  it('least_request keeps in-flight counts across a discovery change: a busy instance is not taken for idle', async () => {
    const { ups, mesh, source } = await setup(1); // least_request is the default
    const busy = ups[0] as Upstream;
    const held: Array<() => void> = [];
    busy.handler = (req, res) => {
      req.resume();
      held.push(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{"upstream":"u0"}'));
    };
    const slow = Array.from({ length: 8 }, () => get(mesh));
    while (held.length < 8) await sleep(5);
    // A second instance registers while u0 has 8 requests in flight: the rebuilt picker must
    // still know they are there (a fresh one would send about half of the next calls to u0).
    const extra = await upstreams('x', 1);
    cleanup.push(() => (extra[0] as Upstream).close());
    source.set([busy, ...extra].map((u) => u.instance('svc')));
    const next = Array.from({ length: 6 }, () => get(mesh));
    const x0 = extra[0] as Upstream;
    while (x0.hits + busy.hits < 14) await sleep(5);
    expect(busy.hits).toBe(8);
    expect(x0.hits).toBe(6);
    // The 8 calls started on the old picker end on the new one: u0 is idle again and shares load.
    for (const release of held) release();
    expect((await Promise.all([...slow, ...next])).map((r) => r.status)).toEqual(Array(14).fill(200));
    const subset = mesh.engine.table('svc').subsets.values().next().value;
    const picker = subset?.picker as unknown as { inFlight(i: number): number; endpoints: Array<{ id: string }> };
    expect(picker.endpoints.map((_, i) => picker.inFlight(i))).toEqual([0, 0]);
    busy.handler = undefined;
    const seen = new Set<string | undefined>();
    for (let i = 0; i < 30; i++) seen.add((await get(mesh)).upstream);
    expect(seen).toEqual(new Set(['u0', 'x0']));
  });

  it('retries a buffered POST body, and refuses to replay a stream larger than the buffer with a clear error', async () => {
    const { ups, mesh } = await setup(2, {
      lbPolicy: 'round_robin',
      outlier: false,
      replayBufferBytes: 1024,
      retry: { maxAttempts: 2, retryOn: ['5xx'] },
    });
    const received: number[] = [];
    for (const u of ups)
      u.handler = (req, res) => {
        let n = 0;
        req.on('data', (c: Buffer) => {
          n += c.length;
        });
        req.on('end', () => {
          received.push(n);
          res.writeHead(u === ups[0] ? 503 : 200).end(String(n));
        });
      };
    // A string body is replayable: the 503 of u0 is retried on u1.
    for (let i = 0; i < 2; i++) {
      const res = await request('http://svc/upload', { dispatcher: mesh, method: 'POST', body: 'x'.repeat(5000) });
      expect(res.statusCode).toBe(200);
      expect(await res.body.text()).toBe('5000');
    }
    // A small stream is recorded and replayed.
    for (let i = 0; i < 2; i++) {
      const res = await request('http://svc/upload', {
        dispatcher: mesh,
        method: 'POST',
        body: Readable.from([Buffer.alloc(300), Buffer.alloc(300)]),
      });
      expect(res.statusCode).toBe(200);
      expect(await res.body.text()).toBe('600');
    }
    // A large stream cannot be replayed: the 503 is returned as is (no retry).
    const statuses: number[] = [];
    for (let i = 0; i < 2; i++) {
      const res = await request('http://svc/upload', {
        dispatcher: mesh,
        method: 'POST',
        body: Readable.from([Buffer.alloc(1000), Buffer.alloc(1000)]),
      });
      statuses.push(res.statusCode);
      await res.body.text();
    }
    expect(statuses.sort()).toEqual([200, 503]);
  });

  it('injects delays and aborts per attempt, and retries recover from injected aborts', async () => {
    let plan: 'delay' | 'abort' | 'reset' | 'flaky' = 'delay';
    let attempt = 0;
    const router = routerFor('svc', () => ({
      backendTags: [],
      ...(plan === 'flaky'
        ? {
            retry: toRetryPlan({
              maxAttempts: 4,
              retryOn: ['gateway-error', 'reset'],
              backoff: { baseMs: 1, maxMs: 2 },
            }),
          }
        : {}),
      fault: (n: number) => {
        attempt = n;
        if (plan === 'delay') return { delayMs: 200 };
        if (plan === 'abort') return { abort: 418 };
        if (plan === 'reset') return { abort: -1 };
        return n === 1 ? { abort: 503 } : undefined; // flaky: first attempt always aborted
      },
    }));
    const { ups, mesh } = await setup(1, { router, retry: false });
    const t0 = Date.now();
    expect((await get(mesh)).status).toBe(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
    plan = 'abort';
    const hits = (ups[0] as Upstream).hits;
    const res = await request('http://svc/', { dispatcher: mesh });
    expect(res.statusCode).toBe(418);
    expect(res.headers['x-weft-fault']).toBe('abort');
    expect(await res.body.json()).toMatchObject({ error: 'fault injected', status: 418 });
    expect((ups[0] as Upstream).hits).toBe(hits);
    plan = 'reset';
    await expect(request('http://svc/', { dispatcher: mesh })).rejects.toMatchObject({
      code: 'ECONNRESET',
      injected: true,
    });
    plan = 'flaky';
    for (let i = 0; i < 5; i++) {
      expect((await get(mesh)).status).toBe(200);
      expect(attempt).toBe(2);
    }
  });

  it('streams a large response and a large upload without buffering them', async () => {
    const { ups, mesh } = await setup(1);
    const size = 64 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024, 'a');
    let uploaded = 0;
    (ups[0] as Upstream).handler = (req, res) => {
      if (req.method === 'POST') {
        req.on('data', (c: Buffer) => {
          uploaded += c.length;
        });
        req.on('end', () => res.end(String(uploaded)));
        return;
      }
      res.writeHead(200, { 'content-length': size });
      let sent = 0;
      const pump = () => {
        while (sent < size) {
          sent += chunk.length;
          if (!res.write(chunk)) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      pump();
    };
    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    let peak = 0;
    const res = await request('http://svc/big', { dispatcher: mesh });
    let got = 0;
    for await (const c of res.body) {
      got += (c as Buffer).length;
      if (got % (8 * 1024 * 1024) < 65536) peak = Math.max(peak, process.memoryUsage().heapUsed - heapBefore);
    }
    expect(got).toBe(size);
    expect(peak).toBeLessThan(size / 2);
    async function* gen() {
      for (let i = 0; i < size / chunk.length; i++) yield chunk;
    }
    const up = await request('http://svc/up', { dispatcher: mesh, method: 'POST', body: Readable.from(gen()) });
    expect(await up.body.text()).toBe(String(size));
  });

  it('retries transparently, once, a request that hits a keep-alive socket the server closed', async () => {
    const { ups, mesh } = await setup(1, { retry: false, outlier: false });
    const u = ups[0] as Upstream;
    // A socket idle for 50 ms is "closed by the server" just as the next request arrives on it:
    // the race a keep-alive client loses against a server's idle timeout.
    const lastUse = new WeakMap<object, number>();
    u.handler = (req, res) => {
      const last = lastUse.get(req.socket);
      if (last !== undefined && Date.now() - last >= 50) {
        req.socket.destroy();
        return;
      }
      req.resume();
      res.end('ok', () => lastUse.set(req.socket, Date.now()));
    };
    for (let i = 0; i < 5; i++) {
      const res = await request('http://svc/ka', { dispatcher: mesh });
      expect(await res.body.text()).toBe('ok');
      await sleep(70);
    }
    expect(mesh.metrics?.snapshot().svc?.retries).toBe(4);
    // A POST is not idempotent: it is not retried, and the error says what happened.
    await expect(request('http://svc/ka', { dispatcher: mesh, method: 'POST', body: 'x' })).rejects.toMatchObject({
      code: 'WEFT_ERR_RETRIES_EXHAUSTED',
      attempts: [expect.objectContaining({ reason: 'reset' })],
    });
  });
});
