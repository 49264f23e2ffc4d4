/**
 * One catalogue of every code (fastify's errors test, for Weft): every `WEFT_ERR_*` / `WEFT_WARN_*`
 * that any package's sources or docs use is in `ErrorCodes` / `WarningCodes`, and `CODES.md`
 * lists every catalogued code.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ErrorCodes, WarningCodes } from './codes.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..', '..');
const CODE = /WEFT_(?:ERR|WARN)_[A-Z0-9_]*[A-Z0-9]/g;
const SKIP = new Set(['node_modules', 'dist', 'schemas', 'coverage']);

/** Source and doc files of every package (tests included: they must not invent codes either). */
function* files(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(e.name) || e.name.startsWith('.')) continue;
    const path = join(dir, e.name);
    if (e.isDirectory()) yield* files(path);
    else if (/\.(ts|mts|cts|mjs|js|md)$/.test(e.name)) yield path;
  }
}

/** Each code used, with the first file that uses it. */
function usedCodes(): Map<string, string> {
  const used = new Map<string, string>();
  const dirs = [join(root, 'packages'), join(root, 'test'), join(root, 'README.md'), join(root, 'ARCHITECTURE.md')];
  for (const dir of dirs) {
    const list = dir.endsWith('.md') ? [dir] : files(dir);
    for (const file of list) {
      for (const m of readFileSync(file, 'utf8').matchAll(CODE)) {
        if (!used.has(m[0])) used.set(m[0], relative(root, file));
      }
    }
  }
  return used;
}

describe('the code catalogue', () => {
  const catalogued = new Set<string>([...Object.keys(ErrorCodes), ...Object.keys(WarningCodes)]);

  it('has every code any package uses', () => {
    const used = usedCodes();
    expect(used.size).toBeGreaterThan(40); // the scan found the sources
    const missing = [...used].filter(([code]) => !catalogued.has(code)).map(([code, file]) => `${code} (${file})`);
    expect(missing).toEqual([]);
  });

  it('is documented in full on CODES.md', () => {
    const doc = readFileSync(join(here, 'CODES.md'), 'utf8');
    const missing = [...catalogued].filter((code) => !doc.includes(`\`${code}\``));
    expect(missing).toEqual([]);
  });

  it('keeps errors and warnings apart by prefix, each error with an HTTP status', () => {
    for (const [code, e] of Object.entries(ErrorCodes)) {
      expect(code).toMatch(/^WEFT_ERR_/);
      expect(e.status).toBeGreaterThanOrEqual(400);
    }
    for (const code of Object.keys(WarningCodes)) expect(code).toMatch(/^WEFT_WARN_/);
  });
});
