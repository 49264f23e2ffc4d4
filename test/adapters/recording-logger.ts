import { expect } from 'vitest';

/** One warning as an adapter logs it. */
export interface RecordedWarning {
  code: string;
  message: string;
  object?: string;
  cause?: unknown;
}

/** Collects the warnings and debug events an adapter logs. */
export class RecordingLogger {
  readonly warnings: RecordedWarning[] = [];
  readonly debugs: Array<{ message: string; details?: Record<string, unknown> }> = [];
  warn(w: RecordedWarning): void {
    this.warnings.push(w);
  }
  debug(message: string, details?: Record<string, unknown>): void {
    this.debugs.push(details === undefined ? { message } : { message, details });
  }
  codes(): string[] {
    return this.warnings.map((w) => w.code);
  }
  /** The warnings with this code. */
  coded(code: string): RecordedWarning[] {
    return this.warnings.filter((w) => w.code === code);
  }
  events(name: string): number {
    return this.debugs.filter((d) => d.details?.event === name).length;
  }
}

/**
 * Asserts the documented failure report of a watch (see WatchHealth in @weft/adapters): exactly
 * one `WEFT_WARN_WATCH_RESTART` for the outage per watch (`watches`, default 1: each subscription
 * is its own watch), carrying its cause, the later failures of the same streak as `watch-failed`
 * debug events, and (when `recovered`) one `watch-recovered` event per watch.
 */
export function expectOneFailureStreak(
  logger: RecordingLogger,
  options: { recovered: boolean; watches?: number },
): void {
  const watches = options.watches ?? 1;
  const restarts = logger.coded('WEFT_WARN_WATCH_RESTART');
  expect(restarts, `warnings: ${JSON.stringify(logger.warnings.map((w) => w.message))}`).toHaveLength(watches);
  for (const r of restarts) {
    expect(r.cause).toBeDefined();
    expect(r.message).toMatch(/failed: .+; retrying with backoff/);
  }
  expect(logger.events('watch-recovered')).toBe(options.recovered ? watches : 0);
}
