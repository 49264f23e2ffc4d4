import { UsageError } from '../config/errors.js';
import { didYouMean } from '../config/suggest.js';
import type { CliContext, Command } from './command.js';
import { COMMAND_GROUPS } from './commands.js';
import { mainHelp } from './help.js';
import { isRemoteCommand } from './ops/command.js';
import { leadingRemoteFlags } from './ops/global-flags.js';
import { ListenError } from './serve.js';
import { VERSION } from './version.js';

const commands = new Map<string, Command>(COMMAND_GROUPS.flatMap((g) => g.commands.map((c) => [c.name, c])));

function find(name: string): Command {
  const command = commands.get(name);
  if (command === undefined)
    throw new UsageError(`unknown command '${name}'${didYouMean(name, commands.keys())}; see weft --help`);
  return command;
}

/**
 * `weft --controller-url X route-list`, as a8ctl 0.3 took its global flags: the control plane's
 * flags before an operator command are passed to it. Any other leading flag, or these before a
 * command that does not talk to the control plane, is a usage error naming it.
 */
async function runWithLeadingFlags(argv: readonly string[], context: CliContext): Promise<number> {
  const { flags, rest } = leadingRemoteFlags(argv);
  const [name, ...args] = rest;
  const first = flags[0] ?? argv[0];
  if (flags.length > 0 && name === undefined)
    throw new UsageError(`${first} needs a command after it: weft ${first} <value> <command>`);
  if (flags.length === 0 || name === undefined || name.startsWith('-'))
    throw new UsageError(
      `unknown flag ${rest[0] ?? first} (a command comes first: weft <command> [flags]; see weft --help)`,
    );
  const command = find(name);
  if (!isRemoteCommand(command))
    throw new UsageError(`${first} is a flag of the operator commands, not of weft ${name} (see weft ${name} --help)`);
  // Before the command's own arguments: after a `--` they would be taken as positionals.
  return command.run([...flags, ...args], context);
}

/**
 * Runs `weft` with `argv` (the arguments after the program name) and resolves with the exit
 * code: 0 done, 1 a runtime failure (the port is taken), 2 a usage error (an unknown command,
 * flag or key, an invalid value) — printed as one clear message, without a stack.
 */
export async function runCli(argv: readonly string[], context: CliContext): Promise<number> {
  const [first, ...rest] = argv;
  let label = 'weft';
  try {
    if (first === undefined) {
      context.stderr(mainHelp(VERSION, COMMAND_GROUPS));
      return 2;
    }
    if (first === '--help' || first === '-h') {
      context.stdout(mainHelp(VERSION, COMMAND_GROUPS));
      return 0;
    }
    if (first === '--version' || first === '-V') {
      context.stdout(`weft ${VERSION}\n`);
      return 0;
    }
    // `weft help` and `weft help <command>`, as in git and npm.
    if (first === 'help') {
      if (rest[0] === undefined) {
        context.stdout(mainHelp(VERSION, COMMAND_GROUPS));
        return 0;
      }
      label = `weft ${rest[0]}`;
      return await find(rest[0]).run(['--help'], context);
    }
    if (first.startsWith('-')) return await runWithLeadingFlags(argv, context);
    const command = find(first);
    label = `weft ${command.name}`;
    return await command.run(rest, context);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    context.stderr(`${label}: ${message}\n`);
    if (err instanceof UsageError) return err.exitCode;
    // A coded error (WEFT_ERR_* of the library: a damaged store file, named; a system error such
    // as EACCES, with its path) says all in its message. Anything else is unexpected: its stack
    // is what a bug report needs.
    const coded = typeof (err as { code?: unknown } | undefined)?.code === 'string';
    if (!(err instanceof ListenError) && !coded && err instanceof Error && err.stack !== undefined)
      context.stderr(`${err.stack}\n`);
    return 1;
  }
}
