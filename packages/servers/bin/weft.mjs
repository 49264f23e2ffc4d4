#!/usr/bin/env node
// The `weft` command.
//
// An installed package runs its build, dist/cli.js. In a clone of the repository (this package
// under packages/, not inside a node_modules) it runs the TypeScript sources through tsx, a
// devDependency there, so `npx weft` works right after `npm install`, with no build and never a
// stale one. The sources import @weft/core and @weft/proxy, whose exports map sends the
// `@weft/source` condition to their src/ and everything else to a dist/ that a fresh clone does
// not have; a resolve hook adds that condition to every import of this process. It runs in this
// thread (module.registerHooks), so there is no second process to forward signals and an exit
// code to, and nothing is paid for it but the hook itself.
import { existsSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 19)) {
  process.stderr.write(`weft: needs Node.js 22.19 or later (this is ${process.version})\n`);
  process.exit(1);
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const sources = join(root, 'src', 'cli', 'main.ts');
const inClone = !root.split(sep).includes('node_modules') && existsSync(sources);

if (!inClone) {
  const built = join(root, 'dist', 'cli.js');
  if (!existsSync(built)) {
    process.stderr.write(`weft: ${built} is missing: this copy of @weft/servers was never built (npm run build)\n`);
    process.exit(1);
  }
  await import(pathToFileURL(built).href);
} else {
  const { registerHooks } = await import('node:module');
  registerHooks({
    resolve(specifier, context, nextResolve) {
      const conditions = context.conditions.includes('@weft/source')
        ? context.conditions
        : [...context.conditions, '@weft/source'];
      return nextResolve(specifier, { ...context, conditions });
    },
  });
  const { register } = await import('tsx/esm/api');
  register({ tsconfig: join(root, '..', '..', 'tsconfig.json') });
  await import(pathToFileURL(sources).href);
}
