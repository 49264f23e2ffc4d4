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
import { listeningUrl, runWeft, startWeft } from './weft-process.js';

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
    const r = await runWeft(['--help'], { bin, cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('control-plane');
  });

  it('runs the control plane from the sources of every package', async () => {
    const weft = startWeft(['control-plane', '--port', '0', '--log-level', 'warn'], { bin, cwd: dir });
    try {
      const url = await listeningUrl(weft, 60_000);
      const res = await fetch(`${url}/api/v1/instances`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ service_name: 'details', endpoint: { type: 'http', value: '10.0.0.9:9080' } }),
      });
      expect(res.status).toBe(201);
    } finally {
      weft.child.kill('SIGTERM');
    }
    expect(await weft.exited).toBe(0);
  }, 90_000);
});
