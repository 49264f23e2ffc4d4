import { VirtualClock } from '@weft/core';
import { describe, expect, it } from 'vitest';
import { runBlockingQuery } from './blocking-query.js';
import type { Indexed, ReadOptions } from './client.js';

/** Drives the loop with scripted answers; records each request's index and wait. */
function script(answers: Array<Indexed<string> | Error>) {
  const requests: Array<{ index: bigint | undefined; waitMs: number | undefined }> = [];
  const results: Array<{ body: string; index: bigint; changed: boolean }> = [];
  const errors: Error[] = [];
  const abort = new AbortController();
  const clock = new VirtualClock();
  const read = async (o: ReadOptions): Promise<Indexed<string>> => {
    requests.push({ index: o.index, waitMs: o.waitMs });
    const next = answers.shift();
    if (next === undefined) {
      abort.abort();
      throw new Error('end of script');
    }
    if (next instanceof Error) throw next;
    return next;
  };
  const done = runBlockingQuery(
    read,
    { result: (body, index, changed) => results.push({ body, index, changed }), error: (e) => errors.push(e) },
    {
      waitMs: 10_000,
      slackMs: 1000,
      backoff: { baseMs: 100, maxMs: 1000 },
      clock,
      signal: abort.signal,
      random: () => 0.5,
    },
  );
  return { requests, results, errors, done, clock, abort };
}

async function settle(clock: VirtualClock, done: Promise<void>): Promise<void> {
  for (let i = 0; i < 50; i++) {
    await new Promise((r) => setImmediate(r));
    await clock.advanceAsync(1000);
  }
  await done;
}

describe('runBlockingQuery', () => {
  it('blocks on the last index, resets when it goes backwards, raises 0 to 1', async () => {
    const s = script([
      { body: 'a', index: 10n },
      { body: 'a', index: 10n }, // wait timed out
      { body: 'b', index: 12n },
      { body: 'c', index: 3n }, // went backwards: a reset
      { body: 'd', index: 0n },
    ]);
    await settle(s.clock, s.done);
    expect(s.requests.map((r) => r.index)).toEqual([undefined, 10n, 10n, 12n, 3n, 1n]);
    expect(s.requests[1]?.waitMs).toBeGreaterThanOrEqual(9_000);
    expect(s.results.map((r) => [r.body, r.index, r.changed])).toEqual([
      ['a', 10n, true],
      ['a', 10n, false],
      ['b', 12n, true],
      ['c', 3n, true],
      ['d', 1n, true],
    ]);
  });

  it('after a failure: reports it, backs off, and asks without blocking', async () => {
    const s = script([{ body: 'a', index: 10n }, new Error('boom'), new Error('boom'), { body: 'a', index: 10n }]);
    await settle(s.clock, s.done);
    expect(s.errors.map((e) => e.message)).toEqual(['boom', 'boom']);
    expect(s.requests.map((r) => r.index)).toEqual([undefined, 10n, undefined, undefined, 10n]);
    // The answer after the failures is reported as a change, so a stale consumer hears of it.
    expect(s.results.at(-1)?.changed).toBe(true);
  });
});
