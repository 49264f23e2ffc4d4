import { connect, type Socket } from 'node:net';

/** A response as read off the wire. */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** The first response in `buf` when it is complete, and the bytes it took; null while incomplete. */
export function parseResponse(buf: Buffer, head: boolean, ended: boolean): [RawResponse, number] | null {
  const at = buf.indexOf('\r\n\r\n');
  if (at < 0) return null;
  const [line, ...fields] = buf.toString('latin1', 0, at).split('\r\n');
  const status = Number((line as string).split(' ')[1]);
  const headers: Record<string, string> = {};
  for (const f of fields) {
    const c = f.indexOf(':');
    const name = f.slice(0, c).toLowerCase();
    headers[name] = headers[name] === undefined ? f.slice(c + 1).trim() : `${headers[name]}, ${f.slice(c + 1).trim()}`;
  }
  let pos = at + 4;
  if (head || status < 200 || status === 204 || status === 304)
    return [{ status, headers, body: Buffer.alloc(0) }, pos];
  if (headers['transfer-encoding'] === 'chunked') {
    const parts: Buffer[] = [];
    for (;;) {
      const eol = buf.indexOf('\r\n', pos);
      if (eol < 0) return null;
      const size = Number.parseInt(buf.toString('latin1', pos, eol).split(';')[0] as string, 16);
      if (size === 0) {
        const end = buf.indexOf('\r\n\r\n', eol - 2);
        return end < 0 ? null : [{ status, headers, body: Buffer.concat(parts) }, end + 4];
      }
      if (buf.length < eol + 2 + size + 2) return null;
      parts.push(buf.subarray(eol + 2, eol + 2 + size));
      pos = eol + 2 + size + 2;
    }
  }
  if (headers['content-length'] !== undefined) {
    const end = pos + Number(headers['content-length']);
    return buf.length < end ? null : [{ status, headers, body: buf.subarray(pos, end) }, end];
  }
  return ended ? [{ status, headers, body: buf.subarray(pos) }, buf.length] : null;
}

/** A raw client socket: writes bytes as given, reads responses off the stream one by one. */
export class Raw {
  buf = Buffer.alloc(0);
  ended = false;
  private wake: (() => void) | undefined;
  private constructor(readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.wake?.();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.ended = true;
      this.wake?.();
    });
  }

  static open(port: number): Promise<Raw> {
    return new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(new Raw(s)));
      s.on('error', reject);
      opened.push(s);
    });
  }

  send(data: string | Buffer): this {
    this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
    return this;
  }

  /** Waits until `get` returns something, re-trying on every read. */
  async until<T>(get: () => T | null | undefined | false, ms = 3000): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const v = get();
      if (v !== null && v !== undefined && v !== false) return v;
      if (Date.now() > deadline) throw new Error(`timed out; got ${JSON.stringify(this.buf.toString('latin1'))}`);
      await new Promise<void>((r) => {
        this.wake = r;
        setTimeout(r, 20);
      });
    }
  }

  /** The next response (`head`: it answers a HEAD request). */
  async response(head = false): Promise<RawResponse> {
    const [res, used] = await this.until(() => parseResponse(this.buf, head, this.ended));
    this.buf = this.buf.subarray(used);
    return res;
  }

  closed(): Promise<boolean> {
    return this.until(() => this.ended);
  }
}

/** Every socket a test opened (destroy them in afterAll). */
export const opened: Socket[] = [];
