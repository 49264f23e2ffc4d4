import { describe, expect, it } from 'vitest';
import { type SseEvent, SseParser, SseProtocolError } from './sse-parser.js';

const bytes = (s: string) => new TextEncoder().encode(s);

/** Parses `chunks` (fed one by one) and returns the events and retry values seen. */
function parse(chunks: readonly (string | Uint8Array)[], max?: number): { events: SseEvent[]; retries: number[] } {
  const events: SseEvent[] = [];
  const retries: number[] = [];
  const parser = new SseParser({ event: (e) => events.push(e), retry: (ms) => retries.push(ms) }, max);
  for (const c of chunks) parser.push(typeof c === 'string' ? bytes(c) : c);
  parser.end();
  return { events, retries };
}

describe('SseParser', () => {
  it('dispatches an event at a blank line with its id, type and data', () => {
    const { events } = parse(['id: 7\nevent: snapshot\ndata: {"a":1}\n\n']);
    expect(events).toEqual([{ event: 'snapshot', data: '{"a":1}', lastEventId: '7' }]);
  });

  it('joins multi-line data with LF, and names unnamed events "message"', () => {
    const { events } = parse(['data: one\ndata:two\ndata:  three\n\n']);
    expect(events).toEqual([{ event: 'message', data: 'one\ntwo\n three', lastEventId: '' }]);
  });

  it('accepts CR, LF and CRLF line ends, even a CRLF split across chunks', () => {
    const { events } = parse(['data: a\r', '\ndata: b\r\rdata: c\n\r\n']);
    expect(events.map((e) => e.data)).toEqual(['a\nb', 'c']);
  });

  it('ignores comments (keep-alives) and unknown fields, and does not dispatch an event without data', () => {
    const { events } = parse([': ping\n\nfoo: bar\nevent: x\n\n: another\ndata: d\n\n']);
    // The `event: x` block had no data: nothing dispatched, and its type does not leak into the next.
    expect(events).toEqual([{ event: 'message', data: 'd', lastEventId: '' }]);
  });

  it('keeps the last event id for later events without one, and ignores ids containing NUL', () => {
    const { events } = parse(['id: 3\ndata: a\n\ndata: b\n\nid: 4\u00005\ndata: c\n\nid\ndata: d\n\n']);
    expect(events.map((e) => e.lastEventId)).toEqual(['3', '3', '3', '']);
  });

  it('reports retry only when it is all digits', () => {
    const { retries, events } = parse(['retry: 1000\n\nretry: 2s\nretry: -5\nretry:250\n\n']);
    expect(retries).toEqual([1000, 250]);
    expect(events).toEqual([]);
  });

  it('decodes UTF-8 split inside a character, and drops a leading BOM', () => {
    const all = bytes('\uFEFFdata: café ☕\n\n');
    const chunks = Array.from(all, (b) => Uint8Array.of(b)); // one byte at a time
    const { events } = parse(chunks);
    expect(events).toEqual([{ event: 'message', data: 'café ☕', lastEventId: '' }]);
  });

  it('treats a field without a colon as a field with an empty value', () => {
    const { events } = parse(['data\ndata\n\n']);
    expect(events).toEqual([{ event: 'message', data: '\n', lastEventId: '' }]);
  });

  it('drops an event the stream ended in the middle of', () => {
    const { events } = parse(['data: whole\n\ndata: half']);
    expect(events.map((e) => e.data)).toEqual(['whole']);
  });

  it('refuses a line or data longer than the limit', () => {
    expect(() => parse(['data: 0123456789'], 8)).toThrow(SseProtocolError);
    expect(() => parse(['data: 12345\ndata: 12345\n'], 8)).toThrow(SseProtocolError);
  });
});
