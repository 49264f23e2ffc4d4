import type { Clock } from '@weft/core';

/**
 * Waits `ms` on `clock`; resolves early (never rejects) when `signal` aborts — the loops of the
 * adapters check their signal right after, so an abort needs no try/catch around every pause.
 */
export async function pause(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await clock.sleep(ms, signal);
  } catch {
    // aborted: the caller sees its signal
  }
}

/**
 * An AbortSignal that aborts after `ms` on `clock` (`AbortSignal.timeout`, on a clock a test can
 * drive), with an error naming `what`.
 */
export function clockTimeout(clock: Clock, ms: number, what: string): AbortSignal {
  const controller = new AbortController();
  clock.setTimeout(() => controller.abort(new Error(`${what} did not answer within ${ms} ms`)), ms);
  return controller.signal;
}

/**
 * A pause in real time that keeps the process alive meanwhile — for the conformance kit, whose
 * waits may be the only thing running (a `Clock`'s timers are unref'd and would let it exit).
 */
export function sleep(ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    setTimeout(resolve, ms);
  });
}
