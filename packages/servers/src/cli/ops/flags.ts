import { parseArgs } from 'node:util';
import { UsageError } from '../../config/errors.js';
import { didYouMean } from '../../config/suggest.js';

/** One flag of an operator command. */
export interface FlagSpec {
  readonly name: string;
  readonly short?: string;
  /** A switch, or a flag with a value. */
  readonly type: 'boolean' | 'string';
  /** The flag may repeat; its values are collected in order. */
  readonly multiple?: boolean;
  /** The value in help (`<url>`). */
  readonly placeholder?: string;
  readonly description: string;
  /** Left out of the help (a8ctl's spellings, kept for old scripts). */
  readonly hidden?: boolean;
}

/** A parsed command line: the flags' values by name, and the positional arguments. */
export interface ParsedArgs {
  readonly values: Readonly<Record<string, string | boolean | string[] | undefined>>;
  readonly positionals: readonly string[];
}

/**
 * Parses a command line against the command's flags with `util.parseArgs` (lenient, with
 * tokens) so that each mistake can be named with a suggestion: an unknown flag, a missing value,
 * a value given to a switch, a flag given twice that takes one value.
 */
export function parseFlags(argv: readonly string[], flags: readonly FlagSpec[]): ParsedArgs {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const f of flags)
    options[f.name] = { type: f.type, ...(f.short === undefined ? {} : { short: f.short }), multiple: true };
  const { tokens } = parseArgs({ args: [...argv], options, strict: false, allowPositionals: true, tokens: true });
  const known = flags.map((f) => `--${f.name}`);
  const values: Record<string, string | boolean | string[] | undefined> = {};
  const positionals: string[] = [];
  for (const token of tokens) {
    if (token.kind === 'option-terminator') continue;
    if (token.kind === 'positional') {
      positionals.push(token.value);
      continue;
    }
    const spec = Object.hasOwn(options, token.name) ? flags.find((f) => f.name === token.name) : undefined;
    if (spec === undefined) throw new UsageError(`unknown flag ${token.rawName}${didYouMean(token.rawName, known)}`);
    if (spec.type === 'boolean') {
      if (token.value !== undefined)
        throw new UsageError(`${token.rawName} is a switch and takes no value (got '${token.value}')`);
      values[spec.name] = true;
      continue;
    }
    // `-o` followed by another flag: the flag was taken as the value.
    if (token.value === undefined || (!token.inlineValue && token.value.startsWith('-') && token.value.length > 1))
      throw new UsageError(
        `${token.rawName} needs a value${token.value === undefined ? '' : ` (got the flag '${token.value}'; write --${spec.name}=${token.value} if that is the value)`}`,
      );
    if (spec.multiple === true)
      values[spec.name] = [...((values[spec.name] as string[] | undefined) ?? []), token.value];
    else if (values[spec.name] !== undefined && values[spec.name] !== token.value)
      throw new UsageError(`${token.rawName} given twice ('${String(values[spec.name])}' and '${token.value}')`);
    else values[spec.name] = token.value;
  }
  return { values, positionals };
}
