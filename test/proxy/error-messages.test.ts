/** Failed calls say what happened and, when there was no retry, why not. Codes stay as documented. */
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import {
  isMeshRequestError,
  MeshAgent,
  type MeshAgentOptions,
  type MeshRequestError,
  Sidecar,
  toRetryPlan,
} from '../../packages/proxy/src/index.js';
import { http } from '../servers/http.js';
import {
  Discovery,
  discoveryOf,
  loopbackInstance,
  ManualSource,
  routerFor,
  type Upstream,
  upstreams,
} from './helpers.js';
import { onHeads, RawServer } from './raw-net.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()?.();
});

/** A server whose every connection is reset (RST) as soon as a request arrives. */
async function resetting(): Promise<RawServer> {
  const s = await new RawServer((socket) => onHeads(socket, () => socket.resetAndDestroy())).listen();
  cleanup.push(() => s.close());
  return s;
}

/** A server that reads requests and never answers. */
async function silent(): Promise<RawServer> {
  const s = await new RawServer((socket) => socket.resume()).listen();
  cleanup.push(() => s.close());
  return s;
}

function agentFor(port: number, options: Partial<MeshAgentOptions> = {}): MeshAgent {
  const discovery = new Discovery({ sources: [new ManualSource('t', [loopbackInstance('svc', 'http', port)])] });
  const mesh = new MeshAgent({ discovery, outlier: false, ...options });
  cleanup.push(() => mesh.destroy());
  return mesh;
}

async function failure(mesh: MeshAgent, method = 'GET', body?: string): Promise<MeshRequestError> {
  const err = await request('http://svc/x', { dispatcher: mesh, method, ...(body === undefined ? {} : { body }) }).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isMeshRequestError(err)) throw new Error(`expected a MeshRequestError, got ${String(err)}`);
  return err;
}

/** The message before the attempt history. */
const head = (err: Error) => err.message.split('; attempts: ')[0];

describe('error messages of failed calls', () => {
  it('a POST reset by the upstream: not retried because POST is not idempotent', async () => {
    const up = await resetting();
    const err = await failure(agentFor(up.port), 'POST', 'x');
    expect(err.code).toBe('WEFT_ERR_RETRIES_EXHAUSTED');
    expect(head(err)).toBe(
      `POST svc/x failed: connection reset by 127.0.0.1:${up.port} before a response (not retried: POST is not idempotent)`,
    );
    expect(err.attempts).toHaveLength(1);
  });

  it('retries off: says so', async () => {
    const ups = await upstreams('d', 1);
    const port = (ups[0] as Upstream).port;
    await (ups[0] as Upstream).kill();
    const err = await failure(agentFor(port, { retry: false }));
    expect(head(err)).toBe(`GET svc/x failed: connection refused by 127.0.0.1:${port} (not retried: retries are off)`);
  });

  it('a failure the retry policy does not cover: says which kind', async () => {
    const up = await resetting();
    const err = await failure(agentFor(up.port, { retry: { retryOn: ['connect-failure'] } }));
    expect(head(err)).toBe(
      `GET svc/x failed: connection reset by 127.0.0.1:${up.port} before a response (not retried: the retry policy does not cover resets)`,
    );
  });

  it('retries used up: the count and the last failure', async () => {
    const up = await resetting();
    const err = await failure(agentFor(up.port, { retry: { maxAttempts: 3, backoff: { baseMs: 1 } } }));
    expect(head(err)).toBe(
      `GET svc/x failed after 3 attempts, the last: connection reset by 127.0.0.1:${up.port} before a response`,
    );
  });

  it('a per-try timeout of a POST: a timeout, with the limit and why it was not retried', async () => {
    const up = await silent();
    const err = await failure(agentFor(up.port, { retry: { maxAttempts: 3, perTryTimeoutMs: 100 } }), 'POST', 'x');
    expect(err.code).toBe('WEFT_ERR_TIMEOUT');
    expect(head(err)).toBe(
      `POST svc/x timed out: no response from 127.0.0.1:${up.port} within the per-try timeout of 100 ms (not retried: POST is not idempotent)`,
    );
  });

  it('an injected 503 abort whose retries ran out answers with the injected 503, not "retries exhausted"', async () => {
    const ups = await upstreams('u', 1);
    cleanup.push(() => (ups[0] as Upstream).close());
    let rolls = 0;
    const router = routerFor('svc', () => ({
      backendTags: [],
      retry: toRetryPlan({ maxAttempts: 3, retryOn: ['5xx'], backoff: { baseMs: 1, maxMs: 2 } }),
      fault: () => {
        rolls++;
        return { abort: 503 };
      },
    }));
    const mesh = new MeshAgent({ discovery: discoveryOf([['svc', ups]]).discovery, router });
    cleanup.push(() => mesh.destroy());
    const res = await request('http://svc/x', { dispatcher: mesh });
    expect(res.statusCode).toBe(503);
    expect(res.headers['x-weft-fault']).toBe('abort');
    expect(await res.body.json()).toMatchObject({ error: 'fault injected', status: 503 });
    expect(rolls).toBe(3);
  });

  it('the sidecar answers the same words in its JSON error, with the documented code and status', async () => {
    const up = await resetting();
    const discovery = new Discovery({ sources: [new ManualSource('t', [loopbackInstance('svc', 'http', up.port)])] });
    const sidecar = new Sidecar({ discovery, port: 0, admin: false, accessLog: false, outlier: false });
    cleanup.push(() => sidecar.close());
    const { port } = await sidecar.listen();
    const r = await http(`http://127.0.0.1:${port}/svc/x`, { method: 'POST', body: 'x' });
    expect(r.status).toBe(504);
    const body = JSON.parse(r.body) as { code: string; error: string };
    expect(body.code).toBe('WEFT_ERR_RETRIES_EXHAUSTED');
    expect(head(new Error(body.error))).toBe(
      `POST svc/x failed: connection reset by 127.0.0.1:${up.port} before a response (not retried: POST is not idempotent)`,
    );
  });
});
