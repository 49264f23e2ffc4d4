import { UsageError } from '../../config/errors.js';

/**
 * The exit codes of the operator commands, for scripts: 0 done; 1 a runtime failure (a server
 * cannot be reached, refuses the credentials or fails); 2 a usage error (a bad flag, selector
 * or rules file, or rules the controller refused as invalid); 3 not found (a rule id, routing
 * rules for a service, instances of a version); 4 the current state does not allow it (a
 * canary already running or none to step, an id already taken, rules changed meanwhile); 5
 * `traffic-step --watch` aborted the transfer because the canary passed a threshold.
 */
export const EXIT = { ok: 0, runtime: 1, usage: 2, notFound: 3, conflict: 4, aborted: 5, interrupted: 130 } as const;

export { UsageError };

/** A failure the CLI reports as one line, exiting with its code (no stack: the message says all). */
export class OpsError extends Error {
  readonly code: string = 'WEFT_ERR_OPS';
  readonly exitCode: number;
  constructor(message: string, exitCode: number) {
    super(message);
    this.name = 'OpsError';
    this.exitCode = exitCode;
  }
}

/** Something asked for does not exist (exit 3). */
export class NotFoundError extends OpsError {
  constructor(message: string) {
    super(message, EXIT.notFound);
    this.name = 'NotFoundError';
  }
}

/** The current state does not allow the operation (exit 4). */
export class ConflictError extends OpsError {
  constructor(message: string) {
    super(message, EXIT.conflict);
    this.name = 'ConflictError';
  }
}

/** The exit code an error stands for; anything unexpected is a runtime failure. */
export function exitCodeOf(err: unknown): number {
  if (err instanceof OpsError || err instanceof UsageError) return err.exitCode;
  return EXIT.runtime;
}
