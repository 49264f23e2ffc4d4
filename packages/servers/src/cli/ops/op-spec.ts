// What an operator command is declared with and runs with: types only, so the help renderer and
// the commands can share them without importing the command runner (and it them).
import type { CliContext } from '../command.js';
import type { Endpoints } from './endpoints.js';
import type { FlagSpec, ParsedArgs } from './flags.js';
import type { ApiClient } from './http.js';

/** What an operator command runs with. */
export interface OpContext {
  readonly cli: CliContext;
  readonly args: ParsedArgs;
  readonly endpoints: Endpoints;
  readonly controller: ApiClient;
  readonly registry: ApiClient;
  /** Styled output is allowed (a terminal, no `NO_COLOR`). */
  readonly color: boolean;
  /** Prints to standard output (the result). */
  out(text: string): void;
  /** Prints a line to standard error (notes, warnings: never mixed into a result a script parses). */
  note(line: string): void;
}

/** An operator command as it is declared: its help, flags and what it does. */
export interface OpSpec {
  readonly name: string;
  readonly summary: string;
  /** `<service> [--amount <percent>]`: what follows `weft <name>` in the usage line. */
  readonly usage: string;
  readonly description: readonly string[];
  /** Command lines with a comment each; `--help` shows them. */
  readonly examples: readonly (readonly [string, string])[];
  readonly flags: readonly FlagSpec[];
  /** Talks to the control plane: takes the URL, token and `--debug` flags. */
  readonly remote: boolean;
  /** Resolves with the exit code (0 when it returns nothing). */
  run(op: OpContext): Promise<number> | Promise<void>;
}
