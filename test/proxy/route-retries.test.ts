/** A route's explicit zero retries means zero; a route that says nothing keeps the agent's default. */
import { compile } from '@weft/core';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isMeshRequestError, MeshAgent, rulesRouter } from '../../packages/proxy/src/index.js';
import { discoveryOf, type Upstream, upstreams } from './helpers.js';

describe('route retries from Amalgam8 rules', () => {
  let ups: Upstream[];
  let discovery: ReturnType<typeof discoveryOf>['discovery'];
  const agents: MeshAgent[] = [];

  beforeAll(async () => {
    ups = await upstreams('dead', 1);
    discovery = discoveryOf([['svc', ups]]).discovery;
    // Connections are refused from now on: every attempt is a connect failure, always retriable.
    await (ups[0] as Upstream).kill();
  });

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.destroy()));
  });

  async function attemptsWith(route: Record<string, unknown>): Promise<number> {
    const router = rulesRouter(compile([{ destination: 'svc', route: { backends: [{ tags: [] }], ...route } }]));
    const mesh = new MeshAgent({ discovery, router, outlier: false, retryBudget: false });
    agents.push(mesh);
    const err = await request('http://svc/x', { dispatcher: mesh }).then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!isMeshRequestError(err)) throw new Error(`expected a MeshRequestError, got ${String(err)}`);
    return err.attempts.length;
  }

  it('http_req_retries: 0 makes one attempt', async () => {
    expect(await attemptsWith({ http_req_retries: 0 })).toBe(1);
  });

  it('retries: {attempts: 0} makes one attempt', async () => {
    expect(await attemptsWith({ retries: { attempts: 0 } })).toBe(1);
  });

  it('a route without retries keeps the agent default (2 retries)', async () => {
    expect(await attemptsWith({})).toBe(3);
  });

  it('http_req_retries: 1 makes two attempts', async () => {
    expect(await attemptsWith({ http_req_retries: 1 })).toBe(2);
  });
});
