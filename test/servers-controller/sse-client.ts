import { type ClientRequest, request } from 'node:http';

/** One Server-Sent Event as a client sees it. */
export interface SseEvent {
  id: string | undefined;
  event: string | undefined;
  data: string;
}

/** A live SSE subscription on a real socket: events arrive in `events`; `next()` waits for one. */
export interface SseStream {
  readonly status: number;
  readonly events: SseEvent[];
  /** Resolves with the next event not yet taken by `next()` (within `timeoutMs`). */
  next(timeoutMs?: number): Promise<SseEvent>;
  /** Resolves when the server ends the stream. */
  readonly ended: Promise<void>;
  /** Closes the connection from the client side. */
  close(): void;
}

/** Opens `url` with `Accept: text/event-stream` (and `Last-Event-ID` when given). */
export function openSse(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  return new Promise((resolve, reject) => {
    const req: ClientRequest = request(
      url,
      { headers: { accept: 'text/event-stream', ...headers }, agent: false },
      (res) => {
        const events: SseEvent[] = [];
        let taken = 0;
        const waiters: (() => void)[] = [];
        let buffer = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffer += chunk;
          let end = buffer.indexOf('\n\n');
          while (end >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
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
                event.data += value;
                isEvent = true;
              }
            }
            if (isEvent) {
              events.push(event);
              for (const w of waiters.splice(0)) w();
            }
            end = buffer.indexOf('\n\n');
          }
        });
        const ended = new Promise<void>((done) => {
          res.on('end', done);
          res.on('close', done);
        });
        resolve({
          status: res.statusCode ?? 0,
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
              const timer = setTimeout(() => fail(new Error(`no SSE event within ${timeoutMs} ms`)), timeoutMs);
              const wait = (): void => {
                if (take()) clearTimeout(timer);
                else waiters.push(wait);
              };
              waiters.push(wait);
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
