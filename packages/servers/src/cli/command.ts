/** What a command may touch of the process: passed in, so commands run in tests without one. */
export interface CliContext {
  readonly argv0: string;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /**
   * Registers the handler of SIGTERM/SIGINT for a long-running command; returns the function that
   * removes it. The process entry point wires real signals; tests pass their own.
   */
  readonly onSignal: (handler: (signal: NodeJS.Signals) => void) => () => void;
}

/** One `weft <name>` command. */
export interface Command {
  readonly name: string;
  /** One line, for `weft --help`. */
  readonly summary: string;
  /** Runs the command with the arguments after its name; resolves with the exit code. */
  run(argv: readonly string[], context: CliContext): Promise<number>;
}

/** Commands listed together in `weft --help`. */
export interface CommandGroup {
  readonly title: string;
  readonly commands: readonly Command[];
}
