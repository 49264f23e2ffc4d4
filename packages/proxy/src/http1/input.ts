/**
 * Bytes a connection received and has not consumed yet. The common case — a read that holds
 * whole messages — costs nothing: the chunk is kept as received. Only bytes that must wait for
 * more (a head split across reads, pipelined requests behind a response) are copied, into a
 * store that doubles when full, so a peer sending one byte per packet costs linear time, not the
 * quadratic time of `Buffer.concat` per read.
 */
export class InputBuffer {
  /** The unconsumed bytes, or null. */
  view: Buffer | null = null;
  /** The store `view` lives in when bytes were appended, or null when `view` is a received chunk. */
  private store: Buffer | null = null;

  /** Unconsumed bytes. */
  get length(): number {
    return this.view === null ? 0 : this.view.length;
  }

  /** Adds a received chunk after the unconsumed bytes. */
  append(chunk: Buffer): void {
    const view = this.view;
    if (view === null) {
      this.view = chunk;
      return;
    }
    const need = view.length + chunk.length;
    const store = this.store;
    if (store !== null && view.buffer === store.buffer) {
      const offset = view.byteOffset - store.byteOffset;
      if (offset + need <= store.length) {
        chunk.copy(store, offset + view.length);
        this.view = store.subarray(offset, offset + need);
        return;
      }
      if (need <= store.length) {
        // Enough room once the consumed bytes at the front are dropped.
        store.copy(store, 0, offset, offset + view.length);
        chunk.copy(store, view.length);
        this.view = store.subarray(0, need);
        return;
      }
    }
    // allocUnsafeSlow: never a slice of node's shared pool, so the `buffer` identity test above
    // cannot mistake a received chunk for our store.
    const next = Buffer.allocUnsafeSlow(Math.max(need * 2, 4096));
    view.copy(next, 0);
    chunk.copy(next, view.length);
    this.store = next;
    this.view = next.subarray(0, need);
  }

  /** Drops the first `n` bytes. */
  consume(n: number): void {
    const view = this.view;
    if (view === null) return;
    if (n >= view.length) this.clear();
    else this.view = view.subarray(n);
  }

  /**
   * Takes every unconsumed byte, to hand out (a request body chunk, bytes for an upgraded
   * connection). The store is let go with them: whoever holds the bytes may keep them, so they
   * are never written over.
   */
  take(): Buffer | null {
    const view = this.view;
    this.clear();
    return view;
  }

  /** Puts back the unused tail of what {@link take} returned (read-only from now on). */
  putBack(rest: Buffer): void {
    if (this.view !== null) throw new Error('InputBuffer.putBack: the buffer is not empty');
    this.view = rest;
  }

  /** Drops everything (and the store: an idle connection holds no memory). */
  clear(): void {
    this.view = null;
    this.store = null;
  }
}
