/**
 * A mistake in what the user typed or configured: an unknown command, flag or key, a bad value.
 * The CLI prints the message (no stack: nothing in it helps) and exits with 2, as most command
 * line tools do for usage errors, so scripts can tell them from runtime failures (1).
 */
export class UsageError extends Error {
  readonly code: string = 'WEFT_ERR_USAGE';
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** An invalid configuration; `problems` name each field and where its value came from. */
export class ConfigError extends UsageError {
  override readonly code = 'WEFT_ERR_CONFIG';
  readonly problems: readonly string[];
  /** `heading`: what is invalid (`invalid configuration`); one problem per line follows it. */
  constructor(heading: string, problems: readonly string[]) {
    super(`${heading}:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}
