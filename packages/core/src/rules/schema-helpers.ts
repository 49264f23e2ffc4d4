import * as z from 'zod/mini';
import { setUpZod } from '../zod-setup.js';
import { patternProblem } from './regex.js';

setUpZod();

/**
 * Options for cross-field refinements that must run even when a nested field already failed,
 * so that one validation pass reports every problem (zod skips refinements after an error by
 * default). The refinement itself must then cope with partially invalid input.
 */
export const ALWAYS_ON_OBJECTS = {
  when: (payload: { value: unknown }): boolean => typeof payload.value === 'object' && payload.value !== null,
};

/** A JavaScript regular expression in source form; invalid patterns are reported with the engine's reason. */
export const RegexSourceSchema = z.string({ error: 'must be a regular expression string' }).check(
  z.superRefine((s, ctx) => {
    const problem = patternProblem(s);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  }),
);

/** Counts how many of `keys` are present (not undefined) on an object that may be malformed. */
export function countPresent(value: unknown, keys: readonly string[]): number {
  if (typeof value !== 'object' || value === null) return 0;
  let n = 0;
  for (const k of keys) if ((value as Record<string, unknown>)[k] !== undefined) n++;
  return n;
}
