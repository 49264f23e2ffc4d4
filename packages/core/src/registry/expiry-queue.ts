/**
 * An item with a deadline, as {@link ExpiryQueue} sees it. The queue owns `heapKey` and
 * `heapIndex`; the owner of the item only ever writes `expiresAt`.
 */
export interface Expiring {
  /** When the item expires (ms, on the registry's clock); `Infinity` for never. */
  expiresAt: number;
  /** The deadline the item is filed under in the heap; may lag behind `expiresAt`. */
  heapKey: number;
  /** Position in the heap, or -1 when not queued. */
  heapIndex: number;
}

/**
 * A binary min-heap of deadlines with lazy re-checking, so that pushing a deadline later (a
 * renewal, the hot path) costs nothing: the owner just writes a later `expiresAt`. The item
 * keeps its old, earlier place; when it reaches the top and its filed deadline has passed, the
 * queue notices the real deadline moved and files it again. Each item is therefore re-filed at
 * most once per TTL period however often it is renewed, instead of once per renewal.
 *
 * Moving a deadline earlier (re-registration with a shorter TTL) must go through
 * {@link ExpiryQueue.schedule}, which sifts the item up.
 */
export class ExpiryQueue<T extends Expiring> {
  private readonly heap: T[] = [];

  /** Number of queued items (including ones whose deadline has since moved or become `Infinity`). */
  get size(): number {
    return this.heap.length;
  }

  /** The earliest filed deadline, or `Infinity` when empty. A lower bound of the next real expiry. */
  peekKey(): number {
    const top = this.heap[0];
    return top === undefined ? Number.POSITIVE_INFINITY : top.heapKey;
  }

  /**
   * Makes sure `item` is queued no later than its `expiresAt`. Call it after adding an item or
   * after moving its deadline earlier; moving it later needs no call.
   */
  schedule(item: T): void {
    // Never-expiring items are not filed; one already queued is dropped when it surfaces.
    if (item.expiresAt === Number.POSITIVE_INFINITY) return;
    if (item.heapIndex < 0) {
      item.heapKey = item.expiresAt;
      item.heapIndex = this.heap.length;
      this.heap.push(item);
      this.siftUp(item.heapIndex);
    } else if (item.expiresAt < item.heapKey) {
      item.heapKey = item.expiresAt;
      this.siftUp(item.heapIndex);
    }
  }

  /** Takes `item` out of the queue (no-op when it is not queued). */
  remove(item: T): void {
    if (item.heapIndex >= 0) this.removeAt(item.heapIndex);
  }

  /**
   * Removes every item whose real deadline is at or before `now` and passes it to `onExpired`,
   * re-filing items whose deadline moved later and dropping those that no longer expire.
   * `onExpired` must not touch the queue.
   */
  drain(now: number, onExpired: (item: T) => void): void {
    const heap = this.heap;
    for (let top = heap[0]; top !== undefined && top.heapKey <= now; top = heap[0]) {
      if (top.expiresAt <= now) {
        this.removeAt(0);
        onExpired(top);
      } else if (top.expiresAt === Number.POSITIVE_INFINITY) {
        this.removeAt(0);
      } else {
        top.heapKey = top.expiresAt;
        this.siftDown(0);
      }
    }
  }

  /** Empties the queue. */
  clear(): void {
    for (const item of this.heap) item.heapIndex = -1;
    this.heap.length = 0;
  }

  private removeAt(index: number): void {
    const heap = this.heap;
    const item = heap[index] as T;
    item.heapIndex = -1;
    const last = heap.pop() as T;
    if (index === heap.length) return;
    heap[index] = last;
    last.heapIndex = index;
    // The filler came from the bottom, but it may still be smaller than the removed item's parent.
    if (index > 0 && last.heapKey < (heap[(index - 1) >> 1] as T).heapKey) this.siftUp(index);
    else this.siftDown(index);
  }

  private siftUp(index: number): void {
    const heap = this.heap;
    const item = heap[index] as T;
    let i = index;
    while (i > 0) {
      const parentIndex = (i - 1) >> 1;
      const parent = heap[parentIndex] as T;
      if (parent.heapKey <= item.heapKey) break;
      heap[i] = parent;
      parent.heapIndex = i;
      i = parentIndex;
    }
    heap[i] = item;
    item.heapIndex = i;
  }

  private siftDown(index: number): void {
    const heap = this.heap;
    const n = heap.length;
    const item = heap[index] as T;
    let i = index;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      let child = heap[l] as T;
      if (r < n) {
        const right = heap[r] as T;
        if (right.heapKey < child.heapKey) {
          c = r;
          child = right;
        }
      }
      if (child.heapKey >= item.heapKey) break;
      heap[i] = child;
      child.heapIndex = i;
      i = c;
    }
    heap[i] = item;
    item.heapIndex = i;
  }
}
