import { resolve } from 'node:path';
import * as z from 'zod/mini';
import type { SettingInfo } from './describe.js';
import { ConfigError } from './errors.js';
import { describeOrigin, type Origin } from './origin.js';
import { readEnv, type TextValue } from './read-env.js';
import { readConfigFile } from './read-file.js';
import type { ParsedFlags } from './read-flags.js';
import { didYouMean } from './suggest.js';

/** A validated config and where each of its given values came from. */
export interface Loaded<T> {
  readonly config: T;
  /** Key path (`registry.store.path`) → origin; keys left at their default are absent. */
  readonly origins: ReadonlyMap<string, Origin>;
}

/** What a command's config is read from. */
export interface LoadInput {
  readonly flags: ParsedFlags;
  readonly env: NodeJS.ProcessEnv;
  /** Relative paths (the config file) are resolved against it. */
  readonly cwd: string;
}

const isMapping = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Sets a value at a key path, creating mappings on the way; leaves a non-mapping in the way alone (it is the error to report). */
function setAt(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const segment of path.slice(0, -1)) {
    const next = node[segment] ?? {};
    if (!isMapping(next)) return;
    node[segment] = next;
    node = next;
  }
  node[path[path.length - 1] as string] = value;
}

/** The value at a key path, if any. */
export function getAt(source: unknown, path: readonly PropertyKey[]): unknown {
  let node = source;
  for (const segment of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<PropertyKey, unknown>)[segment];
  }
  return node;
}

/** `auth.modes[1]` */
function displayPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (out, seg) => (typeof seg === 'number' ? `${out}[${seg}]` : out === '' ? String(seg) : `${out}.${String(seg)}`),
    '',
  );
}

/** The origin that covers a path: its own, or the nearest enclosing key's (a list's, a bad mapping's). */
function originOf(path: readonly PropertyKey[], origins: ReadonlyMap<string, Origin>): Origin | undefined {
  const keys = path.filter((seg): seg is string => typeof seg === 'string');
  for (let n = keys.length; n > 0; n--) {
    const origin = origins.get(keys.slice(0, n).join('.'));
    if (origin !== undefined) return origin;
  }
  return undefined;
}

/**
 * One problem, as a line that names the field, its value (unless secret) and where it came
 * from: `port = 70000 (from --port): must be at most 65535`.
 */
export function problem(
  path: readonly PropertyKey[],
  message: string,
  origins: ReadonlyMap<string, Origin>,
  settings: readonly SettingInfo[],
  value?: unknown,
): string {
  const key = displayPath(path);
  const setting = settings.find((s) => s.key === key);
  const shown =
    value !== undefined &&
    setting?.secret !== true &&
    (typeof value !== 'object' || value === null || Array.isArray(value))
      ? ` = ${JSON.stringify(value)}`
      : '';
  const origin = originOf(path, origins);
  return `${key}${shown}${origin === undefined ? '' : ` (from ${describeOrigin(origin)})`}: ${message}`;
}

/** The problems of a failed parse, one line each; unknown keys one line per key. */
function problems(
  issues: readonly z.core.$ZodIssue[],
  merged: unknown,
  origins: ReadonlyMap<string, Origin>,
  settings: readonly SettingInfo[],
): string[] {
  const out: string[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      const depth = issue.path.length;
      const prefix = issue.path.map(String);
      // The keys that exist at this level, for the suggestion.
      const siblings = new Set(
        settings
          .filter((s) => prefix.every((seg, i) => s.path[i] === seg) && s.path.length > depth)
          .map((s) => s.path.slice(0, depth + 1).join('.')),
      );
      for (const name of issue.keys) {
        const path = [...issue.path, name];
        const key = displayPath(path);
        out.push(problem(path, `unknown setting${didYouMean(key, siblings)}`, origins, settings));
      }
      continue;
    }
    out.push(problem(issue.path, issue.message, origins, settings, getAt(merged, issue.path)));
  }
  return out;
}

/**
 * Reads, merges and validates a command's config: flags over environment over the config file
 * over the defaults (applied by the schema). Throws a {@link ConfigError} that lists every
 * problem, each naming its field and where the value came from.
 */
export async function loadConfig<S extends z.core.$ZodType>(
  schema: S,
  settings: readonly SettingInfo[],
  input: LoadInput,
): Promise<Loaded<z.output<S>>> {
  let merged: Record<string, unknown> = {};
  const origins = new Map<string, Origin>();

  const env = input.env.WEFT_CONFIG;
  const file = input.flags.config ?? (env === '' ? undefined : env);
  if (file !== undefined) {
    const layer = await readConfigFile(resolve(input.cwd, file), file);
    // A copy that keeps every key an own property: assigning a file's `__proto__` key would set
    // the prototype instead, and its settings would pass as defaults, unchecked.
    merged = structuredClone(layer.data);
    for (const [key, origin] of layer.origins) origins.set(key, origin);
  }
  const apply = (values: readonly TextValue[]): void => {
    for (const { setting, value, origin } of values) {
      setAt(merged, setting.path, value);
      origins.set(setting.key, origin);
    }
  };
  apply(readEnv(settings, input.env));
  apply(input.flags.values);

  const result = z.safeParse(schema, merged);
  if (!result.success)
    throw new ConfigError('invalid configuration', problems(result.error.issues, merged, origins, settings));
  return { config: result.data, origins };
}
