/**
 * What a policy passes to the function it runs. Policies that derive a signal (timeouts, hedges,
 * breaker probes) pass their own, which also fires when the caller's signal does, so the function
 * only ever needs to watch `context.signal`.
 */
export interface PolicyContext {
  /** Fires when the call should stop: the caller aborted, a timeout expired, a hedge lost. */
  readonly signal: AbortSignal;
  /** 1-based attempt number, set by a {@link RetryPolicy} (absent outside one). */
  readonly attempt?: number;
  /** 0 for the primary call, 1.. for hedged copies, set by a {@link HedgePolicy}. */
  readonly hedge?: number;
}

/** The function a policy runs. */
export type PolicyFn<T> = (context: PolicyContext) => PromiseLike<T> | T;

/**
 * A resilience policy: something that runs a function on the caller's behalf. Every Weft policy
 * implements it, so they compose with {@link wrap}.
 */
export interface Policy {
  /**
   * Runs `fn` under the policy.
   *
   * @param fn - the call; it receives a {@link PolicyContext} whose `signal` it should honour.
   * @param signal - the caller's signal. It reaches `fn` through `context.signal`; policies that
   *   wait on their own (retry backoff, queues, deadlines, half-open probes) stop waiting at once
   *   and reject with the signal's reason. A call cancelled by its caller counts as neither
   *   success nor failure.
   */
  execute<T>(fn: PolicyFn<T>, signal?: AbortSignal): Promise<T>;
}

/** A policy that just runs the function (the identity of {@link wrap}). */
export const noopPolicy: Policy = {
  async execute<T>(fn: PolicyFn<T>, signal?: AbortSignal): Promise<T> {
    const s = signal ?? new AbortController().signal;
    s.throwIfAborted();
    return fn({ signal: s });
  },
};
