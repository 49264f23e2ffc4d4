import { isWeftError } from '@weft/core';
import { describe, expect, it } from 'vitest';
import { definedOnly, namespaceOf } from './options.js';

describe('definedOnly', () => {
  it('keeps the named fields that are set, and nothing else', () => {
    const options = { a: 1, b: undefined, c: 'x', d: true };
    const picked = definedOnly(options, ['a', 'b', 'c']);
    expect(picked).toEqual({ a: 1, c: 'x' });
    expect('b' in picked).toBe(false);
  });
});

describe('namespaceOf', () => {
  it('defaults to the default namespace and refuses an empty one, naming the field', () => {
    expect(namespaceOf(undefined)).toBe('default');
    expect(namespaceOf({ namespace: 'team-a' })).toBe('team-a');
    let err: unknown;
    try {
      namespaceOf({ namespace: '' });
    } catch (e) {
      err = e;
    }
    expect(isWeftError(err, 'WEFT_ERR_INVALID_ARGUMENT')).toBe(true);
    expect((err as { issues: unknown }).issues).toEqual([{ path: 'namespace', message: 'must be a non-empty string' }]);
  });
});
