import { UsageError } from '../config/errors.js';
import { didYouMean } from '../config/suggest.js';
import type { CliContext, Command } from './command.js';
import { COMMAND_GROUPS } from './commands.js';
import { mainHelp } from './help.js';
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
    if (first.startsWith('-'))
      throw new UsageError(`unknown flag ${first} (a command comes first: weft <command> [flags]; see weft --help)`);
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
