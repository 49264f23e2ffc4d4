import { invoke } from './abort.js';
import type { Policy, PolicyContext, PolicyFn } from './policy.js';

/** A composition of policies made by {@link wrap}. */
export interface WrappedPolicy extends Policy {
  /** The policies, outermost first. */
  readonly policies: readonly Policy[];
}

function merge(outer: PolicyContext, inner: PolicyContext): PolicyContext {
  // Inner policies only add what they know; `attempt` from an outer retry must survive an inner timeout.
  if (outer.attempt === undefined && outer.hedge === undefined) return inner;
  const attempt = inner.attempt ?? outer.attempt;
  const hedge = inner.hedge ?? outer.hedge;
  if (hedge === undefined) return attempt === undefined ? { signal: inner.signal } : { signal: inner.signal, attempt };
  return attempt === undefined ? { signal: inner.signal, hedge } : { signal: inner.signal, attempt, hedge };
}

/**
 * Composes policies, outermost first, as in cockatiel: `wrap(retry, breaker, timeout)` retries
 * calls that go through the breaker, each attempt bounded by the timeout. The function sees one
 * context: the innermost signal (which follows every outer one) plus `attempt` and `hedge`.
 *
 * Typical orders: `wrap(timeoutOverall, retry, breaker, timeoutPerTry)`; a bulkhead or rate
 * limiter outermost sheds load before any work, innermost it limits concurrent attempts.
 */
export function wrap(...policies: Policy[]): WrappedPolicy {
  const list = Object.freeze([...policies]);
  return {
    policies: list,
    execute<T>(fn: PolicyFn<T>, signal?: AbortSignal): Promise<T> {
      const run = (i: number, context: PolicyContext): Promise<T> => {
        const policy = list[i];
        if (policy === undefined) return invoke(fn, context);
        return policy.execute((inner) => run(i + 1, merge(context, inner)), context.signal);
      };
      const first = list[0];
      if (first === undefined) {
        const s = signal ?? new AbortController().signal;
        if (s.aborted) return Promise.reject(s.reason);
        return invoke(fn, { signal: s });
      }
      return first.execute((context) => run(1, context), signal);
    },
  };
}
