/** The sidecar's L4 listener: least-request over open connections, across discovery changes. */
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { ServiceInstance } from '@weft/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
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

/** A `db` instance on `port`; its id derives from the address unless given. */
const tcpInstance = (port: number, id?: string): ServiceInstance => ({
  ...loopbackInstance('db', 'http', port),
  ...(id === undefined ? {} : { id }),
  endpoint: { type: 'tcp', value: `127.0.0.1:${port}`, host: '127.0.0.1', port },
});

describe('Sidecar TCP listener', () => {
  let a: Awaited<ReturnType<typeof greeter>>;
  let b: Awaited<ReturnType<typeof greeter>>;
  let source: ManualSource;
  let sidecar: Sidecar | undefined;
  let port: number;
  let clients: Socket[] = [];

  beforeAll(async () => {
    [a, b] = await Promise.all([greeter('A'), greeter('B')]);
  });
  afterEach(async () => {
    for (const c of clients) c.destroy();
    clients = [];
    await sidecar?.close();
    sidecar = undefined;
  });
  afterAll(() => {
    a.server.close();
    b.server.close();
  });

  it("passes a client's half-close on and still relays the reply (request, FIN, then the answer)", async () => {
    // An upstream that answers once the request is complete (it reads until the client's FIN).
    const echo = createServer({ allowHalfOpen: true }, (s) => {
      const parts: Buffer[] = [];
      s.on('data', (d: Buffer) => parts.push(d));
      s.on('end', () => s.end(`got ${Buffer.concat(parts).toString()}`));
    });
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
    const echoPort = (echo.address() as { port: number }).port;
    await start([tcpInstance(echoPort)]);
    const reply = await new Promise<string>((resolve, reject) => {
      const c = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
      clients.push(c);
      let got = '';
      c.on('data', (d: Buffer) => {
        got += d.toString();
      });
      c.on('end', () => resolve(got));
      c.on('error', reject);
      c.end('ping');
    });
    expect(reply).toBe('got ping');
    echo.close();
  });

  async function start(instances: ServiceInstance[]): Promise<void> {
    source = new ManualSource('test', instances);
    sidecar = new Sidecar({
      discovery: new Discovery({ sources: [source] }),
      port: 0,
      admin: false,
      accessLog: false,
      tcp: [{ service: 'db', port: 0 }],
    });
    port = (await sidecar.listen()).tcpPorts.db as number;
  }

  /** Opens a connection through the sidecar and resolves with the greeting of the instance it reached. */
  function open(): Promise<string> {
    return new Promise((resolve, reject) => {
      const c = connect(port, '127.0.0.1');
      clients.push(c);
      c.once('data', (d: Buffer) => resolve(d.toString()));
      c.on('error', reject);
    });
  }

  /** Closes the first `n` connections and waits until A has seen them go. */
  async function closeFirst(n: number): Promise<void> {
    for (const c of clients.slice(0, n)) c.destroy();
    while (a.open() > 0) await sleep(5);
    await sleep(20);
  }

  const inFlight = (i: number): number => {
    const subset = sidecar?.engine.table('db').subsets.values().next().value;
    if (subset === undefined) throw new Error('no subset of db yet');
    return (subset.picker as unknown as { inFlight(i: number): number }).inFlight(i);
  };

  it('balances open connections (least-request), also across a discovery change, and lets go of closed ones', async () => {
    await start([tcpInstance(a.port)]);
    // Three long-lived connections on A, then B registers: the rebuilt picker still knows A has
    // three open, so the next three go to B (a picker that forgot would split them).
    for (let i = 0; i < 3; i++) expect(await open()).toBe('A');
    source.set([tcpInstance(a.port), tcpInstance(b.port)]);
    const next: string[] = [];
    for (let i = 0; i < 3; i++) next.push(await open());
    expect(next).toEqual(['B', 'B', 'B']);
    // Closing A's connections frees A: with A at 0 and B at 3 open, new connections go to A.
    await closeFirst(3);
    expect(await open()).toBe('A');
    expect(await open()).toBe('A');
  });

  it('connections opened before an instance moved (same id, new address) stop counting when they close', async () => {
    await start([tcpInstance(a.port, 'db-1')]);
    for (let i = 0; i < 3; i++) expect(await open()).toBe('A');
    source.set([tcpInstance(b.port, 'db-1')]); // re-registered elsewhere under its id
    expect(await open()).toBe('B');
    await closeFirst(3);
    expect(inFlight(0)).toBe(1); // only the connection to B is open
  });
});
