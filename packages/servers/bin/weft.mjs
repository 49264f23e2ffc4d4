#!/usr/bin/env node
// The `weft` command. An installed package runs its build (dist/); a clone without a build runs
// the TypeScript sources through tsx (a devDependency there), so `npx weft` works right after
// `npm install`.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = join(root, 'dist', 'cli.js');
if (existsSync(built)) {
  await import(pathToFileURL(built).href);
} else {
  const { register } = await import('tsx/esm/api');
  register({ tsconfig: join(root, '..', '..', 'tsconfig.json') });
  await import(pathToFileURL(join(root, 'src', 'cli', 'main.ts')).href);
}
