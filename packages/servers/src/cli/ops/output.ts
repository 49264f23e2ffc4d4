import { UsageError } from '../../config/errors.js';

/** How a command prints its result: a table (or text) for people, JSON or YAML for scripts. */
export type OutputFormat = 'table' | 'json' | 'yaml';

const FORMATS: readonly OutputFormat[] = ['table', 'json', 'yaml'];

/**
 * The format asked for: `-o`/`--output`, or a8ctl 0.3's `--json`; else the command's default.
 * `text` is accepted as another name of `table` (explain prints text).
 */
export function outputFormat(values: Readonly<Record<string, unknown>>, fallback: OutputFormat): OutputFormat {
  const asked = values.output;
  if (values.json === true) {
    if (asked !== undefined && asked !== 'json') throw new UsageError(`--json contradicts --output ${String(asked)}`);
    return 'json';
  }
  if (asked === undefined) return fallback;
  const name = asked === 'text' ? 'table' : asked;
  if (typeof name === 'string' && (FORMATS as readonly string[]).includes(name)) return name as OutputFormat;
  throw new UsageError(`--output must be one of ${FORMATS.join(', ')} (got '${String(asked)}')`);
}

/** `data` as JSON or YAML, ending with a newline. The YAML library loads only when asked for. */
export async function serialize(data: unknown, format: 'json' | 'yaml'): Promise<string> {
  if (format === 'json') return `${JSON.stringify(data, null, 2)}\n`;
  const { stringify } = await import('yaml');
  return stringify(data, { lineWidth: 0 });
}

/**
 * Colour only for a terminal, and never with `NO_COLOR` set (https://no-color.org);
 * `FORCE_COLOR` (non-zero) turns it on for a pipe, as Node and most tools do.
 */
export function useColor(env: NodeJS.ProcessEnv, isTTY: boolean): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '') return env.FORCE_COLOR !== '0';
  return isTTY;
}
