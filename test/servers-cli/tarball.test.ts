/**
 * `@weft/servers` as users get it: built, packed with `npm pack`, installed from the tarballs
 * into a project outside the repository. Its `weft` must run the build (dist/cli.js) — tsx is
 * not there — and its tarball must hold what that needs. Built in a copy of the packages, so the
 * test checks this tree's sources, never a stale dist/.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COPIED_PACKAGES, copyRepo } from './repo-copy.js';
import { repoRoot } from './weft-process.js';
import { expectHelp, expectServesControlPlane } from './weft-smoke.js';

const run = promisify(execFile);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const tsup = join(repoRoot, 'node_modules', 'tsup', 'dist', 'cli-default.js');

let work: string;
let project: string;
let packed: { files: { path: string }[] } | undefined;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'weft-pack-'));
  const copy = join(work, 'repo');
  await copyRepo(copy);
  const tarballs: string[] = [];
  for (const name of COPIED_PACKAGES) {
    const cwd = join(copy, 'packages', name);
    await run(process.execPath, [tsup], { cwd, timeout: 120_000 });
    const { stdout } = await run(npm, ['pack', '--json', '--pack-destination', work], { cwd, timeout: 60_000 });
    const [info] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
    if (info === undefined) throw new Error(`npm pack printed nothing for ${name}`);
    tarballs.push(join(work, info.filename));
    if (name === 'servers') packed = info;
  }
  // A project of a user: outside the repository, no workspaces, no tsx.
  project = join(work, 'project');
  await mkdir(project);
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'user-project', private: true }));
  await run(npm, ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', ...tarballs], {
    cwd: project,
    timeout: 240_000,
  });
}, 400_000);

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('weft from an installed tarball', () => {
  it('packs the bin, the build and the config schemas', () => {
    const files = new Set(packed?.files.map((f) => f.path));
    for (const f of ['bin/weft.mjs', 'dist/cli.js', 'dist/index.js', 'dist/index.d.ts', 'package.json'])
      expect(files, f).toContain(f);
    for (const f of ['weft-control-plane', 'weft-registry', 'weft-controller'])
      expect(files).toContain(`schemas/${f}.config.schema.json`);
  });

  it('runs its build, where tsx is not installed', async () => {
    expect(existsSync(join(project, 'node_modules', 'tsx'))).toBe(false);
    await expectHelp(join(project, 'node_modules', '.bin', 'weft'), project);
  });

  it('serves the control plane and stops on SIGTERM', async () => {
    await expectServesControlPlane(join(project, 'node_modules', '@weft', 'servers', 'bin', 'weft.mjs'), project);
  });
});
