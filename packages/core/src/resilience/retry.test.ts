import { describe, expect, it, vi } from 'vitest';
import { VirtualClock } from '../clock/index.js';
import { InvalidArgumentError } from '../errors/index.js';
import {
  CircuitOpenError,
  isRetriesExhaustedError,
  RetriesExhaustedError,
  RetryBudgetExhaustedError,
  TimeoutError,
} from './errors.js';
import { Outcome } from './outcome.js';
import type { PolicyContext } from './policy.js';
import { RetryPolicy, RetryVerdict } from './retry.js';
import { RetryBudget } from './retry-budget.js';

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };
function settle<T>(p: Promise<T>): Promise<Settled<T>> {
  return p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}
const res = (status: number, headers: Record<string, string> = {}) => ({ status, headers });
const refused = () => Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });

describe('RetryPolicy', () => {
  it('retries retryable outcomes with backoff until one succeeds, numbering attempts', async () => {
    const clock = new VirtualClock();
    const retry = new RetryPolicy({ clock, random: () => 0.5, budget: false, maxAttempts: 4 });
    const statuses = [503, 502, 200];
    const seen: { attempt: number | undefined; at: number }[] = [];
    const delays: number[] = [];
    retry.onRetry((e) => delays.push(e.delayMs));
    const result = settle(
      retry.execute((ctx: PolicyContext) => {
        seen.push({ attempt: ctx.attempt, at: clock.now() });
        return res(statuses.shift() ?? 500);
      }),
    );
    await clock.advanceAsync(1_000);
    expect(await result).toEqual({ ok: true, value: res(200) });
    // Full jitter at r = 0.5: 0.5 × 25, then 0.5 × 50.
    expect(delays).toEqual([12.5, 25]);
    expect(seen).toEqual([
      { attempt: 1, at: 0 },
      { attempt: 2, at: 12.5 },
      { attempt: 3, at: 37.5 },
    ]);
  });

  it('gives up with the whole attempt history when attempts run out', async () => {
    const clock = new VirtualClock();
    const retry = new RetryPolicy({
      clock,
      random: () => 0,
      budget: false,
      maxAttempts: 3,
      retryOn: ['gateway-error'],
    });
    const giveUps: string[] = [];
    retry.onGiveUp((e) => giveUps.push(`${e.reason}:${e.attempts.length}`));
    const replies: (() => unknown)[] = [
      () => {
        throw refused();
      },
      () => res(503),
      () => {
        clock.advance(40); // this attempt takes 40 ms
        return res(504);
      },
    ];
    const r = await settle(retry.execute(() => (replies.shift() as () => unknown)()));
    expect(r.ok).toBe(false); // random() = 0: zero backoff, no timer needed
    const err = (r as { error: unknown }).error;
    expect(isRetriesExhaustedError(err)).toBe(true);
    const e = err as RetriesExhaustedError;
    expect(e.code).toBe('WEFT_ERR_RETRIES_EXHAUSTED');
    expect(e.status).toBe(504);
    expect(e.attempts.map((a) => [a.attempt, a.outcome, a.status, a.durationMs])).toEqual([
      [1, Outcome.ConnectFailure, undefined, 0],
      [2, 503, 503, 0],
      [3, 504, 504, 40],
    ]);
    expect(e.attempts[0]?.error).toBeInstanceOf(Error);
    expect(e.lastResult).toEqual(res(504));
    expect(e.lastOutcome).toBe(504);
    expect(e.message).toMatch(/#1 connect-failure in 0 ms, #2 503 in 0 ms, #3 504 in 40 ms/);
    expect(JSON.parse(JSON.stringify(e)).attempts[0]).toMatchObject({ attempt: 1, error: 'connect ECONNREFUSED' });
    expect(giveUps).toEqual(['attempts:3']);
  });

  it('hands back non-retryable outcomes untouched', async () => {
    const retry = new RetryPolicy({ budget: false, retryOn: ['gateway-error'] });
    let calls = 0;
    await expect(
      retry.execute(() => {
        calls++;
        return res(500);
      }),
    ).resolves.toEqual(res(500));
    await expect(retry.execute(() => res(404))).resolves.toEqual(res(404));
    const bug = new TypeError('bug');
    await expect(
      retry.execute(() => {
        throw bug;
      }),
    ).rejects.toBe(bug);
    expect(calls).toBe(1);
  });

  it('retries only what the conditions name', () => {
    const connectOnly = new RetryPolicy({ budget: false, retryOn: ['connect-failure'] });
    expect(connectOnly.isRetryable(Outcome.ConnectFailure)).toBe(true);
    expect(connectOnly.isRetryable(Outcome.Reset)).toBe(false);
    expect(connectOnly.isRetryable(503)).toBe(false);
    const defaults = new RetryPolicy({ budget: false });
    expect([500, 503, Outcome.Reset, Outcome.Timeout, Outcome.Error].every((o) => defaults.isRetryable(o))).toBe(true);
    expect([200, 404, 429, Outcome.Cancelled, Outcome.Rejected].some((o) => defaults.isRetryable(o))).toBe(false);
    const listed = new RetryPolicy({ budget: false, retryOn: ['reset'], retriableStatusCodes: [409, 429] });
    expect(listed.isRetryable(409) && listed.isRetryable(429) && !listed.isRetryable(500)).toBe(true);
    const custom = new RetryPolicy({
      budget: false,
      retryOn: [],
      retryIf: (i) => i.error instanceof CircuitOpenError,
    });
    expect(
      custom.isRetryable(Outcome.Rejected, {
        outcome: Outcome.Rejected,
        attempt: 1,
        error: new CircuitOpenError('open'),
      }),
    ).toBe(true);
    expect(custom.isRetryable(503)).toBe(false);
  });

  it('honours Retry-After (seconds or HTTP date), capped', async () => {
    const clock = new VirtualClock(Date.parse('2026-01-01T00:00:00Z'));
    const retry = new RetryPolicy({ clock, random: () => 0, budget: false, maxAttempts: 4, maxRetryAfterMs: 5_000 });
    const delays: number[] = [];
    retry.onRetry((e) => delays.push(e.delayMs));
    const replies = [
      res(503, { 'retry-after': '2' }),
      res(429, { 'retry-after': 'Thu, 01 Jan 2026 00:00:05 GMT' }),
      res(503, { 'retry-after': '3600' }),
      res(200),
    ];
    const retry429 = new RetryPolicy({
      clock,
      random: () => 0,
      budget: false,
      maxAttempts: 4,
      maxRetryAfterMs: 5_000,
      retriableStatusCodes: [429],
    });
    retry429.onRetry((e) => delays.push(e.delayMs));
    const r = settle(retry429.execute(() => replies.shift()));
    await clock.advanceAsync(20_000);
    expect(await r).toEqual({ ok: true, value: res(200) });
    // 2 s; the date is 5 s after t0 but 2 s have passed → 3 s; one hour capped to 5 s.
    expect(delays).toEqual([2_000, 3_000, 5_000]);
    expect(retry.decide(1, 503, 0, 1_000)).toBe(1_000);
  });

  it('stops when the budget is spent and says so, with the history', async () => {
    const clock = new VirtualClock();
    const budget = new RetryBudget({ clock, ratio: 0.5, minRetriesPerSecond: 0 });
    const retry = new RetryPolicy({ clock, random: () => 0, budget, maxAttempts: 5 });
    // Two calls earn one retry between them; the first to fail spends it.
    const first = settle(retry.execute(() => res(503)));
    const second = settle(retry.execute(() => res(503)));
    await clock.advanceAsync(100);
    const errors = [await first, await second].map((r) => (r as { error: unknown }).error as RetryBudgetExhaustedError);
    expect(errors[0]).toBeInstanceOf(RetryBudgetExhaustedError);
    expect(errors[0]?.attempts.map((a) => a.attempt)).toEqual([1, 2]);
    expect(errors[0]?.code).toBe('WEFT_ERR_RETRY_BUDGET_EXHAUSTED');
    expect(errors[0]?.status).toBe(503);
    expect(errors[1]).toBeInstanceOf(RetryBudgetExhaustedError);
    expect(errors[1]?.attempts).toHaveLength(1);
  });

  it('bounds each try with perTryTimeoutMs and retries the timeout', async () => {
    const clock = new VirtualClock();
    const retry = new RetryPolicy({ clock, random: () => 0, budget: false, maxAttempts: 2, perTryTimeoutMs: 100 });
    const signals: AbortSignal[] = [];
    const r = settle(
      retry.execute(({ signal }) => {
        signals.push(signal);
        return new Promise<never>(() => undefined); // ignores its signal and never settles
      }),
    );
    await clock.advanceAsync(1_000);
    const e = (await r) as { ok: false; error: RetriesExhaustedError };
    expect(e.error).toBeInstanceOf(RetriesExhaustedError);
    expect(e.error.attempts.map((a) => [a.outcome, a.durationMs])).toEqual([
      [Outcome.Timeout, 100],
      [Outcome.Timeout, 100],
    ]);
    expect(e.error.cause).toBeInstanceOf(TimeoutError);
    expect((e.error.cause as TimeoutError).scope).toBe('try');
    expect(signals.every((s) => s.aborted)).toBe(true);
    expect(clock.pendingTimers).toBe(0);
  });

  it('raises the overall timeout with the elapsed time and the attempts made', async () => {
    const clock = new VirtualClock();
    const retry = new RetryPolicy({
      clock,
      random: () => 0.999,
      budget: false,
      maxAttempts: 10,
      backoff: { baseMs: 100, maxMs: 100, jitter: 'none' },
      overallTimeoutMs: 250,
    });
    const durations = [60, 1_000];
    const r = settle(
      retry.execute(async ({ signal }) => {
        await clock.sleep(durations.shift() ?? 0, signal);
        return res(503);
      }),
    );
    await clock.advanceAsync(1_000);
    const e = (await r) as { ok: false; error: TimeoutError };
    expect(e.error).toBeInstanceOf(TimeoutError);
    expect(e.error.scope).toBe('overall');
    expect(e.error.elapsedMs).toBe(250);
    expect(e.error.status).toBe(504);
    expect(e.error.message).toMatch(/^Overall timeout of 250 ms expired after 250 ms; attempts: #1 503 in 60 ms/);
    // 0–60 first try, 60–160 wait, 160– second try, cut by the deadline at 250.
    expect(e.error.attempts.map((a) => [a.attempt, a.outcome, a.durationMs, a.delayMs])).toEqual([
      [1, 503, 60, 100],
      [2, Outcome.Timeout, 90, undefined],
    ]);
  });

  it('does not wait into a certain overall timeout', async () => {
    const clock = new VirtualClock();
    const retry = new RetryPolicy({
      clock,
      budget: false,
      backoff: { baseMs: 1_000, jitter: 'none' },
      overallTimeoutMs: 500,
    });
    const r = settle(retry.execute(() => res(503)));
    await clock.advanceAsync(0);
    const e = (await r) as { ok: false; error: RetriesExhaustedError };
    expect(e.error).toBeInstanceOf(RetriesExhaustedError);
    expect(clock.now()).toBe(0);
  });

  it("stops at once when the caller aborts during a wait, with the caller's reason", async () => {
    const clock = new VirtualClock();
    const retry = new RetryPolicy({ clock, budget: false, backoff: { baseMs: 1_000, jitter: 'none' } });
    const ac = new AbortController();
    let calls = 0;
    const r = settle(
      retry.execute(() => {
        calls++;
        return res(503);
      }, ac.signal),
    );
    await clock.advanceAsync(10);
    ac.abort(new Error('user left'));
    expect(await r).toEqual({ ok: false, error: new Error('user left') });
    expect(calls).toBe(1);
    await clock.advanceAsync(5_000);
    expect(calls).toBe(1);
  });

  it('discards the values it retries past', async () => {
    const discarded: unknown[] = [];
    const clock = new VirtualClock();
    const retry = new RetryPolicy({ clock, budget: false, onDiscard: (v) => discarded.push(v) });
    const replies = [res(502), res(503), res(200)];
    const r = settle(retry.execute(() => replies.shift()));
    await clock.advanceAsync(1_000);
    expect((await r).ok).toBe(true);
    expect(discarded).toEqual([res(502), res(503)]);
  });

  it('offers the same decision to a proxy loop without closures', () => {
    const clock = new VirtualClock();
    const budget = new RetryBudget({ clock, ratio: 0, minRetriesPerSecond: 0.1 }); // 1 retry per window
    const retry = new RetryPolicy({ clock, budget, random: () => 0.5, maxAttempts: 3 });
    const spy = vi.spyOn(budget, 'onRequest');
    retry.onRequest();
    expect(spy).toHaveBeenCalledTimes(1);
    expect(retry.decide(1, 404)).toBe(RetryVerdict.NotRetryable);
    expect(retry.decide(3, 503)).toBe(RetryVerdict.AttemptsExhausted);
    expect(retry.decide(1, 503)).toBe(12.5);
    expect(retry.decide(2, 503)).toBe(RetryVerdict.BudgetExhausted);
  });

  it('validates its options, naming every problem', () => {
    try {
      new RetryPolicy({ maxAttempts: 0, perTryTimeoutMs: -1, backoff: { baseMs: 10, maxMs: 5 } });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidArgumentError);
      expect((err as InvalidArgumentError).issues.map((i) => i.path)).toEqual([
        'maxAttempts',
        'perTryTimeoutMs',
        'backoff',
      ]);
    }
  });
});
