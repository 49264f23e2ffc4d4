/**
 * Upstream read buffers lent to the response writer: the sidecar's streaming path without a
 * copy per read and without garbage per read.
 *
 * An {@link Http1Pool} created with `lendReadBuffers` reads each socket into a buffer of its own
 * and hands the handler views of it (instead of copies). A view is valid until the handler's
 * `onResponseData` returns. A consumer that must keep one longer — the front end, when the
 * client's socket could not take the bytes at once and queued them — calls {@link retainLent}
 * during the callback: the buffer then belongs to the consumer, the connection reads into
 * another one from here on, and the consumer gives the buffer back with {@link releaseReadBuffer}
 * once the socket has written it. Buffers circulate instead of becoming garbage, so memory stays
 * flat while a body of any size streams to a slow reader.
 *
 * Only consumers that know this protocol may be given views; other handlers get copies.
 */

/** Bytes per read buffer (what libuv reads at most in one go). */
export const READ_BUFFER_SIZE = 64 * 1024;
/** Free buffers kept for reuse; more are left to the GC. */
const FREE_MAX = 16;
const free: Buffer[] = [];

/** The buffer whose views are being handed out right now (reads are handled one at a time). */
let lending: Buffer | null = null;
let retained = false;
/** Holds of retained buffers: one read can hand out several views (chunked bodies), each retained. */
const holds = new WeakMap<Buffer, number>();

/** A read buffer: a free one, or a new one. */
export function acquireReadBuffer(): Buffer {
  // allocUnsafeSlow: a buffer of its own, never a slice of node's shared pool, so a view's
  // `buffer` identifies it.
  return free.pop() ?? Buffer.allocUnsafeSlow(READ_BUFFER_SIZE);
}

/** Gives a read buffer back for reuse (a retained one once its last hold is released). */
export function releaseReadBuffer(buf: Buffer): void {
  const n = holds.get(buf);
  if (n !== undefined) {
    if (n > 1) {
      holds.set(buf, n - 1);
      return;
    }
    holds.delete(buf);
  }
  if (free.length < FREE_MAX) free.push(buf);
}

/** @internal The pool starts handing out views of `buf`. */
export function beginLending(buf: Buffer): void {
  lending = buf;
  retained = false;
}

/** @internal The pool stops handing out views; true when a consumer retained the buffer. */
export function endLending(): boolean {
  lending = null;
  const r = retained;
  retained = false;
  return r;
}

/** True when `chunk` is a view of the read buffer being lent right now. */
export function isLent(chunk: Uint8Array): boolean {
  return lending !== null && chunk.buffer === lending.buffer;
}

/**
 * Keeps the lent buffer `chunk` is a view of: returns the whole buffer, to be given back with
 * {@link releaseReadBuffer} when done. Call only when {@link isLent} is true.
 */
export function retainLent(): Buffer {
  const buf = lending as Buffer;
  retained = true;
  holds.set(buf, (holds.get(buf) ?? 0) + 1);
  return buf;
}
