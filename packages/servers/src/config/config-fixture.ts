/** Test-only: loads one command's configuration as the CLI does, from flags, environment and a weft.yaml. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import type * as z from 'zod/mini';
import { describeSettings, type SettingInfo } from './describe.js';
import { ConfigError } from './errors.js';
import { type Loaded, loadConfig } from './load.js';
import { readFlags } from './read-flags.js';

/** What {@link configFixture} gives a test file. */
export interface ConfigFixture<Schema extends z.core.$ZodType> {
  readonly settings: readonly SettingInfo[];
  /** The fixture's scratch directory (the working directory of every load); set once `beforeAll` ran. */
  dir(): string;
  /** Loads the config from these flags, environment and (optional) weft.yaml text, written to `dir()`. */
  load(argv: string[], env?: Record<string, string>, file?: string): Promise<Loaded<z.output<Schema>>>;
  /** The problems of a load that must fail (it fails the test unless the load throws a ConfigError). */
  problems(argv: string[], env?: Record<string, string>, file?: string): Promise<readonly string[]>;
}

/**
 * Loads the configuration of `command` (its flags read against `schema`) in a scratch directory
 * the test file's `beforeAll` creates and `afterAll` removes. Call at the top of a test file.
 */
export function configFixture<Schema extends z.core.$ZodType>(
  command: string,
  schema: Schema,
  dirPrefix: string,
): ConfigFixture<Schema> {
  const settings = describeSettings(schema);
  let dir: string | undefined;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), dirPrefix));
  });
  afterAll(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });
  const scratch = (): string => {
    if (dir === undefined) throw new Error('configFixture: no scratch directory before beforeAll');
    return dir;
  };
  const load = async (
    argv: string[],
    env: Record<string, string> = {},
    file?: string,
  ): Promise<Loaded<z.output<Schema>>> => {
    if (file !== undefined) await writeFile(join(scratch(), 'weft.yaml'), file);
    const flags = readFlags(command, file === undefined ? argv : [...argv, '--config', 'weft.yaml'], settings);
    return loadConfig(schema, settings, { flags, env, cwd: scratch() });
  };
  const problems = async (
    argv: string[],
    env: Record<string, string> = {},
    file?: string,
  ): Promise<readonly string[]> => {
    const err = await load(argv, env, file).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  };
  return { settings, dir: scratch, load, problems };
}
