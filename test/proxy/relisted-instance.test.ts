/**
 * An instance listed again at the same address with other tags or weight (a re-registration):
 * the proxy keeps its endpoint (pool, breaker, load) but reads the new listing — fault rules
 * scoped by tags see the new tags at once. Announcing another mTLS identity replaces the endpoint.
 */
import { ManualSource } from '@weft/core';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { MeshAgent, rulesRouter } from '../../packages/proxy/src/index.js';
import { Discovery, loopbackInstance, type Upstream, upstreams } from './helpers.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()?.();
});

describe('an instance listed again with other tags', () => {
  it('is judged by its new tags: a fault scoped to version=v2 hits it once it carries that tag', async () => {
    const [up] = (await upstreams('relist', 1)) as [Upstream];
    const v1 = loopbackInstance('svc', 'http', up.port, ['version=v1']);
    const source = new ManualSource('test', [v1]);
    const discovery = new Discovery({ sources: [source] });
    const router = rulesRouter([
      {
        id: 'abort-v2',
        destination: 'svc',
        actions: [{ action: 'abort', return_code: 503, probability: 1, tags: ['version=v2'] }],
      },
    ]);
    const agent = new MeshAgent({ discovery, router, retry: false });
    cleanup.push(async () => {
      await agent.close();
      await up.close();
    });
    const status = async () => {
      const res = await request('http://svc/x', { dispatcher: agent });
      await res.body.text();
      return res.statusCode;
    };
    expect(await status()).toBe(200);
    // The same instance (same id, same address) registered again as v2.
    const v2 = { ...v1, tags: ['version=v2'] };
    expect(v2.id).toBe(v1.id);
    source.set([v2]);
    expect(await status()).toBe(503);
    expect(up.hits).toBe(1);
  });
});
