/**
 * bookinfo's ratings service, in Node, in the process that runs the example: no sidecar. It puts
 * itself on the mesh the library way — a `RegistrationClient` registers it in the control plane,
 * heartbeats, and deregisters it on close.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RegistrationClient } from '@weft/adapters/weft';

/** The stars each reviewer gave (bookinfo's two reviews). */
const RATINGS = { Reviewer1: 5, Reviewer2: 4 };

/** A running ratings service. */
export interface RatingsService {
  readonly port: number;
  /** Deregisters it, then closes its server. */
  close(): Promise<void>;
}

/** The ratings HTTP handler: `GET /health`, `GET /ratings/<id>`. */
export function ratingsServer(): Server {
  return createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.url === '/health') return res.end('{"status":"ok"}');
    const id = /^\/ratings\/(\w+)$/.exec(req.url ?? '')?.[1];
    if (id === undefined) {
      res.statusCode = 404;
      return res.end('{"error":"not found"}');
    }
    res.end(JSON.stringify({ id, ratings: RATINGS }));
  });
}

/** Starts ratings v1 on a free loopback port and registers it with the control plane. */
export async function startRatings(controlPlane: string): Promise<RatingsService> {
  const server = ratingsServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const registration = new RegistrationClient({
    url: controlPlane,
    registration: { service: 'ratings', endpoint: { host: '127.0.0.1', port }, tags: ['version=v1'], ttl: 30 },
  });
  await registration.start();
  return {
    port,
    async close() {
      await registration.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
