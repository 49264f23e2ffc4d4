import { describe, expect, it } from 'vitest';
import { createRng } from '../random/rng.js';
import { compile } from './compile.js';
import { faultsForAttempt, NO_FAULTS, rollFaults } from './faults.js';
import { expectBinomial } from './test-support.js';

describe('faultsForAttempt', () => {
  it('returns the shared NO_FAULTS when there are no actions', () => {
    const d = compile([]).evaluate({ destination: 'x' });
    expect(faultsForAttempt(d, ['a'])).toBe(NO_FAULTS);
  });

  it('rolls each attempt independently: probabilities within binomial bounds', () => {
    const set = compile([
      {
        destination: 'ratings',
        actions: [
          { action: 'delay', duration: 0.5, probability: 0.3 },
          { action: 'abort', return_code: 503, probability: 0.1 },
          { action: 'trace', log_key: 'recipe', log_value: 'r-1', probability: 0.5 },
        ],
      },
    ]);
    const d = set.evaluate({ destination: 'ratings' });
    const rng = createRng(11);
    const n = 10_000;
    let delays = 0;
    let aborts = 0;
    let traces = 0;
    for (let i = 0; i < n; i++) {
      const f = faultsForAttempt(d, [], rng);
      if (f.delayMs === 500) delays++;
      if (f.abort?.status === 503) aborts++;
      if (f.traces.some((t) => t.key === 'recipe' && t.value === 'r-1')) traces++;
    }
    expectBinomial(delays, n, 0.3);
    expectBinomial(aborts, n, 0.1);
    expectBinomial(traces, n, 0.5);
  });

  it('lets retries recover from an injected abort (a fault is injected per attempt)', () => {
    const set = compile([
      { destination: 'r', route: { backends: [{ tags: ['v1'] }], http_req_retries: 2 } },
      { destination: 'r', actions: [{ action: 'abort', return_code: 503, probability: 0.5, tags: ['v1'] }] },
    ]);
    const rng = createRng(3);
    const n = 10_000;
    let succeeded = 0;
    for (let i = 0; i < n; i++) {
      const d = set.evaluate({ destination: 'r' }, rng);
      for (let attempt = 0; attempt <= d.retries.maxRetries; attempt++) {
        if (faultsForAttempt(d, ['v1'], rng).abort === undefined) {
          succeeded++;
          break;
        }
      }
    }
    expectBinomial(succeeded, n, 1 - 0.5 ** 3);
  });

  it('takes the first delay and the first abort that roll in, and every trace', () => {
    const set = compile([
      {
        id: 'a',
        priority: 2,
        destination: 'r',
        actions: [
          { action: 'delay', duration: 1, probability: 0 },
          { action: 'delay', duration: 2 },
          { action: 'abort', return_code: -1 },
          { action: 'trace', log_value: 'x' },
        ],
      },
      {
        id: 'b',
        priority: 1,
        destination: 'r',
        actions: [
          { action: 'delay', duration: 3 },
          { action: 'abort', return_code: 500 },
          { action: 'trace', log_value: 'y' },
        ],
      },
    ]);
    const f = faultsForAttempt(set.evaluate({ destination: 'r' }), []);
    expect(f.delayMs).toBe(2000);
    expect(f.delay?.rule.id).toBe('a');
    expect(f.abort).toMatchObject({ reset: true, status: undefined, returnCode: -1 });
    expect(f.traces.map((t) => t.value)).toEqual(['x', 'y']);
  });

  it('draws no number for probabilities 0 and 1', () => {
    let draws = 0;
    const rng = () => {
      draws++;
      return 0;
    };
    const set = compile([
      {
        destination: 'r',
        actions: [
          { action: 'delay', duration: 1 },
          { action: 'abort', return_code: 500, probability: 0 },
        ],
      },
    ]);
    faultsForAttempt(set.evaluate({ destination: 'r' }), [], rng);
    expect(draws).toBe(0);
  });

  it('matches action tags against the instance, or the backend with rollFaults', () => {
    const set = compile([
      { destination: 'r', route: { backends: [{ tags: ['version=v1'] }] } },
      { destination: 'r', actions: [{ action: 'abort', return_code: 500, tags: ['version=v1', 'zone=b'] }] },
    ]);
    const d = set.evaluate({ destination: 'r' });
    expect(rollFaults(d).abort).toBeUndefined(); // the backend alone does not guarantee zone=b
    expect(faultsForAttempt(d, ['version=v1', 'zone=b']).abort?.status).toBe(500);
    expect(faultsForAttempt(d, ['version=v1', 'zone=a']).abort).toBeUndefined();
  });
});
