import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { type ControlPlaneServer, createControlPlaneServer } from '../control-plane.js';
import { createControllerServer } from '../controller/server.js';
import { createRegistryServer } from '../registry/server.js';

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

/** The value of the one series `name{labels}` in a scrape; undefined when absent. */
function value(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    const have = (m[2] ?? '').split(/,(?=[a-z_]+=")/).filter((p) => p !== '');
    if (want.every((w) => have.includes(w)) && have.length === want.length) return Number(m[3]);
  }
  return undefined;
}

async function started(): Promise<{ app: ControlPlaneServer; base: string }> {
  const app = await createControlPlaneServer({ auth: [{ type: 'trusted' }] });
  closers.push(() => app.close());
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, base };
}

const team = { authorization: 'Bearer team-a' };

describe('GET /metrics', () => {
  it('counts requests by route, method and code, and serves without credentials', async () => {
    const { app, base } = await started();
    const reg = await app.inject({
      method: 'POST',
      url: '/api/v1/instances',
      headers: team,
      payload: { service_name: 'reviews', endpoint: { type: 'http', value: '10.0.0.1:80' }, ttl: 60 },
    });
    const id = (reg.json() as { id: string }).id;
    for (let i = 0; i < 3; i++)
      expect(
        (await app.inject({ method: 'PUT', url: `/api/v1/instances/${id}/heartbeat`, headers: team })).statusCode,
      ).toBe(200);
    await app.inject({ method: 'PUT', url: '/api/v1/instances/nope/heartbeat', headers: team });
    await app.inject({ method: 'GET', url: '/no/such/route', headers: team });
    await app.inject({
      method: 'POST',
      url: '/v1/rules',
      headers: team,
      payload: { rules: [{ destination: 'reviews', route: { backends: [{ tags: ['v1'] }] } }] },
    });

    const res = await request(`${base}/metrics`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await res.body.text();
    const heartbeat = { route: '/api/v1/instances/:id/heartbeat', method: 'PUT' };
    expect(value(text, 'weft_http_requests_total', { ...heartbeat, code: '200' })).toBe(3);
    expect(value(text, 'weft_http_requests_total', { ...heartbeat, code: '410' })).toBe(1);
    expect(value(text, 'weft_http_requests_total', { route: 'unmatched', method: 'GET', code: '404' })).toBe(1);
    expect(value(text, 'weft_http_request_duration_seconds_count', heartbeat)).toBe(4);
    expect(value(text, 'weft_http_request_duration_seconds_bucket', { ...heartbeat, le: '+Inf' })).toBe(4);
    expect(value(text, 'weft_registry_instances', { namespace: 'team-a', status: 'UP' })).toBe(1);
    expect(value(text, 'weft_rules', { namespace: 'team-a' })).toBe(1);
    expect(value(text, 'weft_rules_revision', { namespace: 'team-a' })).toBe(1);
    expect(value(text, 'weft_rules', { namespace: 'default' })).toBe(0);
    expect(value(text, 'weft_store_up', { store: 'registry' })).toBe(1);
    expect(value(text, 'weft_store_up', { store: 'rules' })).toBe(1);
    expect(value(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    // Every family has HELP and TYPE; counters end in _total.
    for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) if (m[2] === 'counter') expect(m[1]).toMatch(/_total$/);
  });

  it('counts open watches by transport, and takes long-polls out of the latency histogram', async () => {
    const { app, base } = await started();
    const stream = await request(`${base}/v1/rules`, { headers: { ...team, accept: 'text/event-stream' } });
    // Revision 0, index 0: the long-poll waits for the next change.
    const poll = request(`${base}/v1/rules?index=0&wait=5s`, { headers: team });
    await new Promise((resolve) => setTimeout(resolve, 100));
    let text = await (await request(`${base}/metrics`)).body.text();
    expect(value(text, 'weft_watchers', { transport: 'sse' })).toBe(1);
    expect(value(text, 'weft_watchers', { transport: 'long-poll' })).toBe(1);
    await app.inject({
      method: 'POST',
      url: '/v1/rules',
      headers: team,
      payload: { rules: [{ destination: 'reviews', route: { backends: [{ tags: ['v1'] }] } }] },
    });
    expect((await poll).headers['x-weft-index']).toBe('1');
    text = await (await request(`${base}/metrics`)).body.text();
    expect(value(text, 'weft_watchers', { transport: 'long-poll' })).toBe(0);
    expect(value(text, 'weft_http_requests_total', { route: '/v1/rules', method: 'GET', code: '200' })).toBe(1);
    expect(value(text, 'weft_http_request_duration_seconds_count', { route: '/v1/rules', method: 'GET' })).toBe(
      undefined,
    );
    stream.body.destroy();
    await new Promise((resolve) => setTimeout(resolve, 100));
    text = await (await request(`${base}/metrics`)).body.text();
    expect(value(text, 'weft_watchers', { transport: 'sse' })).toBe(0);
    expect(value(text, 'weft_watchers', { transport: 'long-poll' })).toBe(0);
  });

  it('is served by the registry and the controller servers alone, each with its own store', async () => {
    const registry = await createRegistryServer();
    const controller = await createControllerServer();
    closers.push(
      () => registry.close(),
      () => controller.close(),
    );
    const reg = (await registry.inject({ method: 'GET', url: '/metrics' })).body;
    expect(value(reg, 'weft_store_up', { store: 'registry' })).toBe(1);
    expect(value(reg, 'weft_store_up', { store: 'rules' })).toBe(undefined);
    const ctl = (await controller.inject({ method: 'GET', url: '/metrics' })).body;
    expect(value(ctl, 'weft_store_up', { store: 'rules' })).toBe(1);
    expect(value(ctl, 'weft_rules_revision', { namespace: 'default' })).toBe(0);
    expect(ctl).not.toContain('weft_registry_instances{');
  });
});
