/**
 * Runs a probe under a deadline. The probe gets a signal that aborts when the deadline passes or
 * when `outer` (the monitor stopping) aborts, and must then release what it holds (a socket, a
 * child process) and reject with the signal's reason. The timeout's reason says how long it
 * waited, which is what an operator reading `lastError` needs.
 */
export async function withDeadline<T>(
  timeoutMs: number,
  outer: AbortSignal,
  run: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
  const onOuter = (): void => controller.abort(new Error('health monitor stopped'));
  if (outer.aborted) onOuter();
  else outer.addEventListener('abort', onOuter, { once: true });
  try {
    return await run(controller.signal);
  } finally {
    clearTimeout(timer);
    outer.removeEventListener('abort', onOuter);
  }
}

/** Calls `onAbort` once when `signal` aborts (at once if it already has); returns the unsubscription. */
export function onAbort(signal: AbortSignal, onAbort: (reason: Error) => void): () => void {
  const listener = (): void => onAbort(signal.reason as Error);
  if (signal.aborted) {
    listener();
    return () => undefined;
  }
  signal.addEventListener('abort', listener, { once: true });
  return () => signal.removeEventListener('abort', listener);
}
