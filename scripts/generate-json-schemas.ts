/**
 * Writes a JSON Schema file for every wire type in `wireSchemas`, generated from the zod
 * schemas (the single source of truth). With `--check`, writes nothing and fails when a
 * checked-in file differs from what the schemas produce, so stale files cannot land.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as z from 'zod/mini';
import { wireSchemas } from '../packages/core/src/wire-schemas.js';

const outDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'packages', 'core', 'schemas');
const check = process.argv.includes('--check');

const expected = new Map<string, string>();
for (const [name, schema] of Object.entries(wireSchemas)) {
  // `input`: the schema of what a client may send (defaults optional), which is what a
  // JSON Schema consumer validates.
  const json = z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12', unrepresentable: 'any' });
  const doc = { $id: `https://weft.dev/schemas/${name}.schema.json`, title: name, ...json };
  expected.set(`${name}.schema.json`, `${JSON.stringify(doc, null, 2)}\n`);
}

const problems: string[] = [];
if (check) {
  for (const [file, body] of expected) {
    const path = join(outDir, file);
    if (!existsSync(path)) problems.push(`${file} is missing`);
    else if (readFileSync(path, 'utf8') !== body) problems.push(`${file} is stale`);
  }
  if (existsSync(outDir))
    for (const file of readdirSync(outDir)) if (!expected.has(file)) problems.push(`${file} has no schema any more`);
  if (problems.length > 0) {
    console.error(`JSON Schema files are out of date (run \`npm run schemas\`):\n  ${problems.join('\n  ')}`);
    process.exit(1);
  }
  console.log(`JSON Schema files are up to date (${expected.size}).`);
} else {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  for (const [file, body] of expected) writeFileSync(join(outDir, file), body);
  console.log(`wrote ${expected.size} JSON Schema files to ${outDir}`);
}
