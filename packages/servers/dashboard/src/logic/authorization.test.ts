import { compileAuthorization, parseAuthzRequest } from '@weft/core';
import { describe, expect, it } from 'vitest';
import {
  authzExplainRequest,
  describeOperation,
  describeSource,
  fieldOfIssue,
  policyRows,
  policySummary,
} from './authorization.js';

const empty = { destination: '', identity: '', ip: '', tags: '', method: '', path: '' };

describe('policyRows', () => {
  it('puts deny policies first and writes each from / to entry in words', () => {
    const rows = policyRows([
      {
        id: 'reviews-from-productpage',
        destination: 'reviews',
        action: 'allow',
        from: [{ services: ['productpage'], namespaces: ['default'] }, { ipBlocks: ['10.0.0.0/8'] }],
        to: [{ methods: ['GET', 'HEAD'], paths: [{ prefix: '/reviews/' }, { exact: '/health' }] }],
      },
      { id: 'block-lab', destination: '*', action: 'deny', from: [{ notIpBlocks: ['127.0.0.0/8'] }] },
    ]);
    expect(rows).toEqual([
      {
        id: 'block-lab',
        destination: '* (every service)',
        action: 'deny',
        from: ['IP not in 127.0.0.0/8'],
        to: ['any request'],
      },
      {
        id: 'reviews-from-productpage',
        destination: 'reviews',
        action: 'allow',
        from: ['service productpage and namespace default', 'IP in 10.0.0.0/8'],
        to: ['GET, HEAD /reviews/* or /health'],
      },
    ]);
  });

  it('names every kind of condition', () => {
    expect(describeSource({ tags: ['version=v1'], authenticated: false })).toBe(
      'tags version=v1 and not authenticated',
    );
    expect(describeOperation({ headers: { 'X-Debug': { present: true }, accept: { regex: '^text/' } } })).toBe(
      'header x-debug present header accept ~ /^text//',
    );
  });
});

describe('policySummary', () => {
  it('says what an empty policy set means, by the default action', () => {
    expect(policySummary({ defaultAction: 'allow', policies: [] })).toBe(
      "No policy: every call is allowed (the namespace's default action is allow).",
    );
    expect(policySummary({ defaultAction: 'deny', policies: [] })).toMatch(/^No policy: every call is denied/);
  });

  it('names the services an allow policy closes to everything else', () => {
    expect(
      policySummary({ defaultAction: 'allow', policies: [{ id: 'a', destination: 'reviews', action: 'allow' }] }),
    ).toBe(
      'A matching deny policy refuses a call. reviews accepts only the calls an allow policy allows. A call no policy applies to is allowed (default action allow).',
    );
  });

  it('agrees with core on a service no policy names', () => {
    // The sentence the view shows for the default must be what core's Authorizer decides.
    const doc = {
      defaultAction: 'deny' as const,
      policies: [{ id: 'a', destination: 'reviews', action: 'allow' as const }],
    };
    expect(compileAuthorization(doc).decide({ destination: 'ratings' }).allowed).toBe(false);
    expect(policySummary(doc)).toMatch(/A call no policy applies to is denied/);
  });
});

describe('authzExplainRequest', () => {
  it('builds the body of POST /v1/authorization/explain, which core reads', () => {
    const built = authzExplainRequest({
      destination: ' reviews ',
      identity: 'spiffe://weft.local/ns/default/svc/productpage',
      ip: '127.0.0.1',
      tags: 'version=v1, canary',
      method: 'get',
      path: '/reviews/1',
    });
    expect(built).toEqual({
      request: {
        destination: 'reviews',
        method: 'GET',
        path: '/reviews/1',
        peer: {
          ip: '127.0.0.1',
          identity: 'spiffe://weft.local/ns/default/svc/productpage',
          tags: ['version=v1', 'canary'],
        },
      },
    });
    if (!('request' in built)) throw new Error('unreachable');
    expect(parseAuthzRequest(built.request).peer?.identity).toEqual({
      trustDomain: 'weft.local',
      namespace: 'default',
      service: 'productpage',
    });
    expect(authzExplainRequest({ ...empty, destination: 'ratings' })).toEqual({ request: { destination: 'ratings' } });
  });

  it('names each field that is wrong', () => {
    expect(authzExplainRequest({ ...empty, identity: 'productpage', path: 'reviews' })).toEqual({
      problems: {
        destination: 'is required: the service called',
        identity: 'must be a SPIFFE ID: spiffe://<trust domain>/ns/<namespace>/svc/<service>',
        path: 'must start with /',
      },
    });
  });

  it('places the server’s issues at the form’s fields', () => {
    expect(fieldOfIssue({ path: 'peer.identity.trustDomain', message: '' })).toBe('identity');
    expect(fieldOfIssue({ path: 'peer.tags[0]', message: '' })).toBe('tags');
    expect(fieldOfIssue({ path: 'destination', message: '' })).toBe('destination');
    expect(fieldOfIssue({ path: 'extra', message: '' })).toBeUndefined();
  });
});
