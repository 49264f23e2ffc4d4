import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { ProxyLog } from './proxy-log.js';

/** The parts of a request the log reads. */
const request = (name: string | undefined, url = '/v1/rules?index=3'): FastifyRequest =>
  ({ headers: name === undefined ? {} : { 'x-weft-proxy': name }, url, ip: '10.0.0.9' }) as unknown as FastifyRequest;

describe('ProxyLog', () => {
  it('ignores requests that name no proxy', () => {
    const log = new ProxyLog();
    expect(log.watch(request(undefined), 'ns', 'poll')).toBeUndefined();
    expect(log.list('ns', 1)).toEqual([]);
  });

  it('dates how long a proxy has been behind, and keeps a stream connected until it ends', () => {
    let now = 1_000;
    const log = new ProxyLog({ now: () => now });
    const stream = log.watch(request('p'), 'ns', 'sse');
    stream?.sent(1);
    now += 100;
    log.noteRevision('ns', 2); // a change the stream has not got
    now += 6_000;
    expect(log.list('ns', 2)).toEqual([
      expect.objectContaining({
        name: 'p',
        watches: '/v1/rules',
        transport: 'sse',
        connected: true,
        revision: 1,
        behind: 1,
        behind_for_ms: 6_000,
      }),
    ]);
    stream?.sent(2);
    stream?.end();
    expect(log.list('ns', 2)[0]).toMatchObject({ connected: false, behind: 0, behind_for_ms: 0 });
  });

  it('keeps a plain reconnect read from turning a long-poller into a poller, and forgets the unseen', () => {
    let now = 0;
    const log = new ProxyLog({ now: () => now, seenForMs: 60_000 });
    log.watch(request('p'), 'ns', 'long-poll')?.sent(4);
    log.watch(request('p'), 'ns', 'poll')?.sent(4);
    expect(log.list('ns', 4)[0]).toMatchObject({ transport: 'long-poll' });
    now += 60_001;
    expect(log.list('ns', 4)).toEqual([]);
  });

  it('is bounded: the oldest entries are evicted', () => {
    const log = new ProxyLog({ maxEntries: 2 });
    for (const name of ['a', 'b', 'c']) log.watch(request(name), 'ns', 'poll')?.sent(1);
    expect(log.list('ns', 1).map((p) => p.name)).toEqual(['b', 'c']);
  });
});
