import { describe, expect, it } from 'vitest';
import { isWeftError } from '../errors/index.js';
import { formatSpiffeId, parseSpiffeId, sameSpiffeId, validateTrustDomain } from './spiffe-id.js';

function issuesOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    expect(isWeftError(err, 'WEFT_ERR_INVALID_ARGUMENT')).toBe(true);
    return (err as { issues: unknown }).issues;
  }
  throw new Error('did not throw');
}

describe('SPIFFE workload identities', () => {
  it('formats and parses spiffe://<td>/ns/<ns>/svc/<service>', () => {
    const id = { trustDomain: 'weft.local', namespace: 'team-a', service: 'reviews' };
    const uri = formatSpiffeId(id);
    expect(uri).toBe('spiffe://weft.local/ns/team-a/svc/reviews');
    expect(parseSpiffeId(uri)).toEqual(id);
    expect(sameSpiffeId(parseSpiffeId(uri), id)).toBe(true);
    expect(sameSpiffeId(id, { ...id, service: 'ratings' })).toBe(false);
  });

  it('names every bad field when formatting', () => {
    expect(issuesOf(() => formatSpiffeId({ trustDomain: 'Weft.Local', namespace: '..', service: 'a b' }))).toEqual([
      { path: 'trustDomain', message: expect.stringContaining('trust domain') },
      { path: 'namespace', message: expect.stringContaining('path segment') },
      { path: 'service', message: expect.stringContaining('path segment') },
    ]);
  });

  it('refuses other layouts, queries, ports and bad parts, naming the field', () => {
    for (const bad of [
      'https://weft.local/ns/a/svc/b',
      'spiffe://weft.local/ns/a',
      'spiffe://weft.local/ns/a/svc/b/extra',
      'spiffe://weft.local/ns/a/svc/b?x=1',
      'spiffe://weft.local/ns/a/svc/b#f',
    ])
      expect(issuesOf(() => parseSpiffeId(bad, 'csr.subjectAltName'))).toEqual([
        { path: 'csr.subjectAltName', message: expect.stringContaining('spiffe://') },
      ]);
    expect(issuesOf(() => parseSpiffeId('spiffe://weft.local:8443/ns/a/svc/b', 'san'))).toEqual([
      { path: 'san.trustDomain', message: expect.stringContaining('weft.local:8443') },
    ]);
    expect(issuesOf(() => parseSpiffeId('spiffe://weft.local/ns/a/svc/', 'san'))).toEqual([
      { path: 'san.service', message: expect.any(String) },
    ]);
  });

  it('validates a trust domain setting by its name', () => {
    expect(validateTrustDomain('prod.example.org')).toBe('prod.example.org');
    expect(issuesOf(() => validateTrustDomain('Prod', 'identity.trustDomain'))).toEqual([
      { path: 'identity.trustDomain', message: expect.any(String) },
    ]);
  });
});
