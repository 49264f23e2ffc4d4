import type { SettingInfo } from '../config/describe.js';
import { GENERAL_FLAGS } from '../config/read-flags.js';
import { wrap } from './wrap.js';

/** A command as its help shows it. */
export interface HelpTopic {
  readonly name: string;
  readonly summary: string;
  /** Paragraphs after the usage line. */
  readonly description: readonly string[];
  readonly settings: readonly SettingInfo[];
  /** The config file's JSON Schema, named in the help of `--config`. */
  readonly schemaFile: string;
}

const show = (value: unknown): string => (Array.isArray(value) ? value.join(',') : String(value));

/** One setting: its flag (or that it has none), what it does, its default, env var and file key. */
function settingLines(s: SettingInfo): string {
  const head =
    s.flag === undefined
      ? `  ${s.env}`
      : s.kind === 'boolean'
        ? `  --${s.flag}, --no-${s.flag}`
        : `  --${s.flag} ${s.placeholder}`;
  const facts: string[] = [];
  if (s.choices !== undefined) facts.push(`one of: ${s.choices.join(', ')}`);
  if (s.default !== undefined && s.default !== '') facts.push(`default: ${show(s.default)}`);
  const where = s.flag === undefined ? `file: ${s.key}` : `env: ${s.env} · file: ${s.key}`;
  return [
    head,
    wrap(`${s.description}${facts.length === 0 ? '' : ` (${facts.join('; ')})`}`, '      '),
    `      ${where}`,
  ].join('\n');
}

/** `weft <command> --help`: every setting with its flag, environment variable, file key and default. */
export function commandHelp(topic: HelpTopic): string {
  const withFlag = topic.settings.filter((s) => s.flag !== undefined);
  const secrets = topic.settings.filter((s) => s.flag === undefined);
  const general = GENERAL_FLAGS.map((g) => {
    const head = `  ${g.short === undefined ? '    ' : `-${g.short}, `}--${g.flag}${g.placeholder === '' ? '' : ` ${g.placeholder}`}`;
    const extra = g.flag === 'config' ? ` (keys as listed under "file"; JSON Schema: ${topic.schemaFile})` : '';
    return [
      head,
      wrap(`${g.description}${extra}`, '      '),
      ...(g.env === undefined ? [] : [`      env: ${g.env}`]),
    ].join('\n');
  });
  return [
    `weft ${topic.name} — ${topic.summary}`,
    '',
    `Usage: weft ${topic.name} [flags]`,
    '',
    ...topic.description.map((p) => `${wrap(p, '')}\n`),
    wrap(
      'Each setting can be given as a flag, an environment variable or a key of the YAML config file; a flag wins over the environment, which wins over the file, which wins over the default. Durations take a unit: 500ms, 30s, 5m, 1h.',
      '',
    ),
    '',
    'Settings:',
    ...withFlag.map(settingLines),
    '',
    'Secrets (environment or config file only, never flags):',
    ...secrets.map(settingLines),
    '',
    'General:',
    ...general,
    '',
  ].join('\n');
}

/** A command as the top-level help lists it. */
export interface CommandSummary {
  readonly name: string;
  readonly summary: string;
}

/** `weft --help`. */
export function mainHelp(
  version: string,
  groups: readonly { title: string; commands: readonly CommandSummary[] }[],
): string {
  const width = Math.max(...groups.flatMap((g) => g.commands.map((c) => c.name.length))) + 3;
  return [
    `weft ${version} — Weft's control plane: an Amalgam8-compatible service registry and rules controller`,
    '',
    'Usage: weft <command> [flags]',
    '       weft <command> --help     every flag of a command, with its environment variable and default',
    '       weft help <command>       the same',
    '',
    ...groups.flatMap((g) => [`${g.title}:`, ...g.commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`), '']),
    'Flags:',
    '  -h, --help      Show this help and exit',
    '  -V, --version   Print the version and exit',
    '',
    wrap(
      'Settings come from flags, WEFT_* environment variables and a YAML file (--config), in that order of precedence.',
      '',
    ),
    '',
  ].join('\n');
}
