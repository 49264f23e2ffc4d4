import { describe, expect, it } from 'vitest';
import { issuesByField, refusalText } from './refusal.js';

describe('refusalText', () => {
  it('leads with the error code, or with the status when the body has none', () => {
    expect(refusalText({ status: 400, body: { error: 'bad rule', code: 'WEFT_ERR_INVALID_ARGUMENT' } })).toBe(
      'WEFT_ERR_INVALID_ARGUMENT: bad rule',
    );
    expect(refusalText({ status: 503, body: { error: 'no store' } })).toBe('503: no store');
  });
});

describe('issuesByField', () => {
  const issues = [
    { path: 'peer.identity.trustDomain', message: 'is not this mesh' },
    { path: 'peer.identity', message: 'second issue of the same field' },
    { path: 'namespace', message: 'no field holds it' },
    { path: 'path', message: 'must start with /' },
  ];

  it('puts the first issue of each field beside it, and leaves out those no field holds', () => {
    const fieldOf = (issue: { path: string }) =>
      issue.path.startsWith('peer.identity') ? 'identity' : issue.path === 'path' ? 'path' : undefined;
    expect(issuesByField(issues, fieldOf)).toEqual({
      identity: 'peer.identity.trustDomain: is not this mesh',
      path: 'path: must start with /',
    });
  });

  it('places nothing when no field holds any issue', () => {
    expect(issuesByField(issues, () => undefined)).toEqual({});
  });
});
