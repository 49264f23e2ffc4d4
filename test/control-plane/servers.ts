import { join } from 'node:path';
import { createControllerServer, createRegistryServer } from '@weft/servers';
import type { FastifyInstance } from 'fastify';

/** A control-plane server the tests can stop and start again on the same port, with the same store. */
export interface ServerHandle {
  readonly port: number;
  readonly url: string;
  /** Stops it (connections are cut, state stays in its store). */
  stop(): Promise<void>;
  /** Starts it again on the same port, from its store. */
  start(): Promise<void>;
  /** Stops and starts it. */
  restart(): Promise<void>;
}

/** One server process, as far as a test is concerned: an app and what to close with it. */
interface Running {
  app: FastifyInstance;
  close(): Promise<void>;
}

async function handle(make: () => Promise<Running>, port: number): Promise<ServerHandle> {
  let running: Running | undefined;
  let bound = port;
  const start = async (): Promise<void> => {
    if (running !== undefined) return;
    const r = await make();
    await r.app.listen({ host: '127.0.0.1', port: bound });
    const addr = r.app.server.address();
    if (typeof addr === 'object' && addr !== null) bound = addr.port;
    running = r;
  };
  const stop = async (): Promise<void> => {
    const r = running;
    running = undefined;
    await r?.close();
  };
  await start();
  return {
    get port() {
      return bound;
    },
    get url() {
      return `http://127.0.0.1:${bound}`;
    },
    start,
    stop,
    async restart() {
      await stop();
      await start();
    },
  };
}

/** Options of the test servers. */
export interface TestServerOptions {
  /** Directory for the server's file store. */
  dir: string;
  port?: number;
}

/**
 * The real registry server (`createRegistryServer`) with a snapshot file. Tokens are namespaces
 * (`trusted`); requests without one are in `default`.
 */
export function startRegistry(options: TestServerOptions): Promise<ServerHandle> {
  const path = join(options.dir, 'registry.json');
  return handle(async () => {
    const app = await createRegistryServer({
      store: { type: 'file', path },
      auth: [{ type: 'trusted' }, { type: 'none' }],
    });
    return { app, close: () => app.close() };
  }, options.port ?? 0);
}

/**
 * The real rules controller (`createControllerServer`) with a file store. Tokens are namespaces
 * (`trusted`); requests without one are in `default`.
 */
export function startController(options: TestServerOptions): Promise<ServerHandle> {
  const path = join(options.dir, 'rules.json');
  return handle(async () => {
    const app = await createControllerServer({
      store: { type: 'file', path },
      auth: [{ type: 'trusted' }, { type: 'none' }],
    });
    return { app, close: () => app.close() };
  }, options.port ?? 0);
}
