import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { BodySource, BodyTooLargeError } from './body.js';

async function drain(body: unknown): Promise<string> {
  if (typeof body === 'string') return body;
  if (Buffer.isBuffer(body)) return body.toString();
  const chunks: Buffer[] = [];
  for await (const c of body as AsyncIterable<Buffer>) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks).toString();
}

describe('BodySource', () => {
  it('replays strings and buffers as they are', () => {
    const s = new BodySource('hello', 10);
    expect(s.next()).toBe('hello');
    expect(s.replayable).toBe(true);
    expect(s.next()).toBe('hello');
  });

  it('records a stream that fits the buffer and replays the recording', async () => {
    const s = new BodySource(Readable.from([Buffer.from('ab'), Buffer.from('cd')]), 10);
    expect(await drain(s.next())).toBe('abcd');
    expect(s.replayable).toBe(true);
    expect(await drain(s.next())).toBe('abcd');
  });

  it('hands out the untouched source when the first attempt never read it', async () => {
    const s = new BodySource(Readable.from([Buffer.from('xyz')]), 2);
    s.next(); // never read (say the connection was refused)
    expect(s.replayable).toBe(true);
    expect(await drain(s.next())).toBe('xyz');
  });

  it('is not replayable past the buffer, and says why', async () => {
    const s = new BodySource(Readable.from([Buffer.alloc(5), Buffer.alloc(5)]), 8);
    await drain(s.next());
    expect(s.replayable).toBe(false);
    expect(s.notReplayableReason).toContain('larger than the 8-byte replay buffer');
  });

  it('fails a stream larger than the body limit', async () => {
    const s = new BodySource(Readable.from([Buffer.alloc(5), Buffer.alloc(5)]), 100, 6);
    await expect(drain(s.next())).rejects.toBeInstanceOf(BodyTooLargeError);
  });
});
