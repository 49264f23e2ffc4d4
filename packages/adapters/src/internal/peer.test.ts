import { isWeftError } from '@weft/core';
import { describe, expect, it } from 'vitest';
import { importPeer, MissingPeerDependencyError } from './peer.js';

describe('importPeer', () => {
  it('turns a missing package into WEFT_ERR_MISSING_PEER_DEPENDENCY naming the install command', async () => {
    const load = () => import(/* @vite-ignore */ ['weft-no-such', 'package'].join('-'));
    const err = await importPeer('weft-no-such-package', 'Test', '^1.0.0', load).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MissingPeerDependencyError);
    expect(isWeftError(err, 'WEFT_ERR_MISSING_PEER_DEPENDENCY')).toBe(true);
    expect((err as Error).message).toContain('npm install weft-no-such-package@"^1.0.0"');
  });

  it('rethrows other load failures as they are', async () => {
    const boom = new Error('syntax error in the package');
    await expect(importPeer('x', 'Test', '^1', () => Promise.reject(boom))).rejects.toBe(boom);
  });
});
