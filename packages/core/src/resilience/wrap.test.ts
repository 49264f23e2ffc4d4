import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../clock/index.js';
import { Bulkhead } from './bulkhead.js';
import { CircuitBreaker } from './circuit-breaker.js';
import { CircuitOpenError, RetriesExhaustedError, TimeoutError } from './errors.js';
import type { Policy, PolicyContext } from './policy.js';
import { RetryPolicy } from './retry.js';
import { TimeoutPolicy } from './timeout.js';
import { wrap } from './wrap.js';

function tracer(name: string, log: string[]): Policy {
  return {
    async execute(fn, signal) {
      log.push(`>${name}`);
      try {
        return await fn({ signal: signal ?? new AbortController().signal });
      } finally {
        log.push(`<${name}`);
      }
    },
  };
}

describe('wrap', () => {
  it('nests policies outermost first', async () => {
    const log: string[] = [];
    const p = wrap(tracer('a', log), tracer('b', log), tracer('c', log));
    await p.execute(() => log.push('fn'));
    expect(log).toEqual(['>a', '>b', '>c', 'fn', '<c', '<b', '<a']);
    expect(p.policies).toHaveLength(3);
    await expect(wrap().execute(() => 1)).resolves.toBe(1);
  });

  it('retry around a per-try timeout: attempts numbered, each bounded, history kept', async () => {
    const clock = new VirtualClock();
    const retry = new RetryPolicy({ clock, budget: false, random: () => 0, maxAttempts: 3 });
    const perTry = new TimeoutPolicy({ clock, timeoutMs: 100, scope: 'try' });
    const seen: PolicyContext[] = [];
    const r = wrap(retry, perTry)
      .execute((ctx) => {
        seen.push(ctx);
        return clock.sleep(1_000, ctx.signal);
      })
      .catch((e: unknown) => e);
    await clock.advanceAsync(1_000);
    const err = (await r) as RetriesExhaustedError;
    expect(err).toBeInstanceOf(RetriesExhaustedError);
    expect(err.attempts.map((a) => a.durationMs)).toEqual([100, 100, 100]);
    expect(err.cause).toBeInstanceOf(TimeoutError);
    expect(seen.map((c) => c.attempt)).toEqual([1, 2, 3]);
    expect(seen.every((c) => c.signal.aborted)).toBe(true);
  });

  it('does not retry a local rejection, and the breaker does not count it', async () => {
    const clock = new VirtualClock();
    const breaker = new CircuitBreaker({ clock, trip: { kind: 'consecutive', threshold: 2 } });
    const retry = new RetryPolicy({ clock, budget: false, random: () => 0, maxAttempts: 5 });
    let calls = 0;
    const policy = wrap(retry, breaker);
    const first = await policy
      .execute(() => {
        calls++;
        return { status: 503 };
      })
      .catch((e: unknown) => e);
    // Two 503s open the breaker; the third attempt is refused locally and that ends the retrying.
    expect(calls).toBe(2);
    expect(first).toBeInstanceOf(CircuitOpenError);

    const bulkhead = new Bulkhead({ maxConcurrent: 1 });
    bulkhead.tryAcquire();
    const guarded = new CircuitBreaker({ clock, trip: { kind: 'consecutive', threshold: 1 } });
    await expect(wrap(guarded, bulkhead).execute(() => 'x')).rejects.toThrow('Bulkhead full');
    expect(guarded.state).toBe('closed');
  });
});
