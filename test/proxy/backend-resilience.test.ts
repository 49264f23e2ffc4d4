import type { ServerResponse } from 'node:http';
import { compile, VirtualClock } from '@weft/core';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { isMeshRequestError, MeshAgent, type MeshAgentOptions, rulesRouter } from '../../packages/proxy/src/index.js';
import { discoveryOf, sleep, type Upstream, upstreams } from './helpers.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()?.();
});

/** `count` upstreams of `svc` tagged `version=v1`, and an agent routing to them with `backend`. */
async function setup(count: number, backend: Record<string, unknown>, options: Partial<MeshAgentOptions> = {}) {
  const ups = await upstreams('u', count, ['version=v1']);
  const d = discoveryOf([['svc', ups]]);
  const router = rulesRouter(
    compile([{ destination: 'svc', route: { backends: [{ tags: ['version=v1'], ...backend }] } }]),
  );
  const mesh = new MeshAgent({ discovery: d.discovery, router, ...options });
  cleanup.push(async () => {
    await mesh.destroy();
    await Promise.all(ups.map((u) => u.close().catch(() => undefined)));
  });
  return { ups, mesh };
}

async function status(mesh: MeshAgent): Promise<number> {
  const res = await request('http://svc/', { dispatcher: mesh });
  await res.body.dump();
  return res.statusCode;
}

const failWith503 = (u: Upstream) => {
  u.handler = (req, res) => {
    req.resume();
    res.writeHead(503, { 'content-type': 'text/plain' }).end('failing');
  };
};

/** Makes `u` hold every request until `release()`. */
function hold(u: Upstream): { release: () => void } {
  const held: ServerResponse[] = [];
  u.handler = (req, res) => {
    req.resume();
    held.push(res);
  };
  return {
    release: () => {
      for (const res of held.splice(0)) res.writeHead(200, { 'content-length': '2' }).end('ok');
    },
  };
}

async function until(cond: () => boolean, ms = 2_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await sleep(5);
  }
}

describe('a rule backend’s resilience block', () => {
  it('ejects a failing instance after the backend’s consecutive_errors, not the agent’s', async () => {
    const { ups, mesh } = await setup(3, { lb_type: 'round_robin', resilience: { consecutive_errors: 2 } });
    const bad = ups[0] as Upstream;
    failWith503(bad);
    for (let i = 0; i < 30; i++) await status(mesh);
    // Round robin sends every third request to the bad one: out after its 2nd failure (agent default: 5).
    expect(bad.hits).toBeGreaterThanOrEqual(2);
    expect(bad.hits).toBeLessThanOrEqual(3);
    expect(mesh.metrics?.snapshot().svc?.ejections).toBe(1);
    for (let i = 0; i < 10; i++) expect(await status(mesh)).toBe(200);
  });

  it('keeps the agent’s ejection settings for a backend without a resilience block', async () => {
    const { ups, mesh } = await setup(3, { lb_type: 'round_robin' });
    const bad = ups[0] as Upstream;
    failWith503(bad);
    for (let i = 0; i < 30; i++) await status(mesh);
    expect(bad.hits).toBeGreaterThanOrEqual(5);
    expect(bad.hits).toBeLessThanOrEqual(6);
  });

  it('builds the backend’s policies once and reuses them; pools get max_connections', async () => {
    const { mesh } = await setup(2, { resilience: { max_connections: 3, max_requests: 10, max_pending_requests: 4 } });
    for (let i = 0; i < 10; i++) expect(await status(mesh)).toBe(200);
    const table = mesh.engine.table('svc');
    const subsets = [...table.subsets.values()];
    expect(subsets).toHaveLength(1);
    const backend = subsets[0]?.backend;
    expect(backend?.pool.connections).toBe(3);
    // HTTP/1.1: min(max_requests, max_connections) at once, max_pending_requests waiting.
    expect(backend?.bulkhead.maxConcurrent).toBe(3);
    expect(backend?.bulkhead.maxQueue).toBe(4);
    expect(backend?.breaker.trip).toEqual({ kind: 'consecutive', threshold: 5 });
    for (let i = 0; i < 10; i++) await status(mesh);
    expect(mesh.engine.table('svc').subsets.values().next().value?.backend).toBe(backend);
    // The backend's endpoints are its own, not the service's shared ones.
    expect(table.entries.size).toBe(0);
    expect(subsets[0]?.entries).toHaveLength(2);
  });

  it('rejects a request over max_requests with max_pending_requests 0: coded 503, upstream untouched', async () => {
    const { ups, mesh } = await setup(1, { resilience: { max_requests: 1, max_pending_requests: 0 } });
    const u = ups[0] as Upstream;
    const held = hold(u);
    const first = request('http://svc/first', { dispatcher: mesh });
    await until(() => u.hits === 1);
    const second = await request('http://svc/second', { dispatcher: mesh }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(isMeshRequestError(second)).toBe(true);
    if (!isMeshRequestError(second)) return;
    expect(second.code).toBe('WEFT_ERR_BULKHEAD_FULL');
    expect(second.status).toBe(503);
    expect(second.attempts).toEqual([]);
    expect(u.hits).toBe(1);
    held.release();
    const res = await first;
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    // The slot is free again.
    u.handler = undefined;
    expect(await status(mesh)).toBe(200);
    expect(u.hits).toBe(2);
  });

  it('queues up to max_pending_requests and runs them when a slot frees', async () => {
    const { ups, mesh } = await setup(1, { resilience: { max_requests: 1, max_pending_requests: 1 } });
    const u = ups[0] as Upstream;
    const held = hold(u);
    const first = request('http://svc/1', { dispatcher: mesh });
    await until(() => u.hits === 1);
    const second = request('http://svc/2', { dispatcher: mesh });
    const third = await request('http://svc/3', { dispatcher: mesh }).catch((err: unknown) => err);
    expect((third as { code?: string }).code).toBe('WEFT_ERR_BULKHEAD_FULL');
    await sleep(20);
    expect(u.hits).toBe(1); // the second waits in the queue
    held.release();
    expect((await first).statusCode).toBe(200);
    await until(() => u.hits === 2);
    held.release();
    const res = await second;
    expect(res.statusCode).toBe(200);
    await res.body.dump();
  });

  it('frees a backend left unused (own pools and breakers), rebuilds it when it is used again', async () => {
    const clock = new VirtualClock(Date.now());
    const { mesh } = await setup(1, { resilience: { max_connections: 2 } }, { clock });
    expect(await status(mesh)).toBe(200);
    const table = mesh.engine.table('svc');
    const first = [...table.subsets.values()][0]?.backend;
    expect(first).toBeDefined();
    // One sweep clears the "used" mark, the next one frees what nobody used in between.
    clock.advance(60_000);
    expect(table.subsets.size).toBe(1);
    clock.advance(60_000);
    expect(table.subsets.size).toBe(0);
    expect(await status(mesh)).toBe(200);
    const second = [...table.subsets.values()][0]?.backend;
    expect(second).toBeDefined();
    expect(second).not.toBe(first);
    // A backend in use survives every sweep.
    for (let i = 0; i < 3; i++) {
      expect(await status(mesh)).toBe(200);
      clock.advance(60_000);
    }
    expect([...table.subsets.values()][0]?.backend).toBe(second);
  });

  it('reports a backend’s breakers apart from the shared ones of the same endpoint', async () => {
    const ups = await upstreams('b', 1, ['version=v1']);
    const d = discoveryOf([['svc', ups]]);
    const router = rulesRouter(
      compile([
        {
          destination: 'svc',
          match: { headers: { 'x-own': '^yes$' } },
          priority: 2,
          route: { backends: [{ tags: ['version=v1'], resilience: { consecutive_errors: 1, sleep_window: '60s' } }] },
        },
        { destination: 'svc', priority: 1, route: { backends: [{ tags: ['version=v1'] }] } },
      ]),
    );
    const mesh = new MeshAgent({ discovery: d.discovery, router, retry: false, outlier: false });
    cleanup.push(async () => {
      await mesh.destroy();
      await Promise.all(ups.map((u) => u.close().catch(() => undefined)));
    });
    failWith503(ups[0] as Upstream);
    await request('http://svc/', { dispatcher: mesh, headers: { 'x-own': 'yes' } }).then((r) => r.body.dump());
    const series = () => (mesh.metrics?.text() ?? '').split('\n').filter((l) => l.startsWith('weft_breaker_state{'));
    // The backend's breaker opened after one error; the shared breaker of the same endpoint did not.
    expect(series().filter((l) => / 2$/.test(l))).toHaveLength(1);
    expect(series().some((l) => /backend="shared"/.test(l))).toBe(false);
    // Enough plain calls open the shared breaker too: two series for one endpoint.
    for (let i = 0; i < 10; i++)
      await request('http://svc/', { dispatcher: mesh }).then(
        (r) => r.body.dump(),
        (e: unknown) => expect(isMeshRequestError(e) && e.code).toBe('WEFT_ERR_CIRCUIT_OPEN'),
      );
    const open = series().filter((l) => / 2$/.test(l));
    expect(open).toHaveLength(2);
    expect(open.filter((l) => /backend="shared"/.test(l))).toHaveLength(1);
  });
});
