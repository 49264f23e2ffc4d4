import Fastify, { type FastifyInstance, LogController } from 'fastify';
import type { AppOptions } from './app-options.js';

/** The fastify app every server is built on, set up from the options they share. */
export function createApp(options: AppOptions): FastifyInstance {
  return Fastify({
    ...(options.bodyLimit === undefined ? {} : { bodyLimit: options.bodyLimit }),
    ...(options.loggerInstance !== undefined
      ? { loggerInstance: options.loggerInstance }
      : { logger: options.logger ?? false }),
    logController: new LogController({ disableRequestLogging: options.logRequests !== true }),
    // Idle keep-alive connections are cut at close(), so it does not wait for clients to hang up.
    forceCloseConnections: 'idle',
  });
}
