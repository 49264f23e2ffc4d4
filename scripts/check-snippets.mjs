#!/usr/bin/env node
// Every fenced TypeScript block (```ts) of README.md and packages/*/README.md, and every
// `@example` block of the packages' TSDoc (what the API docs show), compiles: each is
// written to its own module under .cache/snippets/ and type-checked, strict, against the
// packages' TypeScript sources (the `@weft/source` condition, as the tests use them), so the
// docs cannot drift from the API they show. Errors are reported at the README / source line.
//
// A block that is deliberately partial (a fragment of a larger program, an interface excerpt)
// opts out with an HTML comment on the line before its fence, which renders as nothing:
//
//   <!-- snippet: partial -->
//
// Each block is a module of its own (top-level await works; names do not clash), so a snippet
// must declare what it uses — the same rule a reader copying it follows.
import { spawnSync } from 'node:child_process';
import { globSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';

const root = join(import.meta.dirname, '..');
const out = join(root, '.cache', 'snippets');
const OPT_OUT = '<!-- snippet: partial -->';

/** The READMEs checked: the root one and each package's. */
function readmes() {
  const packages = join(root, 'packages');
  const files = [join(root, 'README.md')];
  for (const name of readdirSync(packages).sort()) {
    const file = join(packages, name, 'README.md');
    try {
      readFileSync(file);
      files.push(file);
    } catch {}
  }
  return files;
}

/** The ```ts / ```typescript blocks of a Markdown file, with the line their code starts on. */
function extract(file) {
  const lines = readFileSync(file, 'utf8').split('\n');
  const blocks = [];
  let open;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (open === undefined) {
      const fence = /^(\s*)(`{3,}|~{3,})\s*(ts|typescript|tsx|mts|cts)\b/.exec(line);
      if (fence === null) continue;
      const partial = lines[i - 1]?.trim() === OPT_OUT;
      open = { fence: fence[2], indent: fence[1].length, start: i + 2, code: [], partial };
    } else if (line.trim().startsWith(open.fence) && line.trim().replaceAll(open.fence[0], '') === '') {
      blocks.push(open);
      open = undefined;
    } else {
      open.code.push(line.slice(Math.min(open.indent, line.length - line.trimStart().length)));
    }
  }
  return blocks;
}

/** The ```ts blocks of the `@example` tags in a source file's doc comments. */
function examples(file) {
  const lines = readFileSync(file, 'utf8').split('\n');
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^\s*\*\s*@example\s*$/.test(lines[i])) continue;
    // The fence opens on the tag's next line; the code ends at the closing fence.
    if (!/^\s*\*\s*```(ts|typescript)\s*$/.test(lines[i + 1] ?? '')) continue;
    const code = [];
    let j = i + 2;
    for (; j < lines.length && !/^\s*\*\s*```\s*$/.test(lines[j]); j++) code.push(lines[j].replace(/^\s*\* ?/, ''));
    blocks.push({ start: i + 3, code, partial: false });
    i = j;
  }
  return blocks;
}

function main() {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  // ESM, so that snippets may `await` at top level as the READMEs do.
  writeFileSync(join(out, 'package.json'), JSON.stringify({ type: 'module', private: true }));
  const origin = new Map(); // snippet file → [readme, first code line]
  let partial = 0;
  for (const readme of readmes()) {
    const slug = relative(root, readme).replaceAll(/[/.]/g, '_');
    for (const [n, block] of extract(readme).entries()) {
      if (block.partial) {
        partial++;
        continue;
      }
      const file = `${slug}_${n + 1}.ts`;
      // `export {}` keeps a snippet without imports a module of its own.
      writeFileSync(join(out, file), `${block.code.join('\n')}\nexport {};\n`);
      origin.set(file, [relative(root, readme), block.start]);
    }
  }
  const sources = globSync('packages/*/src/**/*.ts', { cwd: root }).filter((f) => !f.endsWith('.test.ts'));
  for (const source of sources.sort()) {
    const slug = source.replaceAll(/[/.]/g, '_');
    for (const [n, block] of examples(join(root, source)).entries()) {
      const file = `${slug}_example_${n + 1}.ts`;
      writeFileSync(join(out, file), `${block.code.join('\n')}\nexport {};\n`);
      origin.set(file, [source, block.start]);
    }
  }
  writeFileSync(
    join(out, 'tsconfig.json'),
    JSON.stringify({
      extends: '../../tsconfig.base.json',
      // The repository's own settings (strict and more), but not exactOptionalPropertyTypes: few users
      // turn it on, and under it idioms such as `token: process.env.CONSUL_TOKEN` do not compile.
      compilerOptions: { noEmit: true, declaration: false, sourceMap: false, exactOptionalPropertyTypes: false },
      include: ['*.ts'],
    }),
  );
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', join(out, 'tsconfig.json'), '--pretty', 'false'], {
    encoding: 'utf8',
  });
  if (r.status === 0) {
    console.log(`${origin.size} README snippets and @example blocks compile (${partial} marked partial, not checked)`);
    return;
  }
  // `file.ts(line,col): error TS…` → `README.md:line:col: error TS…`, at the line in the README.
  const report = `${r.stdout}${r.stderr}`.replace(/^(\S+?\.ts)\((\d+),(\d+)\)/gm, (whole, file, line, col) => {
    const at = origin.get(basename(file));
    return at === undefined ? whole : `${at[0]}:${at[1] + Number(line) - 1}:${col}`;
  });
  console.error(report.trim());
  console.error(`snippets do not compile (they are in ${relative(root, out)})`);
  process.exitCode = 1;
}

main();
