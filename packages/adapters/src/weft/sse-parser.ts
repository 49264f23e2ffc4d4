/** One Server-Sent Event, as dispatched at a blank line. */
export interface SseEvent {
  /** The `event:` field, `message` when the event named none. */
  readonly event: string;
  /** The `data:` lines joined with `\n`. */
  readonly data: string;
  /**
   * The last event id *in force* when the event was dispatched: an `id:` line sets it for this
   * and every later event until another `id:` changes it (the browser `EventSource` rule), so a
   * reconnect resumes from it even if the latest events carried no id.
   */
  readonly lastEventId: string;
}

/** What the parser reports besides events. */
export interface SseParserHandlers {
  event(event: SseEvent): void;
  /** A `retry:` field: the reconnection delay the server asks for, ms. */
  retry?(ms: number): void;
}

/** The stream broke the parser's size limit: a line or an event's data grew past `maxEventBytes`. */
export class SseProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SseProtocolError';
  }
}

const LF = 10;
const CR = 13;

/**
 * An incremental parser of the `text/event-stream` format (the WHATWG HTML "server-sent events"
 * rules): lines end in LF, CR or CRLF (a CR at the end of a chunk waits for the next one, which
 * may start with its LF); `field: value` with one optional space after the colon; lines starting
 * with `:` are comments (keep-alives); `data` lines accumulate; a blank line dispatches; an event
 * without data is not dispatched; an `id` containing NUL is ignored; `retry` takes digits only;
 * a leading BOM is dropped; an unfinished event at the end of the stream is discarded.
 *
 * Input is bytes, decoded as UTF-8 across chunk boundaries. Everything else about the stream
 * (reconnecting, ids, what `data` means) is the caller's business.
 */
export class SseParser {
  private readonly decoder = new TextDecoder('utf-8');
  private readonly maxEventBytes: number;
  /** Text not yet split into lines (the tail after the last line break). */
  private buffer = '';
  /** The previous chunk ended in CR: a leading LF of the next chunk belongs to that line break. */
  private pendingCr = false;
  private first = true;
  private data: string[] = [];
  private dataLength = 0;
  private eventType = '';
  private lastEventId = '';

  /** @param maxEventBytes - longest line or event data accepted (UTF-16 code units, near enough bytes). */
  constructor(
    private readonly handlers: SseParserHandlers,
    maxEventBytes = 64 * 1024 * 1024,
  ) {
    this.maxEventBytes = maxEventBytes;
  }

  /** Feeds the next chunk of the stream. */
  push(chunk: Uint8Array): void {
    let text = this.decoder.decode(chunk, { stream: true });
    if (this.first && text.length > 0) {
      this.first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (this.pendingCr && text.length > 0) {
      this.pendingCr = false;
      if (text.charCodeAt(0) === LF) text = text.slice(1);
    }
    this.buffer += text;
    this.drainLines();
  }

  /** The stream ended: an event not closed by a blank line is dropped, as the spec says. */
  end(): void {
    this.buffer = '';
    this.data = [];
    this.dataLength = 0;
    this.eventType = '';
  }

  private drainLines(): void {
    let start = 0;
    const text = this.buffer;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== LF && c !== CR) continue;
      this.line(text.slice(start, i));
      if (c === CR) {
        if (i + 1 < text.length) {
          if (text.charCodeAt(i + 1) === LF) i++;
        } else {
          this.pendingCr = true;
        }
      }
      start = i + 1;
    }
    this.buffer = start === 0 ? text : text.slice(start);
    if (this.buffer.length > this.maxEventBytes)
      throw new SseProtocolError(`an event-stream line is longer than ${this.maxEventBytes} bytes`);
  }

  private line(line: string): void {
    if (line === '') {
      this.dispatch();
      return;
    }
    if (line.charCodeAt(0) === 58 /* ':' */) return; // a comment: keep-alive, nothing to do
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32 /* ' ' */) value = value.slice(1);
    switch (field) {
      case 'data':
        this.dataLength += value.length + 1;
        if (this.dataLength > this.maxEventBytes)
          throw new SseProtocolError(`an event's data is longer than ${this.maxEventBytes} bytes`);
        this.data.push(value);
        break;
      case 'event':
        this.eventType = value;
        break;
      case 'id':
        if (!value.includes('\u0000')) this.lastEventId = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.handlers.retry?.(Number(value));
        break;
      default:
        break; // unknown fields are ignored
    }
  }

  private dispatch(): void {
    const type = this.eventType === '' ? 'message' : this.eventType;
    const data = this.data;
    this.data = [];
    this.dataLength = 0;
    this.eventType = '';
    if (data.length === 0) return;
    this.handlers.event({ event: type, data: data.join('\n'), lastEventId: this.lastEventId });
  }
}
