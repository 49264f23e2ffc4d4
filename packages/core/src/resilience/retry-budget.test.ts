import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../clock/index.js';
import { InvalidArgumentError } from '../errors/index.js';
import { RetryBudget } from './retry-budget.js';

function drain(budget: RetryBudget): number {
  let n = 0;
  while (n < 100_000 && budget.tryWithdraw()) n++; // bounded, so a broken budget fails instead of hanging
  return n;
}

describe('RetryBudget', () => {
  it('allows the reserve (10/s over 10 s) with no traffic, then 20 % of requests on top', () => {
    const clock = new VirtualClock();
    const budget = new RetryBudget({ clock });
    expect(drain(budget)).toBe(100);
    expect(budget.canRetry()).toBe(false);
    for (let i = 0; i < 1000; i++) budget.onRequest();
    expect(drain(budget)).toBe(200);
    expect(budget.counts).toEqual({ requests: 1000, retries: 300 });
  });

  it('earns retries back as the window slides', () => {
    const clock = new VirtualClock();
    const budget = new RetryBudget({ clock, ratio: 0.5, minRetriesPerSecond: 0, windowMs: 1_000, buckets: 4 });
    for (let i = 0; i < 10; i++) budget.onRequest();
    expect(drain(budget)).toBe(5);
    clock.advance(500);
    for (let i = 0; i < 2; i++) budget.onRequest();
    expect(drain(budget)).toBe(1);
    clock.advance(500); // the first 10 requests and 5 retries are gone; 2 requests, 1 retry remain
    expect(budget.available).toBe(0);
    clock.advance(500);
    expect(budget.counts).toEqual({ requests: 0, retries: 0 });
  });

  it('validates its options', () => {
    expect(() => new RetryBudget({ ratio: -1, windowMs: 0 })).toThrow(InvalidArgumentError);
  });
});

describe('RetryBudget batching', () => {
  it('counts every request even when they are only flushed later, in the bucket of the flush', () => {
    const clock = new VirtualClock();
    const budget = new RetryBudget({ clock, ratio: 1, minRetriesPerSecond: 0, windowMs: 1_000, buckets: 10 });
    for (let i = 0; i < 40; i++) budget.onRequest(); // 32 flushed at t=0, 8 pending
    clock.advance(950);
    expect(budget.counts.requests).toBe(40); // the 8 land in the bucket of t=950
    clock.advance(100);
    expect(budget.counts.requests).toBe(8);
  });
});
