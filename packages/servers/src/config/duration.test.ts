import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { DurationSchema, formatDuration, parseDuration } from './duration.js';

describe('durations', () => {
  it('parses a number with its unit into milliseconds', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('1.5m')).toBe(90_000);
    expect(parseDuration('2h')).toBe(7_200_000);
  });

  it('refuses a bare number, a unit alone, a negative or an unknown unit', () => {
    for (const text of ['30', 's', '-5s', '5d', '5 s', '']) expect(parseDuration(text), text).toBeUndefined();
    expect(z.safeParse(DurationSchema, 30).success).toBe(false);
  });

  it('prints milliseconds in the largest whole unit, so --print-config reads back the same', () => {
    for (const [ms, text] of [
      [300_000, '5m'],
      [90_000, '90s'],
      [1500, '1500ms'],
      [3_600_000, '1h'],
      [0, '0ms'],
    ] as const) {
      expect(formatDuration(ms)).toBe(text);
      expect(parseDuration(text)).toBe(ms);
    }
  });
});
