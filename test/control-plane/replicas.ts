import type { Socket } from 'node:net';
import type { Registry } from '@weft/core';
import { createControlPlaneServer, type RulesStore } from '@weft/servers';

/** One request a replica saw. */
export interface ReplicaRequest {
  readonly method: string;
  readonly url: string;
  readonly stream: boolean;
  readonly lastEventId: string | undefined;
}

/**
 * One replica of the control plane: a real `createControlPlaneServer` on loopback serving the
 * store objects it is given — replicas given the same objects serve the same data at the same
 * revisions, as replicas sharing one etcd do — and the faults a test inflicts on it.
 */
export interface Replica {
  readonly port: number;
  readonly url: string;
  readonly seen: ReplicaRequest[];
  /** Event-stream requests it got. */
  streams(): ReplicaRequest[];
  /** While true, every request is held without an answer (a hung process: it accepts, never answers). */
  hang: boolean;
  /** A graceful shutdown: streams end, requests in flight finish, the port closes. */
  close(): Promise<void>;
  /** A crash: every socket is destroyed mid-stream, mid-request, and the port closes. */
  kill(): Promise<void>;
}

/** Starts a replica over `stores` on `port` (0: any free one). Tokens are namespaces (`trusted`). */
export async function startReplica(stores: { registry: Registry; rulesStore: RulesStore }, port = 0): Promise<Replica> {
  const app = await createControlPlaneServer({
    registryInstance: stores.registry,
    rulesStore: stores.rulesStore,
    auth: [{ type: 'trusted' }, { type: 'none' }],
  });
  const seen: ReplicaRequest[] = [];
  const sockets = new Set<Socket>();
  const held = new Set<() => void>();
  let hang = false;
  app.server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  app.addHook('onRequest', async (request) => {
    const accept = String(request.headers.accept ?? '');
    const lastEventId = request.headers['last-event-id'];
    seen.push({
      method: request.method,
      url: request.url,
      stream: accept.includes('text/event-stream'),
      lastEventId: typeof lastEventId === 'string' ? lastEventId : undefined,
    });
    if (hang) await new Promise<void>((resolve) => held.add(resolve));
  });
  await app.listen({ host: '127.0.0.1', port });
  const addr = app.server.address();
  const bound = typeof addr === 'object' && addr !== null ? addr.port : port;
  const release = (): void => {
    for (const r of held) r();
    held.clear();
  };
  let closed: Promise<void> | undefined;
  return {
    port: bound,
    url: `http://127.0.0.1:${bound}`,
    seen,
    streams: () => seen.filter((r) => r.stream),
    get hang() {
      return hang;
    },
    set hang(on: boolean) {
      hang = on;
      if (!on) release();
    },
    close() {
      hang = false;
      release();
      closed ??= app.close();
      return closed;
    },
    kill() {
      hang = false;
      closed ??= app.close();
      // At once, before the graceful close can end a stream or answer a request.
      for (const s of sockets) s.destroy();
      release();
      return closed;
    },
  };
}
