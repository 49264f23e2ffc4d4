/**
 * `@weft/servers` — Weft's reference control plane, composed from the library: an
 * Amalgam8-compatible registry server and rules controller that push changes to proxies, and the
 * `weft` command that runs them.
 *
 * @packageDocumentation
 */
export {
  AuthError,
  type Authenticator,
  type AuthMode,
  type Credentials,
  createAuthenticator,
} from './auth/authenticator.js';
export { authenticate } from './auth/fastify.js';
export { INDEX_HEADER, parseWait, serveRead, type WatchLimits } from './watch/serve-read.js';
export type { Versioned, Watchable } from './watch/types.js';
