import * as z from 'zod/mini';
import { section, setting } from './define.js';
import { DurationSchema } from './duration.js';

/** pino's levels; `silent` logs nothing. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * Where a server listens, how it logs and how it stops: the settings every server command has.
 * `defaultPort` differs by command (see the README for why these numbers).
 */
export function serverSettings(defaultPort: number) {
  return {
    host: setting(z.string().check(z.minLength(1, { error: 'must not be empty' })), {
      kind: 'string',
      placeholder: '<address>',
      description:
        'Interface to listen on. The default serves this machine only; 0.0.0.0 (or ::) serves the network — turn on auth first',
      default: '127.0.0.1',
    }),
    port: setting(
      z
        .number({ error: 'must be a port number' })
        .check(
          z.int({ error: 'must be a whole number' }),
          z.minimum(0, { error: 'must be between 0 and 65535' }),
          z.maximum(65535, { error: 'must be between 0 and 65535' }),
        ),
      {
        kind: 'integer',
        placeholder: '<port>',
        description: 'TCP port to listen on; 0 picks a free one',
        default: defaultPort,
      },
    ),
    logLevel: setting(z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }), {
      kind: 'string',
      placeholder: '<level>',
      description: 'Least severe level logged (JSON lines on standard output, through pino)',
      default: 'info',
    }),
    bodyLimit: setting(
      z
        .number({ error: 'must be a number of bytes' })
        .check(
          z.int({ error: 'must be a whole number of bytes' }),
          z.minimum(1024, { error: 'must be at least 1024 bytes' }),
        ),
      {
        kind: 'integer',
        placeholder: '<bytes>',
        description: 'Largest request body accepted, in bytes; larger ones are refused with 413',
        default: 1_048_576,
      },
    ),
    watch: section(
      {
        maxWait: setting(DurationSchema, {
          kind: 'duration',
          description: 'Longest long-poll wait a client may ask for (?wait=); longer asks are cut to it',
          default: '5m',
        }),
        defaultWait: setting(DurationSchema, {
          kind: 'duration',
          description: 'Long-poll wait when a client gives ?index= without ?wait=',
          default: '30s',
        }),
        heartbeat: setting(DurationSchema, {
          kind: 'duration',
          description: 'Interval of keep-alive comments on Server-Sent Event streams (proxies drop silent ones)',
          default: '15s',
        }),
      },
      'Watches: long-polls (?index=&wait=) and Server-Sent Event streams',
    ),
    shutdown: section(
      {
        timeout: setting(DurationSchema, {
          kind: 'duration',
          description:
            'On SIGTERM/SIGINT, how long requests in flight may take to finish before their connections are closed',
          default: '10s',
        }),
      },
      'Graceful shutdown',
    ),
  };
}

/** Request logging, where the server can turn it off (the registry's heartbeats would flood the log). */
export const logRequestsSetting = () =>
  setting(z.boolean({ error: 'must be true or false' }), {
    kind: 'boolean',
    description: 'Log every request and response at info level (off: heartbeats would flood the log)',
    default: false,
  });
