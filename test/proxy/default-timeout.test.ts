/** An upstream that never answers is given up on after the route timeout: 15 s unless configured. */
import { compile, VirtualClock } from '@weft/core';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import {
  isMeshRequestError,
  MeshAgent,
  type MeshAgentOptions,
  rulesRouter,
  Sidecar,
} from '../../packages/proxy/src/index.js';
import { http } from '../servers/http.js';
import { cleanupAfterEach, Discovery, loopbackInstance, ManualSource, sleep } from './helpers.js';
import { RawServer } from './raw-net.js';

const cleanup = cleanupAfterEach();

/** A server that reads requests and never answers, and the Discovery that names it `svc`. */
async function silentUpstream(): Promise<{ port: number; discovery: Discovery }> {
  const s = await new RawServer((socket) => socket.resume()).listen();
  cleanup.push(() => s.close());
  const discovery = new Discovery({ sources: [new ManualSource('t', [loopbackInstance('svc', 'http', s.port)])] });
  return { port: s.port, discovery };
}

function agent(options: MeshAgentOptions): MeshAgent {
  const mesh = new MeshAgent({ retry: false, ...options });
  cleanup.push(() => mesh.destroy());
  return mesh;
}

/** Runs a call to `svc` and returns its error and how long it took. */
async function timed(mesh: MeshAgent): Promise<{ err: unknown; ms: number }> {
  const t0 = performance.now();
  const err = await request('http://svc/x', { dispatcher: mesh }).then(
    () => undefined,
    (e: unknown) => e,
  );
  return { err, ms: performance.now() - t0 };
}

describe('default route timeout', () => {
  it('is 15 s: the call fails with WEFT_ERR_TIMEOUT once 15 s pass (virtual clock, real sockets)', async () => {
    const { port, discovery } = await silentUpstream();
    const clock = new VirtualClock(1_000_000);
    const mesh = agent({ discovery, clock });
    let settled: unknown = 'pending';
    const call = request('http://svc/x', { dispatcher: mesh }).then(
      () => 'resolved',
      (e: unknown) => e,
    );
    void call.then((v) => {
      settled = v;
    });
    await sleep(50); // the request reaches the silent upstream
    await clock.advanceAsync(14_900);
    await sleep(20);
    expect(settled).toBe('pending');
    await clock.advanceAsync(200);
    const err = await call;
    expect(isMeshRequestError(err) && err.code).toBe('WEFT_ERR_TIMEOUT');
    expect((err as Error).message).toMatch(
      new RegExp(
        `^GET svc/x timed out after 15000 ms waiting for 127\\.0\\.0\\.1:${port} \\(the default timeout: see the \`timeoutMs\` option\\)`,
      ),
    );
  });

  it('the agent option timeoutMs changes it', async () => {
    const { discovery } = await silentUpstream();
    const { err, ms } = await timed(agent({ discovery, timeoutMs: 300 }));
    expect(isMeshRequestError(err) && err.code).toBe('WEFT_ERR_TIMEOUT');
    expect(ms).toBeGreaterThanOrEqual(290);
    expect(ms).toBeLessThan(3_000);
  });

  it("a rule's http_req_timeout wins over the agent's", async () => {
    const { discovery } = await silentUpstream();
    const router = rulesRouter(
      compile([{ destination: 'svc', route: { backends: [{ tags: [] }], http_req_timeout: 0.2 } }]),
    );
    const { err, ms } = await timed(agent({ discovery, router, timeoutMs: 10_000 }));
    expect(isMeshRequestError(err) && err.code).toBe('WEFT_ERR_TIMEOUT');
    expect((err as Error).message).toMatch(/^GET svc\/x timed out after 200 ms waiting for 127\.0\.0\.1:\d+;/);
    expect(ms).toBeLessThan(3_000);
  });

  it('the sidecar takes the same option and answers 504 WEFT_ERR_TIMEOUT', async () => {
    const { discovery } = await silentUpstream();
    const sidecar = new Sidecar({ discovery, port: 0, admin: false, accessLog: false, retry: false, timeoutMs: 300 });
    cleanup.push(() => sidecar.close());
    const { port } = await sidecar.listen();
    const t0 = performance.now();
    const r = await http(`http://127.0.0.1:${port}/svc/x`);
    expect(performance.now() - t0).toBeLessThan(3_000);
    expect(r.status).toBe(504);
    expect(JSON.parse(r.body)).toMatchObject({ code: 'WEFT_ERR_TIMEOUT' });
  });
});
