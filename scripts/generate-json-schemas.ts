/**
 * Writes a JSON Schema file for every schema of each target below, generated from the zod
 * schemas (the single source of truth): core's wire types, and the config files of the servers'
 * `weft` commands. With `--check`, writes nothing and fails when a checked-in file differs from
 * what the schemas produce, so stale files cannot land.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as z from 'zod/mini';
import { wireSchemas } from '../packages/core/src/wire-schemas.js';
import { configSchemas } from '../packages/servers/src/config/schemas.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const targets: { dir: string; schemas: Readonly<Record<string, z.core.$ZodType>> }[] = [
  { dir: join(root, 'packages', 'core', 'schemas'), schemas: wireSchemas },
  { dir: join(root, 'packages', 'servers', 'schemas'), schemas: configSchemas },
];
const check = process.argv.includes('--check');

/** File name → contents, for one target. */
function render(schemas: Readonly<Record<string, z.core.$ZodType>>): Map<string, string> {
  const files = new Map<string, string>();
  for (const [name, schema] of Object.entries(schemas)) {
    // `input`: the schema of what a client may send (defaults optional; a config file's
    // durations as the text written, `5m`), which is what a JSON Schema consumer validates.
    const json = z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12', unrepresentable: 'any' });
    const doc = { $id: `https://weft.dev/schemas/${name}.schema.json`, title: name, ...json };
    files.set(`${name}.schema.json`, `${JSON.stringify(doc, null, 2)}\n`);
  }
  return files;
}

const problems: string[] = [];
let count = 0;
for (const { dir, schemas } of targets) {
  const expected = render(schemas);
  count += expected.size;
  const where = relative(root, dir);
  if (check) {
    for (const [file, body] of expected) {
      const path = join(dir, file);
      if (!existsSync(path)) problems.push(`${where}/${file} is missing`);
      else if (readFileSync(path, 'utf8') !== body) problems.push(`${where}/${file} is stale`);
    }
    if (existsSync(dir))
      for (const file of readdirSync(dir))
        if (!expected.has(file)) problems.push(`${where}/${file} has no schema any more`);
  } else {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    for (const [file, body] of expected) writeFileSync(join(dir, file), body);
    console.log(`wrote ${expected.size} JSON Schema files to ${where}`);
  }
}
if (check) {
  if (problems.length > 0) {
    console.error(`JSON Schema files are out of date (run \`npm run schemas\`):\n  ${problems.join('\n  ')}`);
    process.exit(1);
  }
  console.log(`JSON Schema files are up to date (${count}).`);
}
