/**
 * A copy of the repository's server packages as a fresh clone has them: sources, no dist/. Its
 * node_modules links every dependency installed here, except the workspace packages, which point
 * at the copies — so nothing of this tree's builds can leak in.
 */
import { cp, mkdir, readdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { repoRoot } from './weft-process.js';

/** The workspace packages `@weft/servers` needs, itself included. */
export const COPIED_PACKAGES = ['core', 'adapters', 'proxy', 'servers'] as const;

/** Copies the packages (without dist/ and node_modules/) and the root tsconfigs into `dir`. */
export async function copyRepo(dir: string): Promise<void> {
  for (const file of ['package.json', 'tsconfig.json', 'tsconfig.base.json'])
    await cp(join(repoRoot, file), join(dir, file));
  for (const name of COPIED_PACKAGES)
    await cp(join(repoRoot, 'packages', name), join(dir, 'packages', name), {
      recursive: true,
      filter: (src) => !/[/\\](dist|node_modules)$/.test(src),
    });
  const modules = join(dir, 'node_modules');
  await mkdir(join(modules, '@weft'), { recursive: true });
  for (const entry of await readdir(join(repoRoot, 'node_modules'))) {
    if (entry === '@weft' || entry === '.bin' || entry.startsWith('.')) continue;
    await symlink(join(repoRoot, 'node_modules', entry), join(modules, entry));
  }
  for (const name of COPIED_PACKAGES) await symlink(join('..', '..', 'packages', name), join(modules, '@weft', name));
}
