import { afterEach, describe, expect, it } from 'vitest';
import { type ControllerServer, createControllerServer } from './server.js';
import { defaultRoute, json } from './test-support.js';

const servers: ControllerServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function server(): Promise<ControllerServer> {
  const app = await createControllerServer({});
  servers.push(app);
  return app;
}

const policies = {
  defaultAction: 'deny',
  policies: [
    { id: 'block-lab', destination: '*', action: 'deny', from: [{ ipBlocks: ['10.0.0.0/8'] }] },
    { id: 'productpage-reads', destination: 'reviews', action: 'allow', from: [{ services: ['productpage'] }] },
  ],
};

describe('/v1/authorization', () => {
  it('starts open (allow, no policies), then serves what PUT stored, sharing the rules revision', async () => {
    const app = await server();
    const empty = await app.inject({ method: 'GET', url: '/v1/authorization' });
    expect(json(empty)).toEqual({ defaultAction: 'allow', policies: [], revision: 0 });
    await app.inject({ method: 'POST', url: '/v1/rules', payload: { rules: [defaultRoute] } });
    const put = await app.inject({ method: 'PUT', url: '/v1/authorization', payload: policies });
    expect(put.statusCode).toBe(200);
    expect(json(put)).toEqual({ revision: 2 });
    expect(put.headers['x-weft-index']).toBe('2');
    const got = await app.inject({ method: 'GET', url: '/v1/authorization' });
    expect(json(got)).toEqual({ ...policies, revision: 2 });
    // The rules are untouched and report the same revision.
    expect(json(await app.inject({ method: 'GET', url: '/v1/rules' }))).toMatchObject({
      revision: 2,
      rules: [defaultRoute],
    });
  });

  it('a long-poll on the policies wakes up with the next revision', async () => {
    const app = await server();
    const waiting = app.inject({ method: 'GET', url: '/v1/authorization?index=0&wait=5s' });
    await new Promise((r) => setTimeout(r, 50));
    await app.inject({ method: 'PUT', url: '/v1/authorization', payload: policies });
    const res = await waiting;
    expect(json(res)).toMatchObject({ defaultAction: 'deny', revision: 1 });
  });

  it('refuses bad policies with 400 naming each field, and a stale If-Match with 412', async () => {
    const app = await server();
    const bad = await app.inject({
      method: 'PUT',
      url: '/v1/authorization',
      payload: {
        policies: [{ id: 'x', destination: 'reviews', action: 'allow', from: [{ ipBlocks: ['300.1.1.1'] }] }],
      },
    });
    expect(bad.statusCode).toBe(400);
    expect(json(bad)).toMatchObject({
      code: 'WEFT_ERR_INVALID_ARGUMENT',
      issues: [
        {
          path: 'policies[0].from[0].ipBlocks[0]',
          message: 'must be an IP address or CIDR block such as 10.0.0.0/8 (got "300.1.1.1")',
        },
      ],
    });
    await app.inject({ method: 'PUT', url: '/v1/authorization', payload: policies });
    const stale = await app.inject({
      method: 'PUT',
      url: '/v1/authorization',
      headers: { 'if-match': '"0"' },
      payload: { policies: [] },
    });
    expect(stale.statusCode).toBe(412);
    expect(json(await app.inject({ method: 'GET', url: '/v1/authorization' }))).toMatchObject({ revision: 1 });
  });

  it('DELETE removes the policies (back to allow) with a new revision', async () => {
    const app = await server();
    await app.inject({ method: 'PUT', url: '/v1/authorization', payload: policies });
    const del = await app.inject({ method: 'DELETE', url: '/v1/authorization' });
    expect(json(del)).toEqual({ revision: 2 });
    expect(json(await app.inject({ method: 'GET', url: '/v1/authorization' }))).toEqual({
      defaultAction: 'allow',
      policies: [],
      revision: 2,
    });
  });

  it('explains a described request: the verdict and every policy considered', async () => {
    const app = await server();
    await app.inject({ method: 'PUT', url: '/v1/authorization', payload: policies });
    const res = await app.inject({
      method: 'POST',
      url: '/v1/authorization/explain',
      payload: {
        destination: 'reviews',
        peer: { ip: '127.0.0.1', identity: 'spiffe://weft.local/ns/default/svc/details' },
      },
    });
    expect(res.statusCode).toBe(200);
    expect(json(res)).toEqual({
      decision: {
        allowed: false,
        reason:
          'no allow policy for reviews matched; "productpage-reads": caller spiffe://weft.local/ns/default/svc/details is not one of services productpage',
      },
      policies: [
        { id: 'block-lab', action: 'deny', matched: false, failed: 'peer 127.0.0.1 is not in 10.0.0.0/8' },
        {
          id: 'productpage-reads',
          action: 'allow',
          matched: false,
          failed: 'caller spiffe://weft.local/ns/default/svc/details is not one of services productpage',
        },
      ],
      revision: 1,
    });
    const bad = await app.inject({
      method: 'POST',
      url: '/v1/authorization/explain',
      payload: { destination: 'reviews', peer: { identity: 'spiffe://weft.local/reviews' } },
    });
    expect(bad.statusCode).toBe(400);
    expect(json(bad)).toMatchObject({ issues: [{ path: 'peer.identity' }] });
  });
});
