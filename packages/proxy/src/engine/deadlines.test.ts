import { VirtualClock } from '@weft/core';
import { describe, expect, it } from 'vitest';
import { type DeadlineList, DeadlineSweeper, type HasDeadline } from './deadlines.js';

class Item implements HasDeadline {
  deadline = 0;
  dlPrev: HasDeadline | null = null;
  dlNext: HasDeadline | null = null;
  dlList: DeadlineList | null = null;
  fired = 0;
  onDeadline(): void {
    this.fired++;
  }
}

describe('DeadlineSweeper', () => {
  it('expires items in deadline order per duration, within one tick', () => {
    const clock = new VirtualClock(0);
    const sweeper = new DeadlineSweeper(clock, 10);
    const a = new Item();
    const b = new Item();
    const c = new Item();
    sweeper.add(a, 1000);
    clock.advance(100);
    sweeper.add(b, 1000);
    sweeper.add(c, 500);
    clock.advance(505);
    expect([a.fired, b.fired, c.fired]).toEqual([0, 0, 1]);
    clock.advance(400);
    expect([a.fired, b.fired, c.fired]).toEqual([1, 0, 1]);
    clock.advance(100);
    expect([a.fired, b.fired, c.fired]).toEqual([1, 1, 1]);
  });

  it('removes items in O(1) from anywhere in the list and leaves no links behind', () => {
    const clock = new VirtualClock(0);
    const sweeper = new DeadlineSweeper(clock, 10);
    const items = Array.from({ length: 5 }, () => new Item());
    for (const i of items) sweeper.add(i, 1000);
    sweeper.delete(items[0] as Item);
    sweeper.delete(items[2] as Item);
    sweeper.delete(items[4] as Item);
    sweeper.delete(items[4] as Item); // twice: no-op
    for (const i of [items[0], items[2], items[4]] as Item[])
      expect([i.dlPrev, i.dlNext, i.dlList, i.deadline]).toEqual([null, null, null, 0]);
    clock.advance(1010);
    expect(items.map((i) => i.fired)).toEqual([0, 1, 0, 1, 0]);
  });

  it('stops its timer when nothing is armed and forgets everything on clear', () => {
    const clock = new VirtualClock(0);
    const sweeper = new DeadlineSweeper(clock, 10);
    const a = new Item();
    sweeper.add(a, 600);
    sweeper.clear();
    clock.advance(1000);
    expect(a.fired).toBe(0);
    expect(a.dlList).toBeNull();
  });
});
