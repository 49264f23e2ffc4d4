/** Raw TCP peers for tests that need what node:http will not do: reset, close early, never answer. */
import { connect, createServer, type Server, type Socket } from 'node:net';

/** A TCP server on loopback; `onConnection` gets each socket and its 0-based connection number. */
export class RawServer {
  readonly server: Server;
  port = 0;
  connections = 0;
  private readonly sockets = new Set<Socket>();

  constructor(onConnection: (socket: Socket, index: number) => void) {
    this.server = createServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => undefined);
      onConnection(socket, this.connections++);
    });
  }

  async listen(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/** Calls `onRequest` for each complete request head (no bodies) that arrives on `socket`. */
export function onHeads(socket: Socket, onRequest: (head: string, index: number) => void): void {
  let buf = '';
  let n = 0;
  socket.on('data', (chunk: Buffer) => {
    buf += chunk.toString('latin1');
    for (let end = buf.indexOf('\r\n\r\n'); end >= 0; end = buf.indexOf('\r\n\r\n')) {
      const head = buf.slice(0, end);
      buf = buf.slice(end + 4);
      onRequest(head, n++);
    }
  });
}

/** A keep-alive `200` with a small body. */
export const OK_RESPONSE = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nKeep-Alive: timeout=60\r\n\r\nok';

/** What a raw client got back: the bytes, the socket error code (ECONNRESET…) and whether it closed. */
export interface RawResult {
  readonly bytes: Buffer;
  readonly error: string | undefined;
}

/** Writes `text` to 127.0.0.1:`port` and waits for the connection to close (or `ms` to pass). */
export function rawExchange(port: number, text: string, ms = 5_000): Promise<RawResult & { closed: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let error: string | undefined;
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ bytes: Buffer.concat(chunks), error, closed: false });
    }, ms);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', (e: NodeJS.ErrnoException) => {
      error = e.code;
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ bytes: Buffer.concat(chunks), error, closed: true });
    });
    socket.write(text);
  });
}
