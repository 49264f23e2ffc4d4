import type { SettingInfo } from './describe.js';
import { UsageError } from './errors.js';
import type { Origin } from './origin.js';
import type { TextValue } from './read-env.js';
import { fromText } from './text-value.js';

/**
 * Amalgam8's sidecar settings, accepted unchanged so that an Amalgam8 deployment can swap its
 * sidecar for Weft's: its `A8_*` variables and its flags (`--endpoint_host`, `--service
 * name:tags`, `--registry_token`…). They are aliases of Weft's own settings, one rank below them:
 * a flag beats a variable, a `WEFT_*` variable beats its `A8_*` alias, and both beat the file.
 */

/** `A8_*` variable → the setting it sets (`A8_SERVICE` is split, see {@link serviceValues}). */
export const A8_ENV: Readonly<Record<string, string>> = {
  A8_REGISTER: 'register',
  A8_PROXY: 'proxy',
  A8_ENDPOINT_HOST: 'endpoint.host',
  A8_ENDPOINT_PORT: 'endpoint.port',
  A8_ENDPOINT_TYPE: 'endpoint.type',
  A8_REGISTRY_URL: 'registry.url',
  A8_REGISTRY_TOKEN: 'registry.token',
  A8_CONTROLLER_URL: 'controller.url',
  A8_CONTROLLER_TOKEN: 'controller.token',
  A8_LOG_LEVEL: 'logLevel',
  A8_HEALTHCHECKS: 'healthchecks',
};

/**
 * Flags that take a secret. Weft's own settings give secrets no flag (a command line is visible
 * to every user of the machine); Amalgam8's sidecar had these, so its spelling is accepted.
 */
const TOKEN_FLAGS: Readonly<Record<string, string>> = {
  registry_token: 'registry.token',
  'registry-token': 'registry.token',
  controller_token: 'controller.token',
  'controller-token': 'controller.token',
};

function settingOf(settings: readonly SettingInfo[], key: string): SettingInfo {
  const s = settings.find((x) => x.key === key);
  if (s === undefined) throw new TypeError(`no setting ${key}`);
  return s;
}

/** `name:tag1,tag2` → values of `service.name` and `service.tags`. */
function serviceValues(settings: readonly SettingInfo[], text: string, origin: Origin, skip: ReadonlySet<string>) {
  const colon = text.indexOf(':');
  const name = colon < 0 ? text : text.slice(0, colon);
  const out: TextValue[] = [];
  const add = (key: string, t: string): void => {
    if (skip.has(key)) return;
    const setting = settingOf(settings, key);
    out.push({ setting, value: fromText(setting, [t]), origin });
  };
  add('service.name', name);
  if (colon >= 0) add('service.tags', text.slice(colon + 1));
  return out;
}

/** The command line split at the first `--`: the sidecar's flags, and the app's command. */
export function splitAppCommand(argv: readonly string[]): { flags: string[]; app: string[] } {
  const at = argv.indexOf('--');
  return at < 0 ? { flags: [...argv], app: [] } : { flags: argv.slice(0, at), app: argv.slice(at + 1) };
}

/**
 * Rewrites Amalgam8's flag spellings into Weft's: `--endpoint_host` → `--endpoint-host` (any
 * flag whose kebab-case twin exists), and takes out `--service name:tags` and the token flags,
 * returned as values with their own flag as origin.
 */
export function rewriteAliasFlags(
  argv: readonly string[],
  settings: readonly SettingInfo[],
): { argv: string[]; values: TextValue[] } {
  const flags = new Set(settings.flatMap((s) => (s.flag === undefined ? [] : [s.flag, `no-${s.flag}`])));
  const out: string[] = [];
  const values: TextValue[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('--')) {
      out.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const special = name === 'service' || Object.hasOwn(TOKEN_FLAGS, name);
    if (special) {
      const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined || (eq < 0 && value.startsWith('--'))) throw new UsageError(`--${name} needs a value`);
      const origin: Origin = { type: 'flag', flag: name };
      if (name === 'service') values.push(...serviceValues(settings, value, origin, new Set()));
      else {
        const setting = settingOf(settings, TOKEN_FLAGS[name] as string);
        values.push({ setting, value: fromText(setting, [value]), origin });
      }
      continue;
    }
    const kebab = name.replaceAll('_', '-');
    out.push(kebab !== name && flags.has(kebab) ? `--${kebab}${eq < 0 ? '' : arg.slice(eq)}` : arg);
  }
  return { argv: out, values };
}

/**
 * The values of the `A8_*` variables whose settings are not given already (`given`: keys set by
 * a flag or a `WEFT_*` variable), with the variable as origin. An empty variable counts as unset.
 */
export function envAliasValues(
  settings: readonly SettingInfo[],
  env: NodeJS.ProcessEnv,
  given: ReadonlySet<string>,
): TextValue[] {
  const out: TextValue[] = [];
  for (const [name, key] of Object.entries(A8_ENV)) {
    const text = env[name];
    if (text === undefined || text === '' || given.has(key)) continue;
    const setting = settingOf(settings, key);
    out.push({ setting, value: fromText(setting, [text]), origin: { type: 'env', name } });
  }
  const service = env.A8_SERVICE;
  if (service !== undefined && service !== '')
    out.push(...serviceValues(settings, service, { type: 'env', name: 'A8_SERVICE' }, given));
  return out;
}

/** The keys a flag or a `WEFT_*` variable sets: aliases must not override them. */
export function givenKeys(
  settings: readonly SettingInfo[],
  env: NodeJS.ProcessEnv,
  flagValues: readonly TextValue[],
): Set<string> {
  const out = new Set(flagValues.map((v) => v.setting.key));
  for (const s of settings) if (env[s.env] !== undefined && env[s.env] !== '') out.add(s.key);
  return out;
}
