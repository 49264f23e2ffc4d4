/** One Server-Sent Event. */
export interface SseEvent {
  readonly event: string;
  readonly data: string;
  /** The `id:` field, when the event had one. */
  readonly id: string | undefined;
}

/**
 * Incremental parser of the `text/event-stream` format (the WHATWG spec's rules: `field: value`
 * lines, `data` lines joined by `\n`, a blank line dispatches, `:` comments ignored, CR, LF or
 * CRLF line ends), fed chunks as they arrive. The dashboard reads its streams with `fetch`
 * rather than `EventSource`, which cannot send the `Authorization` header the API needs.
 */
export class SseParser {
  private buffer = '';
  private event = '';
  private data: string[] = [];
  private id: string | undefined;
  private sawCr = false;
  /** The last `retry:` the server asked for, ms. */
  retryMs: number | undefined;

  /** Feeds a chunk; returns the events it completed. */
  push(chunk: string): SseEvent[] {
    let text = chunk;
    // A CRLF split across chunks: the LF belongs to the CR already handled.
    if (this.sawCr && text.startsWith('\n')) text = text.slice(1);
    this.sawCr = text.endsWith('\r');
    this.buffer += text;
    const out: SseEvent[] = [];
    const lines = this.buffer.split(/\r\n|\r|\n/);
    this.buffer = lines.pop() ?? '';
    for (const line of lines) {
      const dispatched = this.line(line);
      if (dispatched !== undefined) out.push(dispatched);
    }
    return out;
  }

  private line(line: string): SseEvent | undefined {
    if (line === '') {
      if (this.data.length === 0) {
        this.event = '';
        return undefined;
      }
      const event = { event: this.event === '' ? 'message' : this.event, data: this.data.join('\n'), id: this.id };
      this.event = '';
      this.data = [];
      return event;
    }
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
    else if (field === 'id' && !value.includes('\0')) this.id = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.retryMs = Number(value);
    return undefined;
  }
}
