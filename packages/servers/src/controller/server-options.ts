import type { FastifyBaseLogger } from 'fastify';
import type { LoggerOptions } from 'pino';
import type { Authenticator, AuthMode } from '../auth/authenticator.js';
import type { RulesStore } from '../rules-store/types.js';
import type { WatchLimits } from '../watch/serve-read.js';
import type { InstancesOf } from './warnings.js';

/** Where a controller keeps its rules, as configuration (a CLI flag, an env variable, YAML). */
export type ControllerStoreConfig =
  /** In memory: lost when the process ends; revisions restart at 0. */
  | { readonly type: 'memory' }
  /**
   * One JSON snapshot file, written durably before each write is acknowledged, loaded on start;
   * a damaged file stops the start with an error naming it. The file is locked (`<path>.lock`).
   */
  | { readonly type: 'file'; readonly path: string };

/**
 * Options of `createControllerServer`. Everything but the last three fields is plain data, so a
 * CLI can build it from flags, environment and YAML; `rulesStore`, `authenticator`,
 * `loggerInstance` and `instances` inject objects when embedding.
 */
export interface ControllerServerOptions {
  /**
   * Where rules are kept, when no {@link ControllerServerOptions.rulesStore} is given. Default
   * `{type: 'memory'}`. The server creates this store and closes it when it closes.
   */
  readonly store?: ControllerStoreConfig | undefined;
  /**
   * Authentication modes, chained: the first that recognises a request's credentials decides its
   * namespace; none → 401. Default `[{type: 'none'}]` (one tenant, `default`, no credentials).
   * Ignored when {@link ControllerServerOptions.authenticator} is given.
   */
  readonly auth?: readonly AuthMode[] | undefined;
  /**
   * Logging through pino: `false` (default) logs nothing, `true` logs at `info`, or pino options
   * such as `{level: 'debug'}`. JSON lines on standard output.
   */
  readonly logger?: boolean | LoggerOptions | undefined;
  /** Log every request and response (at `info`). Default false: proxies' polls would flood the log. */
  readonly logRequests?: boolean | undefined;
  /** Watch limits: longest and default long-poll wait, SSE keep-alive interval (ms). */
  readonly watch?: WatchLimits | undefined;
  /** Largest request body accepted, bytes (413 beyond). Default 1 MiB. */
  readonly bodyLimit?: number | undefined;

  /** A store to use instead of creating one from `store` (embedding, a shared store). The server never closes it. */
  readonly rulesStore?: RulesStore | undefined;
  /** An authenticator to use instead of building one from `auth`. */
  readonly authenticator?: Authenticator | undefined;
  /** A logger (pino or compatible) to log through, instead of creating one from `logger`. */
  readonly loggerInstance?: FastifyBaseLogger | undefined;
  /**
   * The known instances of a namespace (from a registry in the same process), so that write
   * warnings can name backends, actions and destinations that no instance matches.
   */
  readonly instances?: InstancesOf | undefined;
}
