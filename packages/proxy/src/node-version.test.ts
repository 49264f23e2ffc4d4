import { isWeftError } from '@weft/core';
import { describe, expect, it } from 'vitest';
import { assertSupportedNode, isSupportedNode, MIN_NODE_VERSION } from './node-version.js';

describe('Node.js version check', () => {
  it('accepts 22.19 and later, refuses what came before', () => {
    expect(MIN_NODE_VERSION).toBe('22.19.0');
    for (const v of ['22.19.0', '22.19.1', '22.20.0', '23.0.0', '24.21.0', '30.1.2'])
      expect(isSupportedNode(v)).toBe(true);
    for (const v of ['22.18.9', '22.0.0', '21.9.0', '20.20.2', '18.20.8', '', 'garbage'])
      expect(isSupportedNode(v)).toBe(false);
  });

  it('throws WEFT_ERR_UNSUPPORTED_RUNTIME naming the version needed and the one running', () => {
    let thrown: unknown;
    try {
      assertSupportedNode('20.20.2');
    } catch (err) {
      thrown = err;
    }
    expect(isWeftError(thrown, 'WEFT_ERR_UNSUPPORTED_RUNTIME')).toBe(true);
    expect((thrown as Error).message).toMatch(/needs Node\.js 22\.19\.0 or later; this is Node\.js 20\.20\.2/);
  });

  it('lets a supported version, or a runtime that is not Node.js, through', () => {
    expect(() => assertSupportedNode(process.versions.node)).not.toThrow();
    expect(() => assertSupportedNode(undefined)).not.toThrow();
  });
});
