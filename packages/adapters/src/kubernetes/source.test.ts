import { InvalidArgumentError } from '@weft/core';
import { describe, expect, it } from 'vitest';
import { KubernetesSource, type KubernetesSourceOptions } from './source.js';

/** The issues the constructor reports for `options` (it checks them before any API call). */
function issuesOf(options: KubernetesSourceOptions): Array<{ path: string; message: string }> {
  try {
    new KubernetesSource(options);
    return [];
  } catch (err) {
    if (!(err instanceof InvalidArgumentError)) throw err;
    return err.issues.map((i) => ({ path: i.path, message: i.message }));
  }
}

describe('KubernetesSource options: mtls', () => {
  it.each([
    [{}],
    [{ mtls: {} }],
    [{ mtls: { trustDomain: 'weft.local' } }],
    [{ mtls: { trustDomain: 'prod.example.com' } }],
  ] as Array<[KubernetesSourceOptions]>)('accepts %j', (options) => {
    expect(issuesOf(options)).toEqual([]);
  });

  it.each([
    [{ mtls: { trustDomain: 'Prod.Example' } }, 'mtls.trustDomain'],
    [{ mtls: { trustDomain: '' } }, 'mtls.trustDomain'],
    [{ mtls: { trustDomain: 42 } }, 'mtls.trustDomain'],
    [{ mtls: 'weft.local' }, 'mtls'],
    [{ mtls: null }, 'mtls'],
  ])('refuses %j, naming %s', (options, path) => {
    const issues = issuesOf(options as unknown as KubernetesSourceOptions);
    expect(issues.map((i) => i.path)).toEqual([path]);
  });

  it('reports a bad trust domain with the other bad options, as a coded error', () => {
    const err = (() => {
      try {
        new KubernetesSource({ port: 0, mtls: { trustDomain: 'UPPER' } });
      } catch (e) {
        return e as InvalidArgumentError;
      }
      return undefined;
    })();
    expect(err?.code).toBe('WEFT_ERR_INVALID_ARGUMENT');
    expect(err?.issues.map((i) => i.path)).toEqual(['port', 'mtls.trustDomain']);
  });
});
