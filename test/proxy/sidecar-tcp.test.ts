/** The sidecar's L4 listener: least-request over open connections, across discovery changes. */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sidecar } from '../../packages/proxy/src/index.js';
import { Discovery, loopbackInstance, ManualSource, sleep } from './helpers.js';

/** A TCP server that greets each connection with its name and keeps it open. */
async function greeter(name: string): Promise<{ server: Server; port: number; open: () => number }> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.write(name);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  return { server, port, open: () => sockets.size };
}

const tcpInstance = (port: number) => ({
  ...loopbackInstance('db', 'http', port),
  endpoint: { type: 'tcp' as const, value: `127.0.0.1:${port}`, host: '127.0.0.1', port },
});

describe('Sidecar TCP listener', () => {
  let a: Awaited<ReturnType<typeof greeter>>;
  let b: Awaited<ReturnType<typeof greeter>>;
  let source: ManualSource;
  let sidecar: Sidecar;
  let port: number;
  const clients: Socket[] = [];

  beforeAll(async () => {
    [a, b] = await Promise.all([greeter('A'), greeter('B')]);
    source = new ManualSource('test', [tcpInstance(a.port)]);
    sidecar = new Sidecar({
      discovery: new Discovery({ sources: [source] }),
      port: 0,
      admin: false,
      accessLog: false,
      tcp: [{ service: 'db', port: 0 }],
    });
    port = (await sidecar.listen()).tcpPorts.db as number;
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await sidecar.close();
    a.server.close();
    b.server.close();
  });

  /** Opens a connection through the sidecar and resolves with the greeting of the instance it reached. */
  function open(): Promise<string> {
    return new Promise((resolve, reject) => {
      const c = connect(port, '127.0.0.1');
      clients.push(c);
      c.once('data', (d: Buffer) => resolve(d.toString()));
      c.on('error', reject);
    });
  }

  it('balances open connections (least-request), also across a discovery change, and lets go of closed ones', async () => {
    // Three long-lived connections on A, then B registers: the rebuilt picker still knows A has
    // three open, so the next three go to B (a picker that forgot would split them).
    for (let i = 0; i < 3; i++) expect(await open()).toBe('A');
    source.set([tcpInstance(a.port), tcpInstance(b.port)]);
    const next: string[] = [];
    for (let i = 0; i < 3; i++) next.push(await open());
    expect(next).toEqual(['B', 'B', 'B']);
    // Closing A's connections frees A: with A at 0 and B at 3 open, new connections go to A.
    for (const c of clients.slice(0, 3)) c.destroy();
    while (a.open() > 0) await sleep(5);
    await sleep(20);
    expect(await open()).toBe('A');
    expect(await open()).toBe('A');
  });
});
