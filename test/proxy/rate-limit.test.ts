/**
 * Rate limits over real HTTP on loopback: a rule backend's `rate_limit` and the proxy-wide
 * `rateLimit` option, per route, per calling service and per client IP (distinct loopback
 * addresses), answered 429 with `Retry-After` and a coded body, logged and counted.
 */
import { request as httpRequest } from 'node:http';
import { VirtualClock } from '@weft/core';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import {
  isMeshRequestError,
  MemoryAccessLog,
  MeshAgent,
  type MeshEngineOptions,
  rulesRouter,
  Sidecar,
} from '../../packages/proxy/src/index.js';
import { discoveryOf, type Upstream, upstreams } from './helpers.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()?.();
});

/** A rule sending every call of `svc` to its instances, with this backend `rate_limit`. */
const limitedRule = (rateLimit: Record<string, unknown>) => [
  { id: 'limit-svc', destination: 'svc', route: { backends: [{ rate_limit: rateLimit }] } },
];

/** One upstream of `svc`, and a sidecar (on a virtual clock) in front of it. */
async function sidecarWith(rules: unknown[], options: Partial<MeshEngineOptions> = {}) {
  const [up] = (await upstreams('u', 1)) as [Upstream];
  const d = discoveryOf([['svc', [up]]]);
  const clock = new VirtualClock(Date.now());
  const router = rulesRouter(rules);
  const log = new MemoryAccessLog();
  const sidecar = new Sidecar({
    discovery: d.discovery,
    router,
    clock,
    port: 0,
    admin: { port: 0 },
    accessLog: log,
    ...options,
  });
  const { port, adminPort } = await sidecar.listen();
  cleanup.push(async () => {
    await sidecar.close();
    await up.close();
  });
  return { up, sidecar, port, adminPort: adminPort as number, clock, router, log };
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** GET through the sidecar from `localAddress` (a loopback address of the client's own). */
function get(port: number, path: string, localAddress = '127.0.0.1'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, localAddress, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString() }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

/** Statuses of `n` calls in turn. */
async function statuses(n: number, call: () => Promise<Answer>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await call()).status);
  return out;
}

describe('a rule backend’s rate_limit at the sidecar', () => {
  it('admits the burst, then answers 429 with Retry-After and a coded body, without reaching the upstream', async () => {
    const { up, port, log } = await sidecarWith(limitedRule({ requests_per_second: 0.5, burst: 2 }));
    expect(await statuses(2, () => get(port, '/svc/a'))).toEqual([200, 200]);
    const refused = await get(port, '/svc/a');
    expect(refused.status).toBe(429);
    // 0.5 tokens a second: the next one is 2 s away.
    expect(refused.headers['retry-after']).toBe('2');
    expect(refused.headers['content-type']).toBe('application/json');
    expect(JSON.parse(refused.body)).toMatchObject({
      code: 'WEFT_ERR_RATE_LIMITED',
      status: 429,
      service: 'svc',
      retry_after_ms: 2000,
      attempts: [],
      error: 'GET svc/a refused by the rate limit of its route: 30 requests per minute (burst 2); retry in 2 s',
    });
    expect(up.hits).toBe(2);
    const record = log.records.at(-1);
    expect(record).toMatchObject({
      status: 429,
      error_code: 'WEFT_ERR_RATE_LIMITED',
      outcome: 'rate-limited',
      rule_id: 'limit-svc',
      upstream_host: '-',
      attempts: 0,
    });
    expect(log.records.filter((r) => r.outcome !== undefined)).toHaveLength(1);
  });

  it('refills tokens on the clock: one more call per 1/rate seconds, never more than the burst', async () => {
    const { port, clock } = await sidecarWith(limitedRule({ requests_per_second: 2, burst: 2 }));
    expect(await statuses(3, () => get(port, '/svc/'))).toEqual([200, 200, 429]);
    clock.advance(499);
    expect((await get(port, '/svc/')).status).toBe(429);
    clock.advance(1);
    expect(await statuses(2, () => get(port, '/svc/'))).toEqual([200, 429]);
    clock.advance(60_000); // a long quiet period saves up only the burst
    expect(await statuses(3, () => get(port, '/svc/'))).toEqual([200, 200, 429]);
  });

  it('keeps a bucket per client IP at a gateway: one client exhausting its own leaves another untouched', async () => {
    const { port } = await sidecarWith(limitedRule({ requests_per_minute: 60, burst: 2, per_source: 'client_ip' }));
    expect(await statuses(3, () => get(port, '/svc/', '127.0.0.2'))).toEqual([200, 200, 429]);
    expect(await statuses(3, () => get(port, '/svc/', '127.0.0.3'))).toEqual([200, 200, 429]);
    const again = await get(port, '/svc/', '127.0.0.2');
    expect([again.status, again.headers['retry-after']]).toEqual([429, '1']);
  });

  it('follows a rule update: a new limit takes effect, an unchanged one keeps its buckets', async () => {
    const { port, router } = await sidecarWith(limitedRule({ requests_per_second: 1, burst: 1 }));
    expect(await statuses(2, () => get(port, '/svc/'))).toEqual([200, 429]);
    // The same limit in a new revision: still spent.
    router.update(limitedRule({ requests_per_second: 1, burst: 1 }));
    expect((await get(port, '/svc/')).status).toBe(429);
    // A larger limit: new buckets, the new burst.
    router.update(limitedRule({ requests_per_second: 1, burst: 3 }));
    expect(await statuses(4, () => get(port, '/svc/'))).toEqual([200, 200, 200, 429]);
    // No limit at all.
    router.update([{ destination: 'svc', route: { backends: [{}] } }]);
    expect(await statuses(5, () => get(port, '/svc/'))).toEqual([200, 200, 200, 200, 200]);
  });

  it('counts refusals in /metrics, by service and limit, beside the 429s', async () => {
    const { port, adminPort } = await sidecarWith(limitedRule({ requests_per_second: 1, burst: 1 }), {
      rateLimit: { ratePerSecond: 100 },
    });
    await statuses(4, () => get(port, '/svc/'));
    const text = await (await request(`http://127.0.0.1:${adminPort}/metrics`)).body.text();
    expect(text).toContain('# TYPE weft_rate_limited_total counter');
    expect(text).toContain('weft_rate_limited_total{service="svc",limit="rule"} 3');
    expect(text).toContain('weft_rate_limited_total{service="svc",limit="proxy"} 0');
    expect(text).toContain('weft_requests_total{service="svc",code="429"} 3');
  });
});

describe('the proxy-wide rateLimit option', () => {
  it('limits routes without a rate_limit of their own, per destination service', async () => {
    const ups = await upstreams('u', 1);
    const d = discoveryOf([
      ['a', ups],
      ['b', ups],
    ]);
    const mesh = new MeshAgent({ discovery: d.discovery, clock: new VirtualClock(), rateLimit: { ratePerMinute: 1 } });
    cleanup.push(async () => {
      await mesh.destroy();
      await Promise.all(ups.map((u) => u.close()));
    });
    const call = (svc: string) =>
      request(`http://${svc}/`, { dispatcher: mesh }).then(
        async (res) => {
          await res.body.dump();
          return res.statusCode;
        },
        (err: unknown) => err,
      );
    expect(await call('a')).toBe(200);
    expect(await call('b')).toBe(200);
    // As the bulkhead's refusal surfaces: a coded MeshRequestError, no attempt made.
    const refused = await call('a');
    expect(isMeshRequestError(refused)).toBe(true);
    if (!isMeshRequestError(refused)) return;
    expect([refused.code, refused.status, refused.retryAfterMs, refused.attempts]).toEqual([
      'WEFT_ERR_RATE_LIMITED',
      429,
      60_000,
      [],
    ]);
    expect(ups[0]?.hits).toBe(2);
    expect(mesh.metrics?.text()).toContain('weft_rate_limited_total{service="a",limit="proxy"} 1');
  });

  it('keeps a bucket per calling service: one caller exhausting its bucket leaves another untouched', async () => {
    const ups = await upstreams('u', 1);
    const d = discoveryOf([['svc', ups]]);
    const mesh = new MeshAgent({
      discovery: d.discovery,
      clock: new VirtualClock(),
      identity: { name: 'gateway' },
      rateLimit: { ratePerSecond: 1, burst: 2, perSource: 'service' },
    });
    cleanup.push(async () => {
      await mesh.destroy();
      await Promise.all(ups.map((u) => u.close()));
    });
    /** A call to svc on behalf of `source` (as a proxy that learned the caller per request): its status or error code. */
    const callAs = (source: string | undefined) =>
      new Promise<number | string>((resolve) => {
        mesh.dispatchTo(
          'svc',
          { method: 'GET', path: '/' },
          {
            onResponseStart: (_c, status) => resolve(status),
            onResponseError: (_c, err) => resolve((err as { code?: string }).code ?? 'error'),
          },
          source === undefined ? undefined : { source: { name: source } },
        );
      });
    const refused = 'WEFT_ERR_RATE_LIMITED';
    expect([await callAs('reviews'), await callAs('reviews'), await callAs('reviews')]).toEqual([200, 200, refused]);
    expect([await callAs('ratings'), await callAs('ratings'), await callAs('ratings')]).toEqual([200, 200, refused]);
    // Without a per-call source the proxy's own identity is the caller.
    expect([await callAs(undefined), await callAs(undefined), await callAs(undefined)]).toEqual([200, 200, refused]);
    expect(ups[0]?.hits).toBe(6);
  });
});
