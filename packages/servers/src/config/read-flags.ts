import { parseArgs } from 'node:util';
import type { SettingInfo } from './describe.js';
import { UsageError } from './errors.js';
import type { TextValue } from './read-env.js';
import { didYouMean } from './suggest.js';
import { fromText } from './text-value.js';

/** A command's command line: the general flags, and the settings given as flags. */
export interface ParsedFlags {
  readonly help: boolean;
  /** `--print-config`: print the effective settings and exit. */
  readonly printConfig: boolean;
  /** `--config <file>`, if given. */
  readonly config: string | undefined;
  readonly values: TextValue[];
}

/** Flags every server command takes beside its settings (not settings themselves). */
export const GENERAL_FLAGS = [
  {
    flag: 'config',
    short: 'c',
    placeholder: '<file>',
    env: 'WEFT_CONFIG',
    description: 'Read settings from this YAML file',
  },
  {
    flag: 'print-config',
    short: undefined,
    placeholder: '',
    env: undefined,
    description: 'Print the effective settings as YAML, each with where it came from, and exit (secrets hidden)',
  },
  { flag: 'help', short: 'h', placeholder: '', env: undefined, description: 'Show this help and exit' },
] as const;

/**
 * Parses a command's arguments against its settings. Anything unknown is a {@link UsageError}
 * that names it: an unknown flag, a positional argument, a missing value, a value given to a
 * switch. (`util.parseArgs` runs in its lenient mode with tokens so each problem can be named
 * with a suggestion; its strict mode's messages are generic.)
 */
export function readFlags(command: string, argv: readonly string[], settings: readonly SettingInfo[]): ParsedFlags {
  const byFlag = new Map<string, SettingInfo>();
  for (const s of settings) if (s.flag !== undefined) byFlag.set(s.flag, s);
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {
    config: { type: 'string', short: 'c' },
    'print-config': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  };
  for (const [flag, s] of byFlag)
    options[flag] = { type: s.kind === 'boolean' ? 'boolean' : 'string', multiple: s.kind === 'list' };
  const { tokens } = parseArgs({
    args: [...argv],
    options,
    strict: false,
    allowPositionals: true,
    allowNegative: true,
    tokens: true,
  });

  const known = [...Object.keys(options)].map((f) => `--${f}`);
  const texts = new Map<SettingInfo, string[]>();
  let help = false;
  let printConfig = false;
  let config: string | undefined;
  let afterTerminator = false;
  for (const token of tokens) {
    if (token.kind === 'option-terminator') {
      afterTerminator = true;
      continue;
    }
    if (token.kind === 'positional') {
      throw new UsageError(
        `unexpected argument '${token.value}'${afterTerminator ? '' : ` (${command} takes flags only)`}`,
      );
    }
    // An own property only: `--constructor` must not find Object.prototype's.
    const spec = Object.hasOwn(options, token.name) ? options[token.name] : undefined;
    const negated = token.rawName.startsWith('--no-');
    // Only settings negate (`--no-log-requests`); `--no-help` means nothing.
    if (spec === undefined || (negated && !byFlag.has(token.name)) || (negated && spec.type !== 'boolean'))
      throw new UsageError(`unknown flag ${token.rawName}${didYouMean(token.rawName, known)}`);
    if (spec.type === 'boolean') {
      if (token.value !== undefined)
        throw new UsageError(`${token.rawName} is a switch and takes no value (got '${token.value}')`);
      if (token.name === 'help') help = true;
      else if (token.name === 'print-config') printConfig = true;
      else {
        const s = byFlag.get(token.name) as SettingInfo;
        texts.set(s, [negated ? 'false' : 'true']);
      }
      continue;
    }
    // Without a value, or with the next flag taken as its value (`--port --host x`).
    if (token.value === undefined || (!token.inlineValue && token.value.startsWith('-') && token.value.length > 1))
      throw new UsageError(
        `${token.rawName} needs a value${token.value === undefined ? '' : ` (got the flag '${token.value}'; write ${token.rawName}=${token.value} if that is the value)`}`,
      );
    if (token.name === 'config') {
      config = token.value;
      continue;
    }
    const s = byFlag.get(token.name) as SettingInfo;
    texts.set(s, [...(texts.get(s) ?? []), token.value]);
  }
  const values: TextValue[] = [...texts].map(([setting, t]) => ({
    setting,
    value: fromText(setting, t),
    origin: { type: 'flag', flag: setting.flag as string },
  }));
  return { help, printConfig, config, values };
}
