import { describe, expect, it } from 'vitest';
import { SseParser } from './sse-parser.js';

describe('SseParser', () => {
  it("reads the control plane's snapshots, split anywhere across chunks", () => {
    const stream =
      'retry: 1000\n\nid: 7\nevent: snapshot\ndata: {"rules":[],"revision":7}\n\n: ping\n\nid: 8\nevent: snapshot\ndata: {"a":1}\n\n';
    for (const size of [1, 3, 7, stream.length]) {
      const parser = new SseParser();
      const events = [];
      for (let i = 0; i < stream.length; i += size) events.push(...parser.push(stream.slice(i, i + size)));
      expect(events).toEqual([
        { event: 'snapshot', data: '{"rules":[],"revision":7}', id: '7' },
        { event: 'snapshot', data: '{"a":1}', id: '8' },
      ]);
      expect(parser.retryMs).toBe(1000);
    }
  });

  it('joins data lines, takes CRLF and CR line ends, and keeps the last id', () => {
    const parser = new SseParser();
    expect(parser.push('id: 1\r\ndata: a\r')).toEqual([]);
    expect(parser.push('\ndata: b\r\n\r\ndata:c\r\r')).toEqual([
      { event: 'message', data: 'a\nb', id: '1' },
      { event: 'message', data: 'c', id: '1' },
    ]);
  });

  it('dispatches nothing for an event without data', () => {
    expect(new SseParser().push('event: snapshot\n\n')).toEqual([]);
  });
});
