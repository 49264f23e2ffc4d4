import { describe, expect, it, vi } from 'vitest';
import { Emitter, nextEvent } from './event.js';

describe('Emitter', () => {
  it('delivers to listeners until they dispose', () => {
    const e = new Emitter<number>();
    const seen: number[] = [];
    const sub = e.event((v) => seen.push(v));
    e.emit(1);
    sub.dispose();
    sub.dispose();
    e.emit(2);
    expect(seen).toEqual([1]);
    expect(e.size).toBe(0);
  });

  it('keeps delivering when a listener unsubscribes or throws mid-emit', async () => {
    const e = new Emitter<string>();
    const seen: string[] = [];
    const first = e.event(() => first.dispose());
    e.event(() => {
      throw new Error('listener bug');
    });
    e.event((v) => seen.push(v));
    const errors: unknown[] = [];
    const spy = vi.spyOn(globalThis, 'queueMicrotask').mockImplementation((cb) => {
      try {
        cb();
      } catch (err) {
        errors.push(err);
      }
    });
    e.emit('x');
    spy.mockRestore();
    expect(seen).toEqual(['x']);
    expect(errors).toHaveLength(1);
    expect(e.size).toBe(2);
  });

  it('supports `using` and one-shot waits', async () => {
    const e = new Emitter<number>();
    {
      using _sub = e.event(() => undefined);
      expect(e.size).toBe(1);
    }
    expect(e.size).toBe(0);
    const next = nextEvent(e.event);
    e.emit(7);
    e.emit(8);
    await expect(next).resolves.toBe(7);
  });
});
