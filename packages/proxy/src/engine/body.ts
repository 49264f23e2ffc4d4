import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';

type Body = Dispatcher.DispatchOptions['body'];

/**
 * A request body that may have to be sent more than once (retries). Strings, buffers and blobs
 * are replayable as they are. A stream or async iterable is recorded as it is sent, up to
 * `limit` bytes: a retry replays the recording when the whole body fit, or the untouched source
 * when the first attempt never started reading it; otherwise the body is not replayable.
 */
export class BodySource {
  /** The body of the first attempt. */
  private readonly original: Body;
  private readonly streaming: boolean;
  private started = false;
  private ended = false;
  private overflow = false;
  private bytes = 0;
  private chunks: Buffer[] | undefined;
  private uses = 0;

  /**
   * @param limit - bytes of a streamed body recorded for replay.
   * @param maxBytes - a streamed body larger than this fails with {@link BodyTooLargeError}.
   */
  constructor(
    body: Body,
    private readonly limit: number,
    private readonly maxBytes = Number.POSITIVE_INFINITY,
  ) {
    this.original = body;
    this.streaming = body != null && isStreamLike(body);
  }

  /** True when the body can be sent again. */
  get replayable(): boolean {
    if (!this.streaming) return true;
    if (!this.started) return true;
    return this.ended && !this.overflow;
  }

  /** Why the body cannot be replayed, for error messages. */
  get notReplayableReason(): string {
    return this.overflow
      ? `the request body is a stream larger than the ${this.limit}-byte replay buffer`
      : 'the request body is a stream that was only partly sent';
  }

  /** True when the body is a stream or async iterable (recorded as it is sent). */
  get streamed(): boolean {
    return this.streaming;
  }

  /**
   * The whole body when it is at hand without consuming anything (for a mirror): the original
   * when it is not a stream, the recording once a stream was sent in full within the replay
   * limit, otherwise undefined.
   */
  buffered(): Body | undefined {
    if (!this.streaming) return this.original;
    if (this.ended && !this.overflow && this.chunks !== undefined) return Buffer.concat(this.chunks, this.bytes);
    return undefined;
  }

  /** The body to send with the next attempt. Call only while {@link replayable}. */
  next(): Body {
    this.uses++;
    if (!this.streaming) return this.original;
    if (this.ended && this.chunks !== undefined) return Buffer.concat(this.chunks, this.bytes);
    return this.record(this.original as AsyncIterable<unknown>);
  }

  /** How many attempts took this body. */
  get attempts(): number {
    return this.uses;
  }

  private record(source: AsyncIterable<unknown>): Readable {
    // A generator, not a Transform, so nothing pulls from the source before undici does: a
    // retry after a connect failure can still hand out the untouched source.
    const self = this;
    async function* recorder(): AsyncGenerator<Buffer> {
      self.started = true;
      self.chunks = [];
      for await (const chunk of source) {
        const buf = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array);
        self.bytes += buf.length;
        if (self.bytes > self.maxBytes) throw new BodyTooLargeError(self.maxBytes);
        if (!self.overflow) {
          if (self.bytes > self.limit) {
            self.overflow = true;
            self.chunks = undefined;
          } else self.chunks?.push(buf);
        }
        yield buf;
      }
      self.ended = true;
    }
    return Readable.from(recorder(), { objectMode: false });
  }
}

function isStreamLike(body: NonNullable<Body>): boolean {
  if (typeof body === 'string' || Buffer.isBuffer(body) || body instanceof Uint8Array) return false;
  if (typeof (body as { pipe?: unknown }).pipe === 'function') return true;
  return typeof (body as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function';
}

/** A streamed request body exceeded the sidecar's body limit. */
export class BodyTooLargeError extends Error {
  readonly code = 'WEFT_BODY_TOO_LARGE';
  constructor(readonly maxBytes: number) {
    super(`Request body larger than ${maxBytes} bytes`);
    this.name = 'BodyTooLargeError';
  }
}
