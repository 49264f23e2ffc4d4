import type { FastifyInstance } from 'fastify';
import type { Authenticator } from '../auth/authenticator.js';
import { authenticate } from '../auth/fastify.js';
import { servedByDashboard } from '../dashboard/serve.js';
import { METRICS_PATH } from '../http/metrics-route.js';
import { type EurekaMount, servedByEureka } from './eureka/mount.js';

/**
 * Authenticates every request of a server that serves the registry APIs (the registry server, the
 * control plane), except those that carry no bearer token by design: `/health` (Amalgam8 served
 * it without credentials; load balancers probe it), the Prometheus metrics (scrapers carry none),
 * the Eureka routes (they authenticate themselves: their clients send Basic credentials) and the
 * dashboard's pages and assets (the page asks for the token, and sends it with its API calls).
 */
export function authenticateRegistryServer(
  app: FastifyInstance,
  authenticator: Authenticator,
  eureka: EurekaMount | undefined,
): void {
  authenticate(
    app,
    authenticator,
    (request) =>
      request.routeOptions.url === '/health' ||
      request.routeOptions.url === METRICS_PATH ||
      servedByEureka(request, eureka) ||
      servedByDashboard(request),
  );
}
