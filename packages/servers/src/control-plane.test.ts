import { MemoryRegistry } from '@weft/core';
import { afterEach, describe, expect, it } from 'vitest';
import { type ControlPlaneServer, createControlPlaneServer } from './control-plane.js';

const apps: ControlPlaneServer[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

async function controlPlane(options: Parameters<typeof createControlPlaneServer>[0] = {}) {
  const app = await createControlPlaneServer(options);
  apps.push(app);
  return app;
}

const registration = (value: string, tags: string[] = ['version=v1']) => ({
  service_name: 'reviews',
  endpoint: { type: 'http', value },
  tags,
});
const rule = { id: 'to-v2', destination: 'reviews', route: { backends: [{ tags: ['version=v2'] }] } };

describe('createControlPlaneServer', () => {
  it('serves both APIs on one app by default: memory stores, no credentials', async () => {
    const app = await controlPlane();
    const reg = await app.inject({ method: 'POST', url: '/api/v1/instances', payload: registration('10.0.0.1:80') });
    expect(reg.statusCode).toBe(201);
    const put = await app.inject({ method: 'POST', url: '/v1/rules', payload: { rules: [rule] } });
    expect(put.statusCode).toBe(201);
    const services = await app.inject({ method: 'GET', url: '/api/v1/services' });
    expect(services.json()).toEqual({ services: ['reviews'] });
    expect((await app.inject({ method: 'GET', url: '/v1/rules' })).json()).toMatchObject({
      rules: [rule],
      revision: 1,
    });
    expect(await app.registry.instances({ service: 'reviews' })).toHaveLength(1);
    expect((await app.rulesStore.get('default')).rules).toHaveLength(1);
  });

  it('puts both APIs behind one auth chain, with /health open', async () => {
    const app = await controlPlane({ auth: [{ type: 'trusted' }] });
    expect((await app.inject({ method: 'GET', url: '/api/v1/services' })).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/v1/rules' })).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
    const asTeam = (team: string) => ({ authorization: `Bearer ${team}` });
    await app.inject({
      method: 'POST',
      url: '/api/v1/instances',
      headers: asTeam('a'),
      payload: registration('10.0.0.1:80'),
    });
    await app.inject({ method: 'POST', url: '/v1/rules', headers: asTeam('a'), payload: { rules: [rule] } });
    // Namespace b sees neither the instance nor the rule of namespace a.
    expect((await app.inject({ method: 'GET', url: '/api/v1/services', headers: asTeam('b') })).json()).toEqual({
      services: [],
    });
    expect((await app.inject({ method: 'GET', url: '/v1/rules', headers: asTeam('b') })).json()).toMatchObject({
      rules: [],
    });
    expect((await app.inject({ method: 'GET', url: '/v1/rules', headers: asTeam('a') })).json()).toMatchObject({
      rules: [rule],
    });
  });

  it('lints rule writes against the registered instances', async () => {
    const app = await controlPlane();
    const before = await app.inject({ method: 'POST', url: '/v1/rules', payload: { rules: [rule] } });
    expect((before.json() as { warnings: unknown[] }).warnings.length).toBeGreaterThan(0);
    await app.inject({
      method: 'POST',
      url: '/api/v1/instances',
      payload: registration('10.0.0.2:80', ['version=v2']),
    });
    const after = await app.inject({
      method: 'PUT',
      url: '/v1/rules/routes/reviews',
      payload: { rules: [rule] },
    });
    expect(after.statusCode).toBeLessThan(300);
    expect((after.json() as { warnings: unknown[] }).warnings).toEqual([]);
  });

  it('answers /health with 503 when the registry cannot read', async () => {
    const registry = new MemoryRegistry();
    const app = await controlPlane({ registryInstance: registry });
    expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
    await registry.close();
    const res = await app.inject({ method: 'GET', url: '/health' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ status: 'unavailable', error: expect.stringMatching(/^registry: /) });
  });

  it('closes the stores it created, never the ones it was given', async () => {
    const given = new MemoryRegistry();
    const app = await createControlPlaneServer({ registryInstance: given });
    const rules = app.rulesStore;
    await app.close();
    await expect(given.services()).resolves.toEqual([]);
    await expect(rules.check()).rejects.toThrow();
    await given.close();
  });

  it('mounts the registry under a prefix', async () => {
    const app = await controlPlane({ registry: { prefix: '/registry' } });
    expect((await app.inject({ method: 'GET', url: '/registry/api/v1/services' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/api/v1/services' })).statusCode).toBe(404);
  });
});
