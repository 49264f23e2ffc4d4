/**
 * An upstream's `Retry-After` is honoured on the proxy's retries (core's `RetryPolicy.decide()`),
 * capped by `maxRetryAfterMs`, and never waited for past the call's own timeout — on the agent's
 * default retries and on a rule's.
 */
import { compile } from '@weft/core';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { MeshAgent, rulesRouter } from '../../packages/proxy/src/index.js';
import { cleanupAfterEach, discoveryOf, type Upstream, upstreams } from './helpers.js';

const cleanup = cleanupAfterEach();

/** An upstream that answers the first request 503 with `Retry-After: <retryAfter>`, then 200; records when each came. */
async function busyOnce(retryAfter: string): Promise<{ up: Upstream; at: number[] }> {
  const [up] = await upstreams('busy', 1);
  const u = up as Upstream;
  const at: number[] = [];
  u.handler = (req, res) => {
    at.push(performance.now());
    req.resume();
    if (at.length === 1) res.writeHead(503, { 'retry-after': retryAfter, 'content-length': '0' }).end();
    else res.writeHead(200, { 'content-length': '2' }).end('ok');
  };
  cleanup.push(() => u.close());
  return { up: u, at };
}

async function get(mesh: MeshAgent): Promise<number> {
  const res = await request('http://svc/x', { dispatcher: mesh });
  await res.body.dump();
  return res.statusCode;
}

describe('Retry-After on the proxy retry path', () => {
  it('an upstream answering 503 with Retry-After: 1 is retried after ~1 s, not after the 1–25 ms backoff', async () => {
    const { up, at } = await busyOnce('1');
    const mesh = new MeshAgent({
      discovery: discoveryOf([['svc', [up]]]).discovery,
      retry: { maxAttempts: 2, retryOn: ['5xx'] },
    });
    cleanup.push(() => mesh.destroy());
    expect(await get(mesh)).toBe(200);
    expect(at).toHaveLength(2);
    const waited = (at[1] as number) - (at[0] as number);
    expect(waited).toBeGreaterThanOrEqual(950);
    expect(waited).toBeLessThan(1_500);
  });

  it('a long Retry-After is capped by maxRetryAfterMs', async () => {
    const { up, at } = await busyOnce('3600');
    const mesh = new MeshAgent({
      discovery: discoveryOf([['svc', [up]]]).discovery,
      retry: { maxAttempts: 2, retryOn: ['5xx'], maxRetryAfterMs: 150 },
    });
    cleanup.push(() => mesh.destroy());
    expect(await get(mesh)).toBe(200);
    const waited = (at[1] as number) - (at[0] as number);
    expect(waited).toBeGreaterThanOrEqual(140);
    expect(waited).toBeLessThan(600);
  });

  it('a rule’s retries honour it too (capped by the router’s maxRetryAfterMs)', async () => {
    const { up, at } = await busyOnce('3600');
    const router = rulesRouter(
      compile([
        { destination: 'svc', route: { backends: [{ tags: [] }], retries: { attempts: 1, retry_on: ['5xx'] } } },
      ]),
      { maxRetryAfterMs: 200 },
    );
    const mesh = new MeshAgent({ discovery: discoveryOf([['svc', [up]]]).discovery, router });
    cleanup.push(() => mesh.destroy());
    expect(await get(mesh)).toBe(200);
    const waited = (at[1] as number) - (at[0] as number);
    expect(waited).toBeGreaterThanOrEqual(190);
    expect(waited).toBeLessThan(700);
  });

  it('a Retry-After that outlasts the call’s timeout is not waited for: the caller gets the 503 at once', async () => {
    const { up, at } = await busyOnce('5');
    const mesh = new MeshAgent({
      discovery: discoveryOf([['svc', [up]]]).discovery,
      retry: { maxAttempts: 2, retryOn: ['5xx'] },
      timeoutMs: 1_000,
    });
    cleanup.push(() => mesh.destroy());
    const started = performance.now();
    const res = await request('http://svc/x', { dispatcher: mesh });
    await res.body.dump();
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(at).toHaveLength(1);
    expect(performance.now() - started).toBeLessThan(500);
  });
});
