import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { text } from 'node:stream/consumers';
import { UsageError } from './errors.js';

/**
 * Reads a rules document — `{rules: [...]}` or a bare list, in JSON or YAML (YAML is a superset
 * of JSON, so one parser reads both) — from a file, or from standard input for `-` or no file.
 * Standard input must not be a terminal: a command waiting for input nobody types looks hung.
 */
export async function readRulesInput(
  file: string | undefined,
  cwd: string,
  /** What the document should look like, for the messages. */
  expected = '{rules: [...]}',
): Promise<{ doc: unknown; name: string }> {
  let source: string;
  let name: string;
  if (file === undefined || file === '-') {
    if (process.stdin.isTTY === true)
      throw new UsageError('give the document with -f <file>, or pipe it in (-f - reads standard input)');
    source = await text(process.stdin);
    name = 'standard input';
  } else {
    try {
      source = await readFile(resolve(cwd, file), 'utf8');
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      throw new UsageError(`cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : String(code ?? err)}`);
    }
    name = file;
  }
  if (source.trim() === '') throw new UsageError(`${name} is empty: expected ${expected} in JSON or YAML`);
  const { parse } = await import('yaml');
  try {
    return { doc: parse(source), name };
  } catch (err) {
    throw new UsageError(
      `${name} is neither JSON nor YAML: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`,
    );
  }
}
