import type { FastifyBaseLogger } from 'fastify';
import type { LoggerOptions } from 'pino';
import type { Authenticator, AuthMode } from '../auth/authenticator.js';
import type { WatchLimits } from '../watch/serve-read.js';

/** How a server's fastify app logs and what it accepts: what `createApp` reads, in every server's options. */
export interface AppOptions {
  /**
   * Logging through pino: `false` (default) logs nothing, `true` logs at `info`, or pino options
   * such as `{level: 'debug'}`. JSON lines on standard output.
   */
  readonly logger?: boolean | LoggerOptions | undefined;
  /**
   * Log every request and response (fastify's request log, at `info`). Default false: heartbeats
   * and proxies' polls would flood the log.
   */
  readonly logRequests?: boolean | undefined;
  /** Largest request body accepted, bytes (413 beyond). Default 1 MiB. */
  readonly bodyLimit?: number | undefined;
  /** A logger (pino or compatible) to log through, instead of creating one from `logger`. */
  readonly loggerInstance?: FastifyBaseLogger | undefined;
}

/** The options every server shares: its app's, and the authentication chain and watch limits of the APIs it serves. */
export interface ApiServerOptions extends AppOptions {
  /**
   * Authentication modes, chained (one chain for every API the server serves): the first that
   * recognises a request's credentials decides its namespace; none → 401. Default
   * `[{type: 'none'}]` (one tenant, `default`, no credentials). Ignored when
   * {@link ApiServerOptions.authenticator} is given.
   */
  readonly auth?: readonly AuthMode[] | undefined;
  /** Watch limits of every API the server serves: longest and default long-poll wait, SSE keep-alive interval (ms). */
  readonly watch?: WatchLimits | undefined;
  /** An authenticator to use instead of building one from `auth`. */
  readonly authenticator?: Authenticator | undefined;
}
