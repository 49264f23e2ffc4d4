import { describe, expect, it } from 'vitest';
import { formatAge, formatMs, formatPercent, formatRate, parseTime } from './format.js';

describe('format', () => {
  it('rates keep a unit and few digits', () => {
    expect([0, 0.049, 0.5, 3.25, 150.4, 1234].map(formatRate)).toEqual([
      '0/s',
      '0.05/s',
      '0.5/s',
      '3.3/s',
      '150/s',
      '1.2k/s',
    ]);
    expect(formatRate(Number.NaN)).toBe('0/s');
  });

  it('percentages round by size and never show a tiny share as 0', () => {
    expect([0, 0.0004, 0.005, 0.1234, 0.9999, 1].map(formatPercent)).toEqual([
      '0 %',
      '<0.1 %',
      '0.5 %',
      '12 %',
      '100 %',
      '100 %',
    ]);
  });

  it('latencies switch unit at 1 ms and 1 s', () => {
    expect([0.25, 3.44, 120.4, 1250, -1].map(formatMs)).toEqual(['250 µs', '3.4 ms', '120 ms', '1.25 s', '–']);
  });

  it('ages count from now', () => {
    const now = 1_000_000_000;
    expect(formatAge(now - 500, now)).toBe('just now');
    expect(formatAge(now - 12_000, now)).toBe('12 s ago');
    expect(formatAge(now - 3 * 60_000, now)).toBe('3 min ago');
    expect(formatAge(now - 2 * 3_600_000, now)).toBe('2 h ago');
    expect(formatAge(Number.NaN, now)).toBe('never');
  });

  it("reads Go's nanosecond timestamps and epoch ms", () => {
    expect(parseTime('2026-12-03T16:00:01.123456789Z')).toBe(Date.UTC(2026, 11, 3, 16, 0, 1, 123));
    expect(parseTime(42)).toBe(42);
    expect(parseTime('yesterday')).toBeNaN();
  });
});
