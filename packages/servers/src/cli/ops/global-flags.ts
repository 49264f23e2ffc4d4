import { REMOTE_FLAGS } from './command.js';

/** `weft <remote flags…> <command> …` split: the flags given before the command, and the rest. */
export interface LeadingFlags {
  readonly flags: readonly string[];
  readonly rest: readonly string[];
}

/**
 * a8ctl 0.3 took its global flags before the command (`a8ctl --a8-controller-url X route-list`).
 * Takes the leading arguments that are flags every remote operator command has (`--name value`,
 * `--name=value`, a switch), so that runCli can hand them to the command. Stops at the first
 * argument that is not one: an unknown leading flag stays for runCli to refuse by name.
 */
export function leadingRemoteFlags(argv: readonly string[]): LeadingFlags {
  const flags: string[] = [];
  let i = 0;
  while (i < argv.length) {
    const arg = argv[i] as string;
    const name = arg.startsWith('--') ? arg.slice(2).split('=')[0] : undefined;
    const spec = REMOTE_FLAGS.find((f) => f.name === name);
    if (spec === undefined) break;
    // A flag that takes a value and has none inline takes the next argument (the parser then
    // checks it, as it does after the command).
    const takesNext = spec.type === 'string' && !arg.includes('=') && i + 1 < argv.length;
    flags.push(...argv.slice(i, takesNext ? i + 2 : i + 1));
    i += takesNext ? 2 : 1;
  }
  return { flags, rest: argv.slice(i) };
}
