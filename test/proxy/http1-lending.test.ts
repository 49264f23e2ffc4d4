/**
 * The read-buffer lending protocol between the upstream pool and the front end: a lent view the
 * client's socket had to queue is retained (the pool reads into another buffer from then on) and
 * comes back to the free list once written; one written at once is not retained.
 */
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  acquireReadBuffer,
  beginLending,
  endLending,
  READ_BUFFER_SIZE,
} from '../../packages/proxy/src/http1/read-buffers.js';
import { type Http1Exchange, Http1Server } from '../../packages/proxy/src/http1/server.js';

const options = { maxHeaderSize: 16384, headersTimeout: 5000, requestTimeout: 5000, keepAliveTimeout: 5000 };
const servers: Http1Server[] = [];
const sockets: Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const s of servers.splice(0)) await s.close();
});

/** A server whose one request is handed to the test, and a client that sent it. */
async function exchange(): Promise<{ ex: Http1Exchange; client: Socket; received: () => Buffer }> {
  let resolveEx: (ex: Http1Exchange) => void = () => {};
  const got = new Promise<Http1Exchange>((r) => {
    resolveEx = r;
  });
  const server = new Http1Server(options, (ex) => resolveEx(ex));
  servers.push(server);
  const port = await server.listen(0, '127.0.0.1');
  const client = connect(port, '127.0.0.1');
  sockets.push(client);
  const parts: Buffer[] = [];
  client.on('data', (d: Buffer) => parts.push(d));
  client.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  const ex = await got;
  return { ex, client, received: () => Buffer.concat(parts) };
}

describe('read-buffer lending', () => {
  it('does not retain a lent view the socket wrote at once', async () => {
    const { ex } = await exchange();
    ex.writeHead(200, 'OK', [], -1);
    ex.write(Buffer.alloc(20_000, 1)); // the head leaves with the first bytes
    const buf = acquireReadBuffer();
    buf.fill(7, 0, 100);
    beginLending(buf);
    ex.write(buf.subarray(0, 100));
    expect(endLending()).toBe(false);
  });

  it('retains a lent view the socket had to queue, and frees it once written', async () => {
    const { ex, client, received } = await exchange();
    client.pause(); // the client stops reading: the kernel's buffers fill, then node's queue
    ex.writeHead(200, 'OK', [], -1);
    const filler = Buffer.alloc(1 << 20, 1);
    for (let i = 0; i < 64 && ex.conn.socket.writableLength === 0; i++) ex.write(filler);
    expect(ex.conn.socket.writableLength).toBeGreaterThan(0);
    const buf = acquireReadBuffer();
    expect(buf.length).toBe(READ_BUFFER_SIZE);
    buf.fill(9);
    beginLending(buf);
    ex.write(buf.subarray(0, 1000));
    expect(endLending()).toBe(true);
    // Released to the free list once the socket has written it: the next acquire reuses it.
    ex.end();
    client.resume();
    const deadline = Date.now() + 5000;
    while (ex.conn.socket.writableLength > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 20));
    expect(acquireReadBuffer()).toBe(buf);
    // The retained bytes went out intact, after the filler.
    const body = received();
    expect(body.includes(Buffer.alloc(1000, 9))).toBe(true);
  });
});
