const noop = (): void => {};
/** The longest delay Node's timers take (a 32-bit signed count of ms): the interval never fires in practice. */
const FOREVER_MS = 2 ** 31 - 1;

/**
 * Keeps the process alive while calls wait on the engine's own timers.
 *
 * Every timer of the engine comes from a core `Clock`, and the real clock unrefs its timers so
 * that an idle agent (its sweepers, breakers, budgets) never keeps a process alive. A call that
 * waits — a retry backoff, an injected delay, a place in a bulkhead queue — has no socket open
 * that would hold the event loop either, so without a hold a script whose only pending work is
 * `await request(…)` would exit mid-call (ESM: exit code 13, "unsettled top-level await"; CJS:
 * silently). undici's own pending requests hold the loop through their sockets; this does the
 * same for the waits in between: one ref'd timer for the whole engine, ref'd while any call
 * holds it and unref'd otherwise. Only the cold paths (retries, faults, queueing) touch it.
 */
export class LoopHold {
  private holders = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  /** Holds the event loop until a matching {@link release}. */
  acquire(): void {
    if (this.holders++ > 0) return;
    if (this.timer === undefined) this.timer = setInterval(noop, FOREVER_MS);
    else this.timer.ref();
  }

  /** Releases one hold; the loop is free again once every holder released. */
  release(): void {
    if (this.holders === 0) return;
    if (--this.holders > 0) return;
    if (this.closed) this.dispose();
    else this.timer?.unref();
  }

  /**
   * The engine closed: drop the timer once no call holds it. Calls still waiting keep their hold
   * until they finish (their retries then fail on the closed pools), as undici's requests do.
   */
  close(): void {
    this.closed = true;
    if (this.holders === 0) this.dispose();
  }

  private dispose(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Whether any call holds the loop (tests). */
  get held(): boolean {
    return this.holders > 0;
  }
}
