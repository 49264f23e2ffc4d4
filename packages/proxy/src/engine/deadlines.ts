import type { Clock, TimerHandle } from '@weft/core';

/** Something with a deadline the sweeper can expire; the `dl*` fields belong to the sweeper. */
export interface HasDeadline {
  /** Absolute deadline on the clock, ms (0 when not armed). */
  deadline: number;
  /** Called once when the deadline passed. */
  onDeadline(): void;
  dlPrev: HasDeadline | null;
  dlNext: HasDeadline | null;
  dlList: DeadlineList | null;
}

/** Items armed with one duration, in deadline order (appended as armed). */
export class DeadlineList {
  head: HasDeadline | null = null;
  tail: HasDeadline | null = null;
}

/**
 * One interval timer for the overall timeouts of all calls, instead of a `setTimeout` /
 * `clearTimeout` pair per call (Amalgam8's 15 s default applies to every routed request and
 * almost never fires). Resolution `tickMs`; the engine uses it only for timeouts of 500 ms and more.
 *
 * Items sit in intrusive doubly-linked lists, one per duration (so each list is in deadline
 * order and a sweep stops at the first item not yet due). Unlike a `Set`, removal leaves no
 * reference behind: a hash table's abandoned backing stores in old space would keep finished
 * calls — and every request and response they reference — alive through young-generation GCs.
 */
export class DeadlineSweeper {
  private readonly lists = new Map<number, DeadlineList>();
  private armed = 0;
  private timer: TimerHandle | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly tickMs = 10,
  ) {}

  /**
   * Arms `item` to expire `ms` from now; `now` is the clock's current time when the caller has
   * just read it (a clock read is ~40 ns, a noticeable part of a call's engine work).
   */
  add(item: HasDeadline, ms: number, now = this.clock.now()): void {
    let list = this.lists.get(ms);
    if (list === undefined) {
      list = new DeadlineList();
      this.lists.set(ms, list);
    }
    item.deadline = now + ms;
    item.dlList = list;
    item.dlNext = null;
    item.dlPrev = list.tail;
    if (list.tail === null) list.head = item;
    else list.tail.dlNext = item;
    list.tail = item;
    this.armed++;
    if (this.timer === undefined) this.timer = this.clock.setInterval(() => this.sweep(), this.tickMs);
  }

  /** Disarms `item` (no-op when it is not armed). */
  delete(item: HasDeadline): void {
    const list = item.dlList;
    if (list === null) return;
    const { dlPrev: prev, dlNext: next } = item;
    if (prev === null) list.head = next;
    else prev.dlNext = next;
    if (next === null) list.tail = prev;
    else next.dlPrev = prev;
    item.dlPrev = null;
    item.dlNext = null;
    item.dlList = null;
    item.deadline = 0;
    this.armed--;
  }

  /** Stops the timer and forgets every deadline. */
  clear(): void {
    for (const list of this.lists.values()) {
      let item = list.head;
      while (item !== null) {
        const next = item.dlNext;
        item.dlPrev = null;
        item.dlNext = null;
        item.dlList = null;
        item = next;
      }
      list.head = null;
      list.tail = null;
    }
    this.armed = 0;
    this.timer?.clear();
    this.timer = undefined;
  }

  private sweep(): void {
    if (this.armed === 0) {
      this.timer?.clear();
      this.timer = undefined;
      return;
    }
    const now = this.clock.now();
    for (const list of this.lists.values()) {
      let item = list.head;
      while (item !== null && item.deadline <= now) {
        this.delete(item);
        item.onDeadline();
        item = list.head;
      }
    }
  }
}
