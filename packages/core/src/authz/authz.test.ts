import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../errors/specific.js';
import { compileAuthorization, parseAuthorization } from './compile.js';
import type { AuthzRequest } from './request.js';

const reviews = (extra: Partial<AuthzRequest> = {}): AuthzRequest => ({
  destination: 'reviews',
  method: 'GET',
  path: '/reviews/1?x=1',
  headers: {},
  ...extra,
});
const id = (service: string, namespace = 'default') => ({ trustDomain: 'weft.local', namespace, service });

function issuesOf(input: unknown) {
  try {
    parseAuthorization(input);
  } catch (err) {
    if (err instanceof InvalidArgumentError) return err.issues;
    throw err;
  }
  throw new Error('expected an InvalidArgumentError');
}

describe('authorization policies', () => {
  const doc = {
    defaultAction: 'deny',
    policies: [
      { id: 'block-lab', destination: '*', action: 'deny', from: [{ ipBlocks: ['10.0.0.0/8', '127.0.0.3'] }] },
      {
        id: 'productpage-reads',
        destination: 'reviews',
        action: 'allow',
        from: [{ services: ['productpage'] }],
        to: [{ methods: ['GET'], paths: [{ prefix: '/reviews/' }] }],
      },
      {
        id: 'admins-write',
        destination: 'reviews',
        action: 'allow',
        from: [{ namespaces: ['ops'] }],
        to: [{ headers: { 'X-Role': { exact: 'admin' } } }],
      },
      { id: 'public-health', destination: 'ratings', action: 'allow', to: [{ paths: [{ exact: '/health' }] }] },
    ],
  };
  const authz = compileAuthorization(doc);

  it.each([
    [
      'the allowed caller on an allowed path',
      reviews({ peer: { identity: id('productpage'), ip: '127.0.0.1' } }),
      true,
      'productpage-reads',
    ],
    [
      'a caller with another identity',
      reviews({ peer: { identity: id('details'), ip: '127.0.0.1' } }),
      false,
      undefined,
    ],
    ['a plaintext caller', reviews({ peer: { ip: '127.0.0.1' } }), false, undefined],
    [
      'the allowed caller writing',
      reviews({ method: 'POST', peer: { identity: id('productpage') } }),
      false,
      undefined,
    ],
    [
      'the allowed caller from a denied block',
      reviews({ peer: { identity: id('productpage'), ip: '10.1.2.3' } }),
      false,
      'block-lab',
    ],
    [
      'an IPv4-mapped address in a denied block',
      reviews({ peer: { identity: id('productpage'), ip: '::ffff:10.9.9.9' } }),
      false,
      'block-lab',
    ],
    [
      'a single denied address',
      reviews({ peer: { identity: id('productpage'), ip: '127.0.0.3' } }),
      false,
      'block-lab',
    ],
    [
      'the neighbour of a denied address',
      reviews({ peer: { identity: id('productpage'), ip: '127.0.0.2' } }),
      true,
      'productpage-reads',
    ],
    [
      'an ops admin by header',
      reviews({ method: 'DELETE', headers: { 'x-role': 'admin' }, peer: { identity: id('cli', 'ops') } }),
      true,
      'admins-write',
    ],
    [
      'an ops caller without the header',
      reviews({ method: 'DELETE', peer: { identity: id('cli', 'ops') } }),
      false,
      undefined,
    ],
    [
      'anyone on a public path',
      { destination: 'ratings', path: '/health', peer: { ip: '127.0.0.1' } },
      true,
      'public-health',
    ],
    [
      'anyone elsewhere on that service',
      { destination: 'ratings', path: '/ratings/1', peer: { ip: '127.0.0.1' } },
      false,
      undefined,
    ],
    [
      'a service no policy mentions (default deny)',
      { destination: 'details', peer: { ip: '127.0.0.1' } },
      false,
      undefined,
    ],
  ] as const)('%s', (_name, request, allowed, policy) => {
    const decision = authz.decide(request);
    expect(decision.allowed).toBe(allowed);
    expect(decision.policy).toBe(policy);
    // explain must reach the same verdict as decide.
    expect(authz.explain(request).decision).toEqual(decision);
  });

  it('a deny wins over a matching allow whatever the order', () => {
    const a = compileAuthorization([
      { id: 'allow-all', destination: 'reviews', action: 'allow', from: [{ ipBlocks: ['0.0.0.0/0'] }] },
      { id: 'deny-one', destination: 'reviews', action: 'deny', from: [{ ipBlocks: ['127.0.0.2'] }] },
    ]);
    expect(a.decide(reviews({ peer: { ip: '127.0.0.2' } }))).toMatchObject({ allowed: false, policy: 'deny-one' });
    expect(a.decide(reviews({ peer: { ip: '127.0.0.4' } }))).toMatchObject({ allowed: true, policy: 'allow-all' });
  });

  it('without policies for a destination the default action decides, allow unless given', () => {
    const open = compileAuthorization({ policies: [] });
    expect(open.decide(reviews())).toMatchObject({ allowed: true, policy: undefined });
    expect(open.decide(reviews()).reason).toContain('default action (allow)');
  });

  it('notIpBlocks fails closed when the peer address is unknown', () => {
    const a = compileAuthorization([
      { id: 'inside-only', destination: 'reviews', action: 'allow', from: [{ notIpBlocks: ['192.168.0.0/16'] }] },
    ]);
    expect(a.decide(reviews({ peer: { ip: '127.0.0.1' } })).allowed).toBe(true);
    expect(a.decide(reviews({ peer: { ip: '192.168.4.4' } })).allowed).toBe(false);
    expect(a.decide(reviews({})).allowed).toBe(false);
  });

  it('explain says why each policy did not match', () => {
    const e = authz.explain(reviews({ method: 'POST', peer: { identity: id('details'), ip: '127.0.0.1' } }));
    expect(e.decision.allowed).toBe(false);
    expect(e.policies.map((p) => [p.id, p.matched])).toEqual([
      ['block-lab', false],
      ['productpage-reads', false],
      ['admins-write', false],
    ]);
    expect(e.policies[0]?.failed).toBe('peer 127.0.0.1 is not in 10.0.0.0/8, 127.0.0.3');
    expect(e.policies[1]?.failed).toBe(
      'caller spiffe://weft.local/ns/default/svc/details is not one of services productpage',
    );
    expect(e.policies[2]?.failed).toBe('caller spiffe://weft.local/ns/default/svc/details is not in namespaces ops');
  });

  it('names every bad field', () => {
    expect(
      issuesOf({
        defaultAction: 'maybe',
        policies: [
          { id: 'a', destination: 'reviews', action: 'permit', from: [{ ipBlocks: ['10.0.0.0/33', 'ten'] }] },
          { id: 'a', destination: 'reviews', action: 'allow', from: [{}], to: [{ methods: [] }] },
        ],
      }),
    ).toEqual([
      { path: 'defaultAction', message: 'must be "allow" or "deny"' },
      { path: 'policies[0].action', message: 'must be "allow" or "deny"' },
      {
        path: 'policies[0].from[0].ipBlocks[0]',
        message: 'must end in a prefix length from 0 to 32 (got "10.0.0.0/33")',
      },
      {
        path: 'policies[0].from[0].ipBlocks[1]',
        message: 'must be an IP address or CIDR block such as 10.0.0.0/8 (got "ten")',
      },
      {
        path: 'policies[1].from[0]',
        message: 'give at least one of services, namespaces, tags, ipBlocks, notIpBlocks, authenticated',
      },
      { path: 'policies[1].to[0].methods', message: 'must list at least one entry (omit the field to match any)' },
      { path: 'policies[1].id', message: 'repeats the id of policies[0]' },
    ]);
  });
});
