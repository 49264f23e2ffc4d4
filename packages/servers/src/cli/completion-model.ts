import type { CliContext, Command, CommandGroup } from './command.js';
import { operatorFlags } from './ops/command.js';

/** One flag as a shell completes it. */
export interface CompletionFlag {
  /** Without the dashes: `controller-url`. */
  readonly name: string;
  readonly short: string | undefined;
  readonly takesValue: boolean;
  /** The values it takes when the help lists them (`table|json|yaml`); empty otherwise. */
  readonly choices: readonly string[];
}

/** One command as a shell completes it. */
export interface CompletionCommand {
  readonly name: string;
  readonly summary: string;
  readonly flags: readonly CompletionFlag[];
}

/** `table|json|yaml` as choices; `<url>` names a value, it lists none. */
const choicesOf = (placeholder: string | undefined): string[] =>
  placeholder !== undefined && /^[a-z]+(\|[a-z]+)+$/.test(placeholder) ? placeholder.split('|') : [];

/**
 * A server or sidecar command's flags, read from its `--help`: they are made from its settings
 * schema there and nowhere else, so what completes is what the help shows. A flag line is the
 * flag alone, with its placeholder at most (`  --host <address>`, `  --register, --no-register`,
 * `      --print-config`): a description line that starts with a flag goes on with words, so a
 * flag named in one is not taken for a flag of the command.
 */
export function flagsFromHelp(help: string): CompletionFlag[] {
  const flags: CompletionFlag[] = [];
  for (const line of help.split('\n')) {
    const m =
      /^ {2}(?:-([A-Za-z0-9]), | {4})?(--[a-z0-9][\w-]*(?:, --[a-z0-9][\w-]*)*)(?: ([^\s(]\S*))?(?: {2}\(repeatable\))?$/.exec(
        line,
      );
    if (m === null) continue;
    for (const long of (m[2] as string).split(', '))
      flags.push({ name: long.slice(2), short: m[1], takesValue: m[3] !== undefined, choices: choicesOf(m[3]) });
  }
  return flags;
}

/** A context that keeps what a command prints to standard output and nothing else. */
function capturing(context: CliContext, out: string[]): CliContext {
  return { ...context, stdout: (text) => out.push(text), stderr: () => {}, onSignal: () => () => {} };
}

async function flagsOf(command: Command, context: CliContext): Promise<CompletionFlag[]> {
  const own = operatorFlags(command);
  if (own !== undefined)
    return own
      .filter((f) => f.hidden !== true)
      .map((f) => ({
        name: f.name,
        short: f.short,
        takesValue: f.type === 'string',
        choices: choicesOf(f.placeholder),
      }));
  const out: string[] = [];
  await command.run(['--help'], capturing(context, out));
  return flagsFromHelp(out.join(''));
}

/** Every command of every group with its flags, in `weft --help`'s order. */
export async function completionModel(
  groups: readonly CommandGroup[],
  context: CliContext,
): Promise<CompletionCommand[]> {
  const commands = groups.flatMap((g) => g.commands);
  return Promise.all(
    commands.map(async (c) => ({ name: c.name, summary: c.summary, flags: await flagsOf(c, context) })),
  );
}
