import { type ClientRequest, type IncomingHttpHeaders, request } from 'node:http';

/** One Server-Sent Event as a client sees it. */
export interface SseEvent {
  id: string | undefined;
  event: string | undefined;
  data: string;
}

/** A live SSE subscription on a real socket: events arrive in `events`; `next()` waits for one. */
export interface SseStream {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** Every event received so far, whether `next()` took it or not. */
  readonly events: SseEvent[];
  /**
   * Resolves with the next event not yet taken by `next()` (comments and `retry:` lines are
   * skipped); rejects after `timeoutMs`, and then takes nothing.
   */
  next(timeoutMs?: number): Promise<SseEvent>;
  /** Resolves when the server ends the stream. */
  readonly ended: Promise<void>;
  /** Closes the connection from the client side. */
  close(): void;
}

/** The event in one block of an event stream (the text between blank lines), if it has data. */
function parseBlock(block: string): SseEvent | undefined {
  const event: SseEvent = { id: undefined, event: undefined, data: '' };
  let isEvent = false;
  for (const line of block.split('\n')) {
    const colon = line.indexOf(':');
    if (colon === 0) continue; // a comment (keep-alive)
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') event.id = value;
    else if (field === 'event') event.event = value;
    else if (field === 'data') {
      // Several data lines make one value, joined by newlines (as EventSource does).
      event.data = isEvent ? `${event.data}\n${value}` : value;
      isEvent = true;
    }
  }
  return isEvent ? event : undefined;
}

/** Opens `url` with `Accept: text/event-stream` (and `Last-Event-ID` when given) over a real socket. */
export function openSse(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  return new Promise((resolve, reject) => {
    const req: ClientRequest = request(
      url,
      { headers: { accept: 'text/event-stream', ...headers }, agent: false },
      (res) => {
        const events: SseEvent[] = [];
        let taken = 0;
        const waiters = new Set<() => void>();
        let buffer = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffer += chunk;
          for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
            const event = parseBlock(buffer.slice(0, end));
            buffer = buffer.slice(end + 2);
            if (event === undefined) continue;
            events.push(event);
            for (const w of [...waiters]) w();
          }
        });
        const ended = new Promise<void>((done) => {
          res.on('end', done);
          res.on('close', done);
        });
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          events,
          ended,
          next(timeoutMs = 5000) {
            return new Promise((ok, fail) => {
              const take = (): boolean => {
                const e = events[taken];
                if (e === undefined) return false;
                taken++;
                ok(e);
                return true;
              };
              if (take()) return;
              const wait = (): void => {
                if (!take()) return;
                waiters.delete(wait);
                clearTimeout(timer);
              };
              // A next() that timed out must not take the event that comes later.
              const timer = setTimeout(() => {
                waiters.delete(wait);
                fail(new Error(`no event within ${timeoutMs} ms`));
              }, timeoutMs);
              waiters.add(wait);
            });
          },
          close() {
            req.destroy();
          },
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}
