import { UsageError } from '../config/errors.js';
import type { Command, CommandGroup } from './command.js';
import { bashScript } from './completion-bash.js';
import { fishScript } from './completion-fish.js';
import { type CompletionFlag, completionModel } from './completion-model.js';
import { zshScript } from './completion-zsh.js';
import { REMOTE_FLAGS } from './ops/command.js';

const HELP = `weft completion — print a shell completion script

Usage: weft completion bash|zsh|fish

The script completes every weft command, each command's flags, and the values of flags that take
one of a fixed set (-o table|json|yaml); it is generated from the commands themselves, so it
matches the weft that printed it.

Install:
  bash   echo 'eval "$(weft completion bash)"' >> ~/.bashrc
  zsh    echo 'source <(weft completion zsh)' >> ~/.zshrc        (after compinit)
  fish   weft completion fish > ~/.config/fish/completions/weft.fish
`;

/** The control plane's flags, which may come before an operator command (a8ctl 0.3's order). */
const leading: CompletionFlag[] = REMOTE_FLAGS.filter((f) => f.hidden !== true).map((f) => ({
  name: f.name,
  short: f.short,
  takesValue: f.type === 'string',
  choices: [],
}));

/**
 * `weft completion bash|zsh|fish`. It takes the command groups as a function: it is one of
 * them, so the list it completes is read when it runs, not when the modules load.
 */
export function completionCommand(groups: () => readonly CommandGroup[]): Command {
  return {
    name: 'completion',
    summary: 'print a shell completion script: weft completion bash|zsh|fish',
    async run(argv, context) {
      const [shell, extra] = argv;
      if (shell === '--help' || shell === '-h') {
        context.stdout(HELP);
        return 0;
      }
      if (extra !== undefined) throw new UsageError(`unexpected argument '${extra}' (weft completion bash|zsh|fish)`);
      if (shell !== 'bash' && shell !== 'zsh' && shell !== 'fish')
        throw new UsageError(
          `${shell === undefined ? 'which shell?' : `no completion for '${shell}':`} weft completion bash|zsh|fish`,
        );
      // Itself included: its flags are completed by the script's own case for it.
      const commands = (await completionModel(groups(), context)).filter((c) => c.name !== 'completion');
      context.stdout(
        shell === 'bash' ? bashScript(commands, leading) : shell === 'zsh' ? zshScript(commands) : fishScript(commands),
      );
      return 0;
    },
  };
}
