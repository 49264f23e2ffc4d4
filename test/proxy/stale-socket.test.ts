/**
 * The transparent retry is for stale keep-alive sockets only: a request that hits a socket the
 * server closed after serving a response on it is retried once on a new connection (not counted
 * against retries or the endpoint); a fresh connection the server resets is a real failure.
 * Both upstream clients: undici's Pool (MeshAgent) and the sidecar's own Http1Pool.
 */
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import {
  isMeshRequestError,
  MeshAgent,
  type MeshEngineOptions,
  type MeshRequestError,
  Sidecar,
} from '../../packages/proxy/src/index.js';
import { http } from '../servers/http.js';
import { Discovery, loopbackInstance, ManualSource } from './helpers.js';
import { OK_RESPONSE, onHeads, RawServer } from './raw-net.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()?.();
});

/** No retries of the normal kind, and no health penalties: only the transparent retry can act. */
const BARE: Partial<MeshEngineOptions> = { retry: false, outlier: false };

/**
 * Closes a connection (FIN, or RST with `reset`) when its `closeAt`-th request (0-based) arrives,
 * answering the ones before with a keep-alive 200.
 */
async function server(closeAt: (connection: number) => number, reset = false): Promise<RawServer> {
  const s = await new RawServer((socket, connection) =>
    onHeads(socket, (_head, i) => {
      if (i < closeAt(connection)) socket.write(OK_RESPONSE);
      else if (reset) socket.resetAndDestroy();
      else socket.destroy();
    }),
  ).listen();
  cleanup.push(() => s.close());
  return s;
}

function discoveryFor(port: number): Discovery {
  return new Discovery({ sources: [new ManualSource('t', [loopbackInstance('svc', 'http', port)])] });
}

function agent(port: number, options: Partial<MeshEngineOptions> = {}): MeshAgent {
  const mesh = new MeshAgent({ discovery: discoveryFor(port), ...BARE, ...options });
  cleanup.push(() => mesh.destroy());
  return mesh;
}

async function sidecarFor(port: number): Promise<number> {
  const s = new Sidecar({ discovery: discoveryFor(port), port: 0, admin: false, accessLog: false, ...BARE });
  cleanup.push(() => s.close());
  return (await s.listen()).port;
}

async function meshError(mesh: MeshAgent): Promise<MeshRequestError> {
  const err = await request('http://svc/x', { dispatcher: mesh }).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isMeshRequestError(err)) throw new Error(`expected a MeshRequestError, got ${String(err)}`);
  return err;
}

describe('MeshAgent (undici Pool)', () => {
  it.each([
    ['closed (FIN)', false],
    ['reset (RST)', true],
  ])('a fresh connection %s before a response is not retried transparently', async (_how, reset) => {
    const s = await server(() => 0, reset);
    const err = await meshError(agent(s.port));
    expect(err.attempts).toHaveLength(1);
    expect(err.attempts[0]?.transparent).toBeUndefined();
    expect(s.connections).toBe(1);
  });

  it('a keep-alive socket the server closes as it is reused is retried once, transparently, and succeeds', async () => {
    // Each connection serves one request, then closes when the next one arrives on it.
    const s = await server(() => 1);
    // One connection per endpoint, so each call reuses the socket of the call before.
    const mesh = agent(s.port, { pool: { connections: 1 } });
    for (let i = 0; i < 3; i++) {
      const res = await request('http://svc/x', { dispatcher: mesh });
      expect(res.statusCode).toBe(200);
      expect(await res.body.text()).toBe('ok');
    }
    // The 2nd and 3rd calls each hit the previous call's socket, then went to a new one.
    expect(s.connections).toBe(3);
    expect(mesh.metrics?.snapshot().svc?.retries).toBe(2);
  });
});

describe('Sidecar (Http1Pool)', () => {
  it.each([
    ['closed (FIN)', false],
    ['reset (RST)', true],
  ])('a fresh connection %s before a response is not retried transparently', async (_how, reset) => {
    const s = await server(() => 0, reset);
    const r = await http(`http://127.0.0.1:${await sidecarFor(s.port)}/svc/x`);
    expect(r.status).toBe(504);
    const body = JSON.parse(r.body) as { attempts: Array<{ transparent?: boolean }> };
    expect(body.attempts).toHaveLength(1);
    expect(body.attempts[0]?.transparent).toBeUndefined();
    expect(s.connections).toBe(1);
  });

  it('a keep-alive socket the server closes as it is reused is retried once, transparently, and succeeds', async () => {
    const s = await server(() => 1);
    const port = await sidecarFor(s.port);
    for (let i = 0; i < 3; i++) {
      const r = await http(`http://127.0.0.1:${port}/svc/x`);
      expect(r.status).toBe(200);
      expect(r.body).toBe('ok');
    }
    expect(s.connections).toBe(3);
  });
});
