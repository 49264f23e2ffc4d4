import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../clock/index.js';
import { HedgePolicy } from './hedge.js';
import type { PolicyContext } from './policy.js';

function settle<T>(p: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  return p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

/** A fake upstream: attempt i answers `replies[i]` after `latencies[i]` ms, honouring its signal. */
function upstream(clock: VirtualClock, latencies: number[], replies: unknown[] = []) {
  const signals: AbortSignal[] = [];
  const fn = async ({ signal, hedge }: PolicyContext) => {
    const i = hedge ?? 0;
    signals[i] = signal;
    await clock.sleep(latencies[i] ?? 0, signal);
    const reply = replies[i] ?? { status: 200, from: i };
    if (reply instanceof Error) throw reply;
    return reply;
  };
  return { fn, signals };
}

describe('HedgePolicy', () => {
  it('sends nothing extra when the primary answers before the delay', async () => {
    const clock = new VirtualClock();
    const hedge = new HedgePolicy({ clock, delayMs: 50, maxExtraLoadPercent: 100 });
    const { fn, signals } = upstream(clock, [30]);
    const r = settle(hedge.execute(fn));
    await clock.advanceAsync(200);
    expect(await r).toEqual({ ok: true, value: { status: 200, from: 0 } });
    expect(signals).toHaveLength(1);
    expect(clock.pendingTimers).toBe(0);
  });

  it('hedges a slow call after the delay; the first success wins and the loser is aborted', async () => {
    const clock = new VirtualClock();
    const hedge = new HedgePolicy({ clock, delayMs: 50, maxExtraLoadPercent: 100 });
    const events: string[] = [];
    hedge.onHedge((e) => events.push(`${e.hedge}:${e.trigger}@${clock.now()}`));
    const { fn, signals } = upstream(clock, [1_000, 20]);
    const r = settle(hedge.execute(fn));
    await clock.advanceAsync(100);
    expect(await r).toEqual({ ok: true, value: { status: 200, from: 1 } });
    expect(events).toEqual(['1:delay@50']);
    expect(signals[0]?.aborted).toBe(true);
    expect(signals[0]?.reason).toMatchObject({ name: 'AbortError' });
    expect(signals[1]?.aborted).toBe(true); // settled attempts are cleaned up too
  });

  it('launches the next copy at once when an attempt fails fast, up to maxHedges', async () => {
    const clock = new VirtualClock();
    const hedge = new HedgePolicy({ clock, delayMs: 100, maxHedges: 2, maxExtraLoadPercent: 200 });
    const events: string[] = [];
    hedge.onHedge((e) => events.push(`${e.hedge}:${e.trigger}@${clock.now()}`));
    const { fn } = upstream(clock, [10, 10, 10], [{ status: 503 }, { status: 502 }, { status: 504 }]);
    const r = settle(hedge.execute(fn));
    await clock.advanceAsync(1_000);
    // All failed: the last failure is handed back as is.
    expect(await r).toEqual({ ok: true, value: { status: 504 } });
    expect(events).toEqual(['1:failure@10', '2:failure@20']);
  });

  it('stays within the extra-load budget', async () => {
    const clock = new VirtualClock();
    const hedge = new HedgePolicy({ clock, delayMs: 10, maxExtraLoadPercent: 25 });
    let hedges = 0;
    hedge.onHedge(() => hedges++);
    for (let i = 0; i < 20; i++) {
      const { fn } = upstream(clock, [50, 5]);
      const r = hedge.execute(fn);
      await clock.advanceAsync(100);
      await r;
    }
    expect(hedges).toBe(5); // 25 % of 20 calls
  });

  it("aborts every attempt with the caller's reason when the caller gives up", async () => {
    const clock = new VirtualClock();
    const hedge = new HedgePolicy({ clock, delayMs: 10, maxExtraLoadPercent: 100 });
    const { fn, signals } = upstream(clock, [1_000, 1_000]);
    const ac = new AbortController();
    const r = settle(hedge.execute(fn, ac.signal));
    await clock.advanceAsync(20);
    ac.abort('bye');
    expect(await r).toEqual({ ok: false, error: 'bye' });
    expect(signals.map((s) => s.reason)).toEqual(['bye', 'bye']);
  });

  it('throws the last error when every attempt throws, and discards late values of losers', async () => {
    const clock = new VirtualClock();
    const discarded: unknown[] = [];
    const hedge = new HedgePolicy({
      clock,
      delayMs: 10,
      maxExtraLoadPercent: 100,
      onDiscard: (v) => discarded.push(v),
    });
    const boom = Object.assign(new Error('reset'), { code: 'ECONNRESET' });
    const { fn } = upstream(clock, [5, 5], [boom, boom]);
    const r = settle(hedge.execute(fn));
    await clock.advanceAsync(100);
    expect(await r).toEqual({ ok: false, error: boom });

    // A loser that ignores its signal and answers late is handed to onDiscard.
    let release: (v: unknown) => void = () => undefined;
    const stubborn = new HedgePolicy({
      clock,
      delayMs: 10,
      maxExtraLoadPercent: 100,
      onDiscard: (v) => discarded.push(v),
    });
    const win = stubborn.execute(({ hedge: h }) =>
      h === 0 ? new Promise((resolve) => (release = resolve)) : clock.sleep(5).then(() => 'fast'),
    );
    await clock.advanceAsync(50);
    await expect(win).resolves.toBe('fast');
    release('late');
    await clock.advanceAsync(0);
    expect(discarded).toEqual(['late']);
  });
});
