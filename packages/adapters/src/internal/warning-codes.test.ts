import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const src = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');

/** Every non-test source file of the package. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [path] : [];
  });
}

const codesIn = (text: string, pattern: RegExp): Set<string> =>
  new Set([...text.matchAll(pattern)].map((m) => m[1] as string));

describe('the adapter warning codes', () => {
  const logTs = readFileSync(join(src, 'internal', 'log.ts'), 'utf8');
  const declared = codesIn(logTs, /\| '(WEFT_WARN_[A-Z0-9_]+)'/g);
  // Emitted: named in code anywhere but in the type that declares them (and not only in a comment).
  const emitted = new Set<string>();
  for (const file of sources(src)) {
    if (file.endsWith(join('internal', 'log.ts'))) continue;
    const code = readFileSync(file, 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/\/\/.*$/gm, '');
    for (const c of codesIn(code, /'(WEFT_WARN_[A-Z0-9_]+)'/g)) emitted.add(c);
  }
  const section = readme.slice(readme.indexOf('## Warnings (all adapters)'));
  const documented = codesIn(section.slice(0, section.indexOf('\n## ', 3)), /^\| `(WEFT_WARN_[A-Z0-9_]+)`/gm);

  it('are each emitted somewhere, and only declared ones are', () => {
    expect(declared.size).toBeGreaterThan(10);
    expect([...emitted].sort()).toEqual([...declared].sort());
  });

  it('are the rows of the README warning table, no more and no fewer', () => {
    expect([...documented].sort()).toEqual([...declared].sort());
  });
});
