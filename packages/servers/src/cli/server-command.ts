import type { FastifyInstance } from 'fastify';
import type * as z from 'zod/mini';
import type { AuthMode } from '../auth/authenticator.js';
import { toAuthModes } from '../config/auth-modes.js';
import { describeSettings } from '../config/describe.js';
import { ConfigError } from '../config/errors.js';
import { getAt, loadConfig, problem } from '../config/load.js';
import { readFlags } from '../config/read-flags.js';
import type { ControlPlaneConfig } from '../config/schemas.js';
import type { Command } from './command.js';
import { commandHelp } from './help.js';
import { printConfig } from './print-config.js';
import { serve } from './serve.js';

/** What every server command's config has (the listener, shutdown and auth settings). */
export type ServerConfig = Pick<ControlPlaneConfig, 'host' | 'port' | 'shutdown' | 'auth'>;

/** A server command: its config schema, its help text, and how it builds its server. */
export interface ServerCommandSpec<C extends ServerConfig> {
  readonly name: string;
  readonly summary: string;
  readonly description: readonly string[];
  readonly schema: z.core.$ZodType<C>;
  /** Name of the config file's JSON Schema in `packages/servers/schemas/`. */
  readonly schemaFile: string;
  /**
   * Builds the server, ready to listen. The server modules are imported inside it, so `--help`
   * and config errors never pay for loading fastify and the registry.
   */
  build(config: C, auth: AuthMode[]): Promise<FastifyInstance>;
}

/**
 * A `weft <server>` command: reads and validates its config (flags > environment > file >
 * defaults), then builds the server and serves until a signal.
 */
export function serverCommand<C extends ServerConfig>(spec: ServerCommandSpec<C>): Command {
  return {
    name: spec.name,
    summary: spec.summary,
    async run(argv, context) {
      const settings = describeSettings(spec.schema);
      const flags = readFlags(spec.name, argv, settings);
      if (flags.help) {
        context.stdout(commandHelp({ ...spec, settings }));
        return 0;
      }
      const { config, origins } = await loadConfig(spec.schema, settings, {
        flags,
        env: context.env,
        cwd: context.cwd,
      });
      const problems: string[] = [];
      const auth = await toAuthModes(config.auth, context.cwd, (path, message) =>
        problems.push(problem(path, message, origins, settings, getAt(config, path))),
      );
      if (problems.length > 0) throw new ConfigError('invalid configuration', problems);
      if (flags.printConfig) {
        context.stdout(await printConfig(config, settings, origins));
        return 0;
      }
      const app = await spec.build(config, auth);
      return serve(
        app,
        { command: spec.name, host: config.host, port: config.port, shutdownTimeoutMs: config.shutdown.timeout },
        context,
      );
    },
  };
}
