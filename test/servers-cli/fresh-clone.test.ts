/**
 * `npx weft` right after `npm install`, before any build: the bin runs the TypeScript sources,
 * and their imports of @weft/core and @weft/proxy must reach those packages' sources too (their
 * dist/ does not exist yet). Run in a copy without any dist/, so a build of this tree cannot
 * make the test pass by accident.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COPIED_PACKAGES, copyRepo } from './repo-copy.js';
import { expectHelp, expectServesControlPlane } from './weft-smoke.js';

let dir: string;
let bin: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'weft-clone-'));
  await copyRepo(dir);
  bin = join(dir, 'packages', 'servers', 'bin', 'weft.mjs');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('weft in a fresh clone (no build)', () => {
  it('has no dist/ to fall back on', () => {
    for (const name of COPIED_PACKAGES) expect(existsSync(join(dir, 'packages', name, 'dist'))).toBe(false);
  });

  it('answers --help', async () => {
    await expectHelp(bin, dir);
  });

  it('runs the control plane from the sources of every package', async () => {
    // Slower to start than a build: tsx compiles every source on the way.
    await expectServesControlPlane(bin, dir, 60_000);
  }, 90_000);
});
