import * as z from 'zod/mini';

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const DURATION_MESSAGE = 'must be a duration with a unit, such as 500ms, 30s, 5m or 1h';
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** `500ms`, `30s`, `1.5m`, `2h` in milliseconds; undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION.exec(text.trim());
  if (m === null) return undefined;
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

/** Prints milliseconds the way a user would write them (`300000` → `5m`), for help and messages. */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const)
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

/**
 * A duration written with its unit (`30s`, `5m`, `500ms`, `1h`), validated and turned into
 * milliseconds. A unit is required: a bare `30` in a file would silently mean seconds to one
 * reader and milliseconds to another.
 */
export const DurationSchema = z.pipe(
  z
    .string({ error: DURATION_MESSAGE })
    // A regex check rather than a refinement, so the JSON Schema carries it as a `pattern`.
    .check(z.regex(DURATION, { error: DURATION_MESSAGE })),
  z.transform((text) => parseDuration(text) as number),
);
