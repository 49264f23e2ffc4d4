import { type Dispatcher, request } from 'undici';
import { describe, expect, it } from 'vitest';
import { MemoryAccessLog, MeshAgent } from '../../packages/proxy/src/index.js';
import { cleanupAfterEach, discoveryOf, routerFor, type Upstream, type UpstreamHandler, upstreams } from './helpers.js';

const cleanup = cleanupAfterEach();

/** Where the caller's handler throws. */
type Where = 'early-hints' | 'start' | 'data' | 'end';

/**
 * An interceptor whose handler throws `error` from one response callback and otherwise passes
 * everything to undici's own handler (the one `request` resolves and rejects through).
 */
function throwing(where: Where, error: Error): Dispatcher.DispatcherComposeInterceptor {
  return (dispatch) => (opts, handler) =>
    dispatch(opts, {
      onRequestStart: (c, context) => handler.onRequestStart?.(c, context),
      onResponseStart: (c, status, headers, text) => {
        if (where === (status < 200 ? 'early-hints' : 'start')) throw error;
        handler.onResponseStart?.(c, status, headers, text);
      },
      onResponseData: (c, chunk) => {
        if (where === 'data') throw error;
        handler.onResponseData?.(c, chunk);
      },
      onResponseEnd: (c, trailers) => {
        if (where === 'end') throw error;
        handler.onResponseEnd?.(c, trailers);
      },
      onResponseError: (c, err) => handler.onResponseError?.(c, err),
    });
}

/** The rejection of a request read in full (its body too), or 'ok'. */
async function settle(mesh: Dispatcher, where: Where, error: Error, requestId: string): Promise<unknown> {
  try {
    const res = await request('http://svc/x', {
      dispatcher: mesh.compose(throwing(where, error)),
      headers: { 'x-request-id': requestId },
    });
    await res.body.text();
    return 'ok';
  } catch (err) {
    return err;
  }
}

/** An upstream answering 200 with a body, after a 103 Early Hints. */
const withEarlyHints: UpstreamHandler = (req, res) => {
  req.resume();
  res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '5' });
  res.end('hello');
};

/** A MeshAgent that retries 5xx-class failures and blames an endpoint for the first one. */
async function strictMesh(): Promise<{ mesh: MeshAgent; up: Upstream; log: MemoryAccessLog }> {
  const ups = await upstreams('u', 1);
  const up = ups[0] as Upstream;
  up.handler = withEarlyHints;
  cleanup.push(() => up.close());
  const log = new MemoryAccessLog();
  const mesh = new MeshAgent({
    discovery: discoveryOf([['svc', ups]]).discovery,
    accessLog: log,
    breaker: { trip: { kind: 'consecutive', threshold: 1 } },
    outlier: { consecutive5xx: 1, consecutiveGatewayErrors: 1 },
    retry: { maxAttempts: 3, retryOn: ['5xx', 'reset', 'connect-failure'], backoff: { baseMs: 1, maxMs: 2 } },
  });
  cleanup.push(() => mesh.close());
  return { mesh, up, log };
}

describe("a caller's handler that throws from a response callback (as undici does)", () => {
  for (const where of ['early-hints', 'start', 'data', 'end'] as const) {
    it(`in ${where}: the request fails with that very error, sent once, the endpoint not blamed`, async () => {
      const { mesh, up, log } = await strictMesh();
      const boom = Object.assign(new Error(`the app's own bug (${where})`), { code: 'E_APP_BUG' });
      const result = await settle(mesh, where, boom, `throws-${where}`);
      expect(result).toBe(boom);
      // Neither retried nor reported as the upstream's failure.
      expect(up.hits).toBe(1);
      const entry = [...mesh.engine.table('svc').allEntries()][0];
      expect(entry?.breaker.state).toBe('closed');
      expect(entry?.ejected).toBe(false);
      // A well-behaved request goes through at once.
      const ok = await request('http://svc/ok', { dispatcher: mesh });
      expect(await ok.body.text()).toBe('hello');
      expect(up.hits).toBe(2);
      const rec = log.records.find((r) => r.request_id === `throws-${where}`);
      expect(rec).toMatchObject({ attempts: 1, upstream_host: `127.0.0.1:${up.port}` });
      // The call is logged with the caller's error, not an upstream one (at the end, the response
      // had been delivered in full: logged as answered).
      if (where !== 'end') {
        expect(rec).toMatchObject({ error_code: 'E_APP_BUG', outcome: 'error' });
        // The upstream's answer had started (but for the 103): its status is what it answered.
        expect(rec?.status).toBe(where === 'early-hints' ? 0 : 200);
      }
    });
  }

  it('mid-body: the upstream connection is aborted, not read to the end', async () => {
    const { mesh, up } = await strictMesh();
    // A body sent in two parts: the throw on the first must end the upstream's response too.
    // The rest would come 10 s later: a 'close' before that is the mesh cutting the connection
    // (a loaded machine may take a while to deliver it, so the test waits for it, up to 5 s).
    let closedEarly = false;
    up.handler = (req, res) => {
      req.resume();
      const rest = setTimeout(() => res.end('second'), 10_000);
      res.on('close', () => {
        closedEarly = !res.writableEnded;
        clearTimeout(rest);
      });
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first');
    };
    const boom = new Error('stop reading');
    expect(await settle(mesh, 'data', boom, 'throws-midway')).toBe(boom);
    for (let i = 0; i < 100 && !closedEarly; i++) await new Promise((r) => setTimeout(r, 50));
    expect(closedEarly).toBe(true);
    expect(up.hits).toBe(1);
  });

  it('answering an injected fault: the error reaches the handler (no uncaught exception, no hang)', async () => {
    const ups = await upstreams('u', 1);
    const up = ups[0] as Upstream;
    cleanup.push(() => up.close());
    const router = routerFor('svc', () => ({ backendTags: [], fault: () => ({ abort: 418 }) }));
    const mesh = new MeshAgent({ discovery: discoveryOf([['svc', ups]]).discovery, router });
    cleanup.push(() => mesh.close());
    for (const where of ['start', 'data', 'end'] as const) {
      const boom = new Error(`the app's own bug (${where})`);
      expect(await settle(mesh, where, boom, `fault-${where}`)).toBe(boom);
    }
    expect(up.hits).toBe(0);
  });
});
