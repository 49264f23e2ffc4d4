/**
 * An AbortController that follows a parent signal. `dispose()` detaches it from the parent: a
 * long-lived parent signal (a server's shutdown signal) must not collect one listener per call.
 */
export class LinkedAbort {
  /** The controller whose signal is handed to the call. */
  readonly controller = new AbortController();
  private readonly parent: AbortSignal | undefined;
  private readonly onParentAbort: (() => void) | undefined;

  constructor(parent?: AbortSignal) {
    this.parent = parent;
    if (parent === undefined) return;
    if (parent.aborted) {
      this.controller.abort(parent.reason);
      return;
    }
    this.onParentAbort = () => this.controller.abort(parent.reason);
    parent.addEventListener('abort', this.onParentAbort, { once: true });
  }

  /** The linked signal. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Aborts the linked signal (not the parent). */
  abort(reason: unknown): void {
    this.controller.abort(reason);
  }

  /** Detaches from the parent; idempotent. */
  dispose(): void {
    if (this.onParentAbort !== undefined) this.parent?.removeEventListener('abort', this.onParentAbort);
  }
}

/**
 * Settles with `promise`, or rejects with `signal.reason` as soon as `signal` aborts — for code
 * that must not wait for a function that ignores its signal. A late rejection of `promise` is
 * swallowed so it never surfaces as an unhandled rejection.
 */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/** Runs `fn` and turns a synchronous throw into a rejected promise. */
export function invoke<C, T>(fn: (context: C) => PromiseLike<T> | T, context: C): Promise<T> {
  try {
    return Promise.resolve(fn(context));
  } catch (err) {
    return Promise.reject(err);
  }
}
