import { readFile } from 'node:fs/promises';
import { InvalidArgumentError, toValidationIssues } from '@weft/core';
import * as z from 'zod/mini';
import {
  type ChecksFile,
  ChecksSchema,
  type ScenariosFile,
  ScenariosSchema,
  type TopologyFile,
  TopologySchema,
} from './schemas.js';

/** The three parts of a recipe. */
export type RecipePart = 'topology' | 'scenarios' | 'checks';

const SCHEMAS = { topology: TopologySchema, scenarios: ScenariosSchema, checks: ChecksSchema } as const;

type PartOf<K extends RecipePart> = K extends 'topology'
  ? TopologyFile
  : K extends 'scenarios'
    ? ScenariosFile
    : ChecksFile;

/**
 * Validates one part of a recipe given as data; `where` names it in errors (`checks file
 * checks.json`). Throws an `InvalidArgumentError` whose issues name every offending field
 * (`gremlins[0].delaytime: must be a duration …`).
 */
export function parseRecipePart<K extends RecipePart>(part: K, data: unknown, where: string = `${part}`): PartOf<K> {
  const result = z.safeParse(SCHEMAS[part] as z.ZodMiniType, data);
  if (result.success) return result.data as PartOf<K>;
  throw new InvalidArgumentError(where, toValidationIssues(result.error), { cause: result.error });
}

/** JSON, or YAML (by the file's extension; a file without one is tried as JSON, then as YAML). */
async function parseText(text: string, path: string, where: string): Promise<unknown> {
  const yamlName = /\.ya?ml$/i.test(path);
  if (!yamlName)
    try {
      return JSON.parse(text);
    } catch (err) {
      if (/\.json$/i.test(path))
        throw new InvalidArgumentError(where, [{ path: '', message: `not valid JSON: ${(err as Error).message}` }]);
    }
  const { parse } = await import('yaml');
  try {
    return parse(text);
  } catch (err) {
    throw new InvalidArgumentError(where, [{ path: '', message: `not valid YAML: ${(err as Error).message}` }]);
  }
}

/**
 * Reads and validates one recipe file, JSON or YAML: a file that cannot be read, parsed or
 * validated fails with an `InvalidArgumentError` naming the file (and the field).
 */
export async function readRecipeFile<K extends RecipePart>(part: K, path: string): Promise<PartOf<K>> {
  const where = `${part} file ${path}`;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new InvalidArgumentError(where, [
      { path: '', message: code === 'ENOENT' ? 'no such file' : `cannot be read (${code ?? (err as Error).message})` },
    ]);
  }
  return parseRecipePart(part, await parseText(text, path, where), where);
}
