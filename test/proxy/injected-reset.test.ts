/**
 * Amalgam8's abort fault `-1` ("reset connection"): the sidecar resets its client's connection
 * (TCP RST, no HTTP answer); a MeshAgent caller gets an `ECONNRESET` error that says it was
 * injected. Either way it is deliberate: not retried, and not held against the endpoint.
 */
import { compile } from '@weft/core';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import {
  InjectedResetError,
  isInjectedReset,
  MemoryAccessLog,
  MeshAgent,
  type MeshEngineOptions,
  type Router,
  rulesRouter,
  Sidecar,
  toRetryPlan,
} from '../../packages/proxy/src/index.js';
import { cleanupAfterEach, discoveryOf, routerFor, type Upstream, upstreams } from './helpers.js';
import { rawExchange } from './raw-net.js';

const cleanup = cleanupAfterEach();

/** A router whose faults reset every attempt while `on.reset` is true, counting the rolls. */
function resettingRouter(): { router: Router; on: { reset: boolean }; rolls: () => number } {
  const on = { reset: true };
  let rolls = 0;
  const router = routerFor('svc', () => ({
    backendTags: [],
    // Retries that would recover from a reset, if an injected one were retried.
    retry: toRetryPlan({ maxAttempts: 4, retryOn: ['reset', '5xx'], backoff: { baseMs: 1, maxMs: 2 } }),
    fault: () => {
      rolls++;
      return on.reset ? { abort: -1 } : undefined;
    },
  }));
  return { router, on, rolls: () => rolls };
}

/** Health settings under which a single failure held against the endpoint would show. */
const STRICT: Partial<MeshEngineOptions> = {
  breaker: { trip: { kind: 'consecutive', threshold: 2 } },
  outlier: { consecutiveGatewayErrors: 2 },
};

async function upstream(): Promise<{ up: Upstream; discovery: ReturnType<typeof discoveryOf>['discovery'] }> {
  const ups = await upstreams('u', 1);
  const up = ups[0] as Upstream;
  cleanup.push(() => up.close());
  return { up, discovery: discoveryOf([['svc', ups]]).discovery };
}

describe('an injected reset (abort -1)', () => {
  it('through the sidecar: the client connection is reset with no bytes, once, and the endpoint stays healthy', async () => {
    const { up, discovery } = await upstream();
    const { router, on, rolls } = resettingRouter();
    const log = new MemoryAccessLog();
    const sidecar = new Sidecar({ discovery, router, port: 0, admin: false, accessLog: log, ...STRICT });
    cleanup.push(() => sidecar.close());
    const { port } = await sidecar.listen();
    for (let i = 0; i < 4; i++) {
      const r = await rawExchange(port, 'GET /svc/x HTTP/1.1\r\nHost: localhost\r\nx-request-id: reset-me\r\n\r\n');
      expect(r).toMatchObject({ closed: true, error: 'ECONNRESET' });
      expect(r.bytes.length).toBe(0);
    }
    expect(rolls()).toBe(4); // one attempt per request: never retried
    expect(up.hits).toBe(0);
    expect(log.records.find((r) => r.request_id === 'reset-me')).toMatchObject({ status: 0, error_code: 'ECONNRESET' });
    // Four "failures" in a row did not open the breaker (2) nor eject the endpoint (2).
    on.reset = false;
    const ok = await rawExchange(port, 'GET /svc/x HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    expect(ok.bytes.toString('latin1')).toMatch(/^HTTP\/1\.1 200 /);
    expect(up.hits).toBe(1);
  });

  it('through MeshAgent: an ECONNRESET error that says it was injected, not retried, endpoint unharmed', async () => {
    const { up, discovery } = await upstream();
    const { router, on, rolls } = resettingRouter();
    const mesh = new MeshAgent({ discovery, router, ...STRICT });
    cleanup.push(() => mesh.destroy());
    for (let i = 0; i < 4; i++) {
      const err = await request('http://svc/x', { dispatcher: mesh }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isInjectedReset(err)).toBe(true);
      if (!(err instanceof InjectedResetError)) return;
      expect(err).toMatchObject({ code: 'ECONNRESET', injected: true, service: 'svc' });
      expect(err.message).toBe('GET svc/x: connection reset by an injected fault (abort -1; not retried)');
      expect(err.attempts).toEqual([expect.objectContaining({ endpoint: 'fault', reason: 'fault-reset' })]);
    }
    expect(rolls()).toBe(4);
    // fetch wraps dispatcher errors: the injected reset is its cause.
    await expect(fetch('http://svc/x', { dispatcher: mesh } as unknown as RequestInit)).rejects.toMatchObject({
      cause: { code: 'ECONNRESET', injected: true },
    });
    on.reset = false;
    const res = await request('http://svc/x', { dispatcher: mesh });
    expect(res.statusCode).toBe(200);
    await res.body.text();
    expect(up.hits).toBe(1);
  });

  it('from an Amalgam8 action rule (return_code -1) through the sidecar', async () => {
    const { up, discovery } = await upstream();
    const router = rulesRouter(
      compile([
        { destination: 'svc', route: { backends: [{ tags: [] }], http_req_retries: 3 } },
        { destination: 'svc', actions: [{ action: 'abort', return_code: -1, probability: 1, tags: [] }] },
      ]),
    );
    const sidecar = new Sidecar({ discovery, router, port: 0, admin: false, accessLog: false });
    cleanup.push(() => sidecar.close());
    const { port } = await sidecar.listen();
    const r = await rawExchange(port, 'GET /svc/x HTTP/1.1\r\nHost: localhost\r\n\r\n');
    expect(r).toMatchObject({ closed: true, error: 'ECONNRESET' });
    expect(r.bytes.length).toBe(0);
    expect(up.hits).toBe(0);
  });
});
