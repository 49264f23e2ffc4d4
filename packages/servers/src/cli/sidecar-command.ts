import { resolve } from 'node:path';
import { describeSettings, type SettingInfo } from '../config/describe.js';
import { loadConfig } from '../config/load.js';
import { readConfigFile } from '../config/read-file.js';
import { readFlags } from '../config/read-flags.js';
import { GatewayConfigSchema, SidecarConfigSchema } from '../config/schemas.js';
import { envAliasValues, givenKeys, rewriteAliasFlags, splitAppCommand } from '../config/sidecar-aliases.js';
import type { SidecarConfig, SidecarMode } from '../config/sidecar-settings.js';
import type { CliContext, Command } from './command.js';
import { commandHelp } from './help.js';
import { printConfig } from './print-config.js';
import { runSidecar } from './sidecar-run.js';

const SCHEMAS = { sidecar: SidecarConfigSchema, gateway: GatewayConfigSchema } as const;

const DESCRIPTION: Record<SidecarMode, readonly string[]> = {
  sidecar: [
    "Runs next to an app in any language, as Amalgam8's sidecar did: starts the app given after --, registers it with the registry while its health checks pass (deregisters it when they fail), heartbeats at a fraction of the TTL, and proxies its outbound calls — http://127.0.0.1:6379/<service>/… or Host: <service> — with the controller's rules and the registry's endpoints, both followed live. SIGTERM/SIGINT: deregister, drain, stop the app's process group, exit with the app's code.",
    "Amalgam8's settings work unchanged: A8_REGISTER, A8_PROXY, A8_SERVICE=name:tag1,tag2, A8_ENDPOINT_HOST, A8_ENDPOINT_PORT, A8_ENDPOINT_TYPE, A8_REGISTRY_URL, A8_REGISTRY_TOKEN, A8_CONTROLLER_URL, A8_CONTROLLER_TOKEN, A8_HEALTHCHECKS, A8_LOG_LEVEL, A8_CONFIG, and its flags (--service name:tags, --endpoint_host, --registry_url, --registry_token, …). A WEFT_* variable wins over its A8_* alias.",
  ],
  gateway: [
    'The sidecar proxy at the edge: listens on 0.0.0.0, registers nothing by default, and terminates HTTPS when tls.cert and tls.key are given. Same settings as weft sidecar (with --mode gateway).',
  ],
};

/**
 * The mode a command line asks for (`--mode`, `WEFT_MODE`, the file's `mode`), read before the
 * config is validated: the mode's defaults decide what is valid (a gateway needs no service name).
 */
async function chosenMode(fallback: SidecarMode, argv: readonly string[], context: CliContext): Promise<SidecarMode> {
  const settings = describeSettings(SCHEMAS[fallback]);
  const flags = readFlags(fallback, rewriteAliasFlags(argv, settings).argv, settings);
  const isMode = (v: unknown): v is SidecarMode => v === 'sidecar' || v === 'gateway';
  const flag = flags.values.find((v) => v.setting.key === 'mode')?.value;
  if (isMode(flag)) return flag;
  if (isMode(context.env.WEFT_MODE)) return context.env.WEFT_MODE;
  const file = flags.config ?? (context.env.WEFT_CONFIG || context.env.A8_CONFIG || undefined);
  if (file === undefined) return fallback;
  // A file that cannot be read is reported by the real load, with its origin.
  const data = await readConfigFile(resolve(context.cwd, file), file).catch(() => undefined);
  return isMode(data?.data.mode) ? data.data.mode : fallback;
}

/** The settings of the mode, its flags parsed with Amalgam8's aliases, and the effective config. */
async function load(mode: SidecarMode, argv: readonly string[], context: CliContext) {
  const schema = SCHEMAS[mode];
  const settings = describeSettings(schema);
  const rewritten = rewriteAliasFlags(argv, settings);
  const flags = readFlags(mode, rewritten.argv, settings);
  // Amalgam8's config file variable, below Weft's.
  const env =
    context.env.WEFT_CONFIG === undefined || context.env.WEFT_CONFIG === ''
      ? { ...context.env, WEFT_CONFIG: context.env.A8_CONFIG }
      : context.env;
  const flagValues = [...flags.values, ...rewritten.values];
  // A8_* values go in last but only for keys no flag and no WEFT_* variable set: that keeps
  // flags > WEFT_* > A8_* > file, with the A8_* variable named as the origin in errors.
  const values = [...flagValues, ...envAliasValues(settings, env, givenKeys(settings, env, flagValues))];
  const loaded = await loadConfig(schema, settings, { flags: { ...flags, values }, env, cwd: context.cwd });
  return { settings, flags, loaded };
}

function help(mode: SidecarMode, settings: readonly SettingInfo[]): string {
  const text = commandHelp({
    name: mode,
    summary: SUMMARY[mode],
    description: DESCRIPTION[mode],
    settings,
    schemaFile: `weft-${mode}.config.schema.json`,
  });
  return text.replace(`Usage: weft ${mode} [flags]`, `Usage: weft ${mode} [flags] [-- <app command> [args…]]`);
}

const SUMMARY: Record<SidecarMode, string> = {
  sidecar: 'the sidecar agent: supervises an app, registers it while healthy, proxies its calls (port 6379)',
  gateway: 'the sidecar proxy at the edge (0.0.0.0, no registration, optional HTTPS)',
};

function sidecarCommand(mode: SidecarMode): Command {
  return {
    name: mode,
    summary: SUMMARY[mode],
    async run(argv, context) {
      const { flags: argvFlags, app } = splitAppCommand(argv);
      // --help before the config is validated: a user asking for help has not configured it yet.
      if (argvFlags.includes('--help') || argvFlags.includes('-h')) {
        const settings = describeSettings(SCHEMAS[mode]);
        readFlags(mode, rewriteAliasFlags(argvFlags, settings).argv, settings);
        context.stdout(help(mode, settings));
        return 0;
      }
      // `--mode gateway` on `weft sidecar` (or the reverse): the other mode's defaults apply.
      const { settings, flags, loaded } = await load(await chosenMode(mode, argvFlags, context), argvFlags, context);
      if (flags.printConfig) {
        context.stdout(await printConfig(loaded.config, settings, loaded.origins));
        return 0;
      }
      return runSidecar(loaded.config as SidecarConfig, app, context);
    },
  };
}

/** `weft sidecar [flags] -- <app command…>`. */
export const sidecarAgentCommand = sidecarCommand('sidecar');
/** `weft gateway [flags]`: the same with the gateway's defaults. */
export const gatewayAgentCommand = sidecarCommand('gateway');
