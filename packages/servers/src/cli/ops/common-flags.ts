import { UsageError } from './errors.js';
import type { FlagSpec } from './flags.js';

/** `-o json|yaml|table`, and a8ctl 0.3's `--json`. */
export const OUTPUT_FLAGS: readonly FlagSpec[] = [
  {
    name: 'output',
    short: 'o',
    type: 'string',
    placeholder: 'table|json|yaml',
    description: 'Output format: an aligned table for people (default), JSON or YAML for scripts',
  },
  { name: 'json', type: 'boolean', description: 'Same as -o json (a8ctl 0.3)' },
];

/** The same, where the default is JSON (a8ctl's rule-get printed the rules DSL). */
export const RULES_OUTPUT_FLAGS: readonly FlagSpec[] = [
  {
    name: 'output',
    short: 'o',
    type: 'string',
    placeholder: 'json|yaml|table',
    description: 'Output format: JSON (default, as a8ctl), YAML, or a summary table',
  },
  { name: 'json', type: 'boolean', description: 'Same as -o json', hidden: true },
];

/** The value of a flag that takes one. */
export function stringFlag(values: Readonly<Record<string, unknown>>, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

/** Every value of a repeatable flag. */
export function listFlag(values: Readonly<Record<string, unknown>>, name: string): string[] {
  const v = values[name];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/**
 * The `-H 'Name: value'` flags, as `[name, value]` pairs in the order given (names as typed).
 *
 * @throws UsageError for a value without a name and a colon.
 */
export function headerFlags(values: Readonly<Record<string, unknown>>): [name: string, value: string][] {
  return listFlag(values, 'header').map((h) => {
    const colon = h.indexOf(':');
    if (colon <= 0) throw new UsageError(`-H must be 'Name: value' (got '${h}')`);
    return [h.slice(0, colon).trim(), h.slice(colon + 1).trim()];
  });
}
