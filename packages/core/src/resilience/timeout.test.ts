import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../clock/index.js';
import { isTimeoutError, TimeoutError } from './errors.js';
import { Deadline, TimeoutPolicy } from './timeout.js';

function settle<T>(p: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  return p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

describe('TimeoutPolicy', () => {
  it('aggressive: rejects at the deadline even when the function ignores its signal', async () => {
    const clock = new VirtualClock();
    const policy = new TimeoutPolicy({ clock, timeoutMs: 100 });
    const fired: number[] = [];
    policy.onTimeout((e) => fired.push(e.elapsedMs));
    let signal: AbortSignal | undefined;
    const r = settle(
      policy.execute((ctx) => {
        signal = ctx.signal;
        return new Promise<never>(() => undefined);
      }),
    );
    await clock.advanceAsync(99);
    expect(signal?.aborted).toBe(false);
    await clock.advanceAsync(1);
    const out = await r;
    expect(out.ok).toBe(false);
    const err = (out as { error: TimeoutError }).error;
    expect(isTimeoutError(err)).toBe(true);
    expect([err.code, err.status, err.timeoutMs, err.elapsedMs, err.scope]).toEqual([
      'WEFT_ERR_TIMEOUT',
      504,
      100,
      100,
      'overall',
    ]);
    expect(err.message).toBe('Overall timeout of 100 ms expired after 100 ms');
    expect(signal?.aborted).toBe(true);
    expect(signal?.reason).toBe(err);
    expect(fired).toEqual([100]);
  });

  it('cooperative: waits for the function; a late value is kept, a late error becomes a timeout with the real elapsed time', async () => {
    const clock = new VirtualClock();
    const policy = new TimeoutPolicy({ clock, timeoutMs: 100, mode: 'cooperative', scope: 'try' });
    const late = settle(policy.execute(() => clock.sleep(150).then(() => 'done')));
    await clock.advanceAsync(200);
    expect(await late).toEqual({ ok: true, value: 'done' });

    const cleanup = new Error('stopped after cleanup');
    const failing = settle(
      policy.execute(
        ({ signal }) =>
          new Promise((_, reject) =>
            signal.addEventListener('abort', () => clock.setTimeout(() => reject(cleanup), 30)),
          ),
      ),
    );
    await clock.advanceAsync(200);
    const out = (await failing) as { ok: false; error: TimeoutError };
    expect(out.error).toBeInstanceOf(TimeoutError);
    expect(out.error.elapsedMs).toBe(130);
    expect(out.error.scope).toBe('try');
    expect(out.error.cause).toBe(cleanup);
  });

  it("passes the caller's abort through unchanged and leaves no timer behind", async () => {
    const clock = new VirtualClock();
    const policy = new TimeoutPolicy({ clock, timeoutMs: 1_000 });
    const ac = new AbortController();
    const r = settle(policy.execute(({ signal }) => clock.sleep(5_000, signal), ac.signal));
    await clock.advanceAsync(10);
    ac.abort(new Error('caller gone'));
    expect(await r).toEqual({ ok: false, error: new Error('caller gone') });
    await expect(policy.execute(() => 42)).resolves.toBe(42);
    expect(clock.pendingTimers).toBe(0);
  });

  it('rejects a non-positive timeout', () => {
    expect(() => new TimeoutPolicy({ timeoutMs: 0 })).toThrow(/timeoutMs: must be > 0/);
  });
});

describe('Deadline', () => {
  it('follows its parent, knows what is left, and detaches when cleared', () => {
    const clock = new VirtualClock();
    const parent = new AbortController();
    const d = new Deadline(clock, 500, parent.signal, 'try');
    clock.advance(200);
    expect(d.remainingMs()).toBe(300);
    parent.abort('bye');
    expect(d.signal.aborted && d.signal.reason === 'bye' && !d.expired).toBe(true);

    const d2 = new Deadline(clock, 500, parent.signal);
    expect(d2.signal.aborted).toBe(true);

    const quiet = new AbortController();
    const d3 = new Deadline(clock, 50, quiet.signal);
    d3.clear();
    clock.advance(100);
    quiet.abort();
    expect(d3.signal.aborted).toBe(false);
  });
});
