import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../clock/index.js';
import { Bulkhead } from './bulkhead.js';
import { BulkheadFullError, isBulkheadFullError } from './errors.js';

const flush = () => new Promise<void>((r) => setImmediate(r));

describe('Bulkhead', () => {
  it('runs at most maxConcurrent, queues FIFO up to maxQueue, refuses the rest', async () => {
    const b = new Bulkhead({ maxConcurrent: 2, maxQueue: 2 });
    const order: string[] = [];
    const gates: (() => void)[] = [];
    const job = (name: string) =>
      b.execute(
        () =>
          new Promise<void>((resolve) => {
            order.push(name);
            gates.push(resolve);
          }),
      );
    const jobs = ['a', 'b', 'c', 'd'].map(job);
    const refused = await job('e').catch((e: unknown) => e);
    expect(isBulkheadFullError(refused)).toBe(true);
    expect((refused as BulkheadFullError).reason).toBe('full');
    await flush();
    expect(order).toEqual(['a', 'b']);
    expect([b.running, b.queued]).toEqual([2, 2]);
    gates[1]?.();
    await flush();
    expect(order).toEqual(['a', 'b', 'c']);
    gates[0]?.();
    await flush();
    expect(order).toEqual(['a', 'b', 'c', 'd']);
    for (const g of gates) g();
    await Promise.all(jobs);
    expect([b.running, b.queued]).toEqual([0, 0]);
  });

  it('does not starve: waiters that give up free their queue place and are never handed a slot', async () => {
    const clock = new VirtualClock();
    const b = new Bulkhead({ maxConcurrent: 1, maxQueue: 3, queueTimeoutMs: 1_000, clock });
    expect(b.tryAcquire()).toBe(true);
    const ac = new AbortController();
    const quitters = [b.acquire(ac.signal), b.acquire(ac.signal), b.acquire()].map((p) =>
      p.then(
        () => 'got a slot',
        (e: unknown) => (isBulkheadFullError(e) ? e.reason : String(e)),
      ),
    );
    expect(b.queued).toBe(3);
    ac.abort('caller left');
    await clock.advanceAsync(1_000); // the third one times out in the queue
    expect(await Promise.all(quitters)).toEqual(['caller left', 'caller left', 'queue-timeout']);
    expect(b.queued).toBe(0);
    // The queue is entirely usable again, and the running call's slot goes to a live waiter.
    const live = [b.acquire(), b.acquire(), b.acquire()];
    await expect(b.acquire()).rejects.toBeInstanceOf(BulkheadFullError);
    b.release();
    await live[0];
    b.release();
    await live[1];
    b.release();
    await live[2];
    b.release();
    expect([b.running, b.queued]).toEqual([0, 0]);
    expect(b.tryAcquire()).toBe(true);
  });

  it('gives the slot back when the caller aborts right after the hand-over', async () => {
    const b = new Bulkhead({ maxConcurrent: 1, maxQueue: 1 });
    b.tryAcquire();
    const ac = new AbortController();
    let ran = false;
    const queued = b.execute(() => {
      ran = true;
    }, ac.signal);
    b.release(); // hands the slot to the queued call…
    ac.abort(); // …whose caller leaves before it runs
    await expect(queued).rejects.toThrow();
    expect(ran).toBe(false);
    expect(b.running).toBe(0);
  });

  it('keeps its counts straight under random acquire / abort / release traffic', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom('acquire', 'abort', 'release', 'tick'), { maxLength: 120 }),
        async (ops) => {
          const clock = new VirtualClock();
          const b = new Bulkhead({ maxConcurrent: 2, maxQueue: 3, queueTimeoutMs: 50, clock });
          const pending: AbortController[] = [];
          let held = 0;
          for (const op of ops) {
            if (op === 'acquire') {
              const ac = new AbortController();
              pending.push(ac);
              b.acquire(ac.signal).then(
                () => {
                  held++;
                },
                () => undefined,
              );
            } else if (op === 'abort') {
              pending.shift()?.abort();
            } else if (op === 'release' && held > 0) {
              held--;
              b.release();
            } else if (op === 'tick') {
              clock.advance(20);
            }
            await flush();
            if (b.running > 2 || b.queued > 3 || b.running !== held) return false;
          }
          await clock.advanceAsync(100);
          while (held > 0) {
            held--;
            b.release();
            await flush();
          }
          return b.running === 0 && b.queued === 0;
        },
      ),
      { numRuns: 100 },
    );
  });

  it('validates options', () => {
    expect(() => new Bulkhead({ maxConcurrent: 0, maxQueue: -1 })).toThrow(/maxConcurrent.*maxQueue/);
  });
});
