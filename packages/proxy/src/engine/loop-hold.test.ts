import { describe, expect, it } from 'vitest';
import { LoopHold } from './loop-hold.js';

/** Timers that keep the event loop alive right now. */
const liveTimers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('LoopHold', () => {
  it('holds the event loop while any holder holds it, and not otherwise', () => {
    const base = liveTimers();
    const hold = new LoopHold();
    expect(liveTimers()).toBe(base);
    hold.acquire();
    hold.acquire();
    expect(hold.held).toBe(true);
    expect(liveTimers()).toBe(base + 1);
    hold.release();
    expect(liveTimers()).toBe(base + 1);
    hold.release();
    expect(hold.held).toBe(false);
    expect(liveTimers()).toBe(base);
    hold.release(); // one release too many is harmless
    hold.acquire();
    expect(liveTimers()).toBe(base + 1);
    hold.release();
    hold.close();
    expect(liveTimers()).toBe(base);
  });

  it('after close, a call still holding keeps the loop until it releases', () => {
    const base = liveTimers();
    const hold = new LoopHold();
    hold.acquire();
    hold.close();
    expect(liveTimers()).toBe(base + 1);
    hold.release();
    expect(liveTimers()).toBe(base);
  });
});
