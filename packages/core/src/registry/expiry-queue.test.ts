import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Expiring, ExpiryQueue } from './expiry-queue.js';

interface Item extends Expiring {
  name: number;
}
/** White-box check of the heap invariant and of the index back-pointers. */
function checkHeap(q: ExpiryQueue<Item>): void {
  const heap = (q as unknown as { heap: Item[] }).heap;
  for (let i = 0; i < heap.length; i++) {
    const it = heap[i] as Item;
    if (it.heapIndex !== i) throw new Error(`item at ${i} believes it is at ${it.heapIndex}`);
    if (i > 0 && (heap[(i - 1) >> 1] as Item).heapKey > it.heapKey) throw new Error(`heap order broken at ${i}`);
  }
}

const item = (name: number, expiresAt: number): Item => ({ name, expiresAt, heapKey: 0, heapIndex: -1 });

describe('ExpiryQueue', () => {
  it('expires in deadline order and files a later deadline again instead of expiring it', () => {
    const q = new ExpiryQueue<Item>();
    const a = item(1, 30);
    const b = item(2, 10);
    const c = item(3, 20);
    for (const i of [a, b, c]) q.schedule(i);
    expect(q.peekKey()).toBe(10);
    b.expiresAt = 40; // a renewal: no queue call
    const out: number[] = [];
    q.drain(25, (i) => out.push(i.name));
    expect(out).toEqual([3]);
    expect(q.peekKey()).toBe(30);
    q.drain(40, (i) => out.push(i.name));
    expect(out).toEqual([3, 1, 2]);
    expect(q.size).toBe(0);
    expect(q.peekKey()).toBe(Number.POSITIVE_INFINITY);
  });

  it('drops never-expiring items when they surface and sifts up earlier deadlines', () => {
    const q = new ExpiryQueue<Item>();
    const a = item(1, 10);
    const b = item(2, 50);
    q.schedule(a);
    q.schedule(b);
    a.expiresAt = Number.POSITIVE_INFINITY;
    b.expiresAt = 5;
    q.schedule(b);
    expect(q.peekKey()).toBe(5);
    const out: number[] = [];
    q.drain(100, (i) => out.push(i.name));
    expect(out).toEqual([2]);
    expect(a.heapIndex).toBe(-1);
    q.schedule(item(3, Number.POSITIVE_INFINITY));
    expect(q.size).toBe(0);
  });

  it('behaves like a sorted list under any mix of operations', () => {
    type Op =
      | { kind: 'add'; at: number }
      | { kind: 'later'; pick: number; by: number }
      | { kind: 'earlier'; pick: number; by: number }
      | { kind: 'never'; pick: number }
      | { kind: 'remove'; pick: number }
      | { kind: 'drain'; by: number };
    const op: fc.Arbitrary<Op> = fc.oneof(
      {
        weight: 4,
        arbitrary: fc.record({ kind: fc.constant('add' as const), at: fc.integer({ min: 0, max: 1000 }) }),
      },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('later' as const), pick: fc.nat(), by: fc.nat(500) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('earlier' as const), pick: fc.nat(), by: fc.nat(500) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('never' as const), pick: fc.nat() }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('drain' as const), by: fc.nat(100) }) },
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300, size: 'max' }), (ops) => {
        const q = new ExpiryQueue<Item>();
        const live: Item[] = [];
        let now = 0;
        let next = 0;
        const pick = (n: number) => live[n % live.length] as Item;
        for (const o of ops) {
          if (o.kind === 'add') {
            const it = item(next++, now + o.at);
            live.push(it);
            q.schedule(it);
          } else if (live.length === 0) {
            if (o.kind !== 'drain') continue;
          }
          if (o.kind === 'later') pick(o.pick).expiresAt += o.by;
          if (o.kind === 'earlier') {
            const it = pick(o.pick);
            if (it.expiresAt !== Number.POSITIVE_INFINITY) it.expiresAt = Math.max(now + 1, it.expiresAt - o.by);
            else it.expiresAt = now + 1 + o.by;
            q.schedule(it);
          }
          if (o.kind === 'never') pick(o.pick).expiresAt = Number.POSITIVE_INFINITY;
          if (o.kind === 'remove') {
            const it = pick(o.pick);
            q.remove(it);
            live.splice(live.indexOf(it), 1);
          }
          if (o.kind === 'drain') {
            now += o.by;
            const expected = live.filter((i) => i.expiresAt <= now).map((i) => i.name);
            const got: number[] = [];
            q.drain(now, (i) => got.push(i.name));
            expect(got.sort((a, b) => a - b)).toEqual(expected.sort((a, b) => a - b));
            for (const name of got)
              live.splice(
                live.findIndex((i) => i.name === name),
                1,
              );
            // The filed minimum never lies after the real earliest deadline.
            const earliest = Math.min(...live.map((i) => i.expiresAt));
            expect(q.peekKey()).toBeLessThanOrEqual(earliest);
          }
          checkHeap(q);
        }
      }),
      { numRuns: 100 },
    );
  });
});
