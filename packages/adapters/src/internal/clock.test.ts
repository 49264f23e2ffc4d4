import { VirtualClock } from '@weft/core';
import { describe, expect, it } from 'vitest';
import { clockTimeout, pause } from './clock.js';

describe('pause', () => {
  it('waits on the given clock, and resolves (never rejects) when its signal aborts', async () => {
    const clock = new VirtualClock();
    let done = false;
    const p = pause(clock, 1_000).then(() => {
      done = true;
    });
    await clock.advanceAsync(999);
    expect(done).toBe(false);
    await clock.advanceAsync(1);
    await p;
    expect(done).toBe(true);

    const abort = new AbortController();
    const aborted = pause(clock, 60_000, abort.signal);
    abort.abort(new Error('stop'));
    await expect(aborted).resolves.toBeUndefined();
  });
});

describe('clockTimeout', () => {
  it('aborts after the delay on the given clock, with a reason naming what timed out', async () => {
    const clock = new VirtualClock();
    const signal = clockTimeout(clock, 2_000, 'a list');
    clock.advance(1_999);
    expect(signal.aborted).toBe(false);
    clock.advance(1);
    expect(signal.aborted).toBe(true);
    expect((signal.reason as Error).message).toBe('a list did not answer within 2000 ms');
  });
});
