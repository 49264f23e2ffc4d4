/**
 * When a command configured with `restart: 'on-failure'` is started again. Exponential backoff —
 * initial, 2×, 4×… capped — so a command that crashes at start does not spin the CPU; a run that
 * lasted at least the cap counts as a recovery and starts the sequence over, as Kubernetes'
 * CrashLoopBackOff does.
 */
export interface RestartBackoff {
  /** Delay before the first restart, ms. */
  readonly initialMs: number;
  /** Longest delay, ms; also how long a run must last to reset the backoff. */
  readonly maxMs: number;
}

/** Whether an ended command is restarted: only a failure (non-zero code, or killed) of an on-failure command. */
export function isFailure(code: number | null): boolean {
  return code !== 0;
}

/** The delay before restart number `attempt` (1-based). */
export function restartDelay(attempt: number, backoff: RestartBackoff): number {
  return Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(attempt - 1, 30));
}
