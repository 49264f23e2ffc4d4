import * as z from 'zod/mini';
import { withMeta } from '../zod-setup.js';

// No g/y flag: the regex is shared and must stay stateless.
const DURATION_RE = /^(\d+(\.\d+)?(ms|s|m|h))+$/;

/**
 * A duration as rules spell it: a number of **seconds** (Amalgam8's unit: `"duration": 7`,
 * `"http_req_timeout": 15`), or — a Weft extension — a string with units such as `"250ms"`,
 * `"1.5s"`, `"1m30s"` (units `ms`, `s`, `m`, `h`). Converted to milliseconds by {@link durationToMs}.
 */
export const DurationSchema = withMeta(
  z.union([
    z.number({ error: 'must be a number of seconds' }).check(z.nonnegative({ error: 'must not be negative' })),
    z.string().check(z.regex(DURATION_RE, { error: 'must be seconds or a duration like "250ms", "1.5s", "1m30s"' })),
  ]),
  {
    id: 'RuleDuration',
    description: 'Seconds (number), or a duration string with units ms, s, m, h (e.g. "250ms", "1m30s").',
  },
);
/** A duration as written in a rule. */
export type Duration = z.input<typeof DurationSchema>;

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Converts a validated {@link Duration} to whole milliseconds (rounded: timers have ms
 * resolution and sub-millisecond timeouts would only be noise).
 */
export function durationToMs(value: Duration): number {
  if (typeof value === 'number') return Math.round(value * 1000);
  let total = 0;
  for (const m of value.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) total += Number(m[1]) * (UNIT_MS[m[2] ?? 's'] ?? 1000);
  return Math.round(total);
}
