import { constants } from 'node:os';

/**
 * The exit code a shell would report for a child that ended with `code` or was killed by
 * `signal`: 128 + the signal's number (SIGTERM → 143, SIGKILL → 137), so a sidecar that exits
 * with it tells its own parent (Docker, Kubernetes, a script) the same story the app would have.
 */
export function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  if (signal !== null) return 128 + (constants.signals[signal] ?? 0);
  return 1;
}
