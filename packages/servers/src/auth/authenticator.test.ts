/** The authenticator's modes: the namespace each gives, and the service binding only `jwt` can carry. */
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { AuthError, type Authenticator, type Credentials, createAuthenticator, principalOf } from './authenticator.js';

const SECRET = 'a-test-secret-of-at-least-32-characters';

async function jwt(claims: Record<string, unknown>, secret = SECRET): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(secret));
}

function credentials(token?: string, headers: Record<string, string> = {}): Credentials {
  return {
    authorization: token === undefined ? undefined : `Bearer ${token}`,
    header: (name) => headers[name],
  };
}

const jwtAuth = (servicesClaim?: string) =>
  createAuthenticator([{ type: 'jwt', secret: SECRET, ...(servicesClaim === undefined ? {} : { servicesClaim }) }]);

/** The AuthError a principal lookup rejects with. */
async function refusal(authenticator: Authenticator, token: string): Promise<AuthError> {
  const err = await principalOf(authenticator, credentials(token)).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(AuthError);
  return err as AuthError;
}

describe('createAuthenticator: service binding (jwt)', () => {
  it('binds a token to the services of its `services` claim: an array, or one name', async () => {
    const auth = jwtAuth();
    const many = await jwt({ namespace: 'team-a', services: ['reviews', 'ratings', 'reviews'] });
    expect(await principalOf(auth, credentials(many))).toEqual({
      namespace: 'team-a',
      services: ['reviews', 'ratings'],
    });
    const one = await jwt({ namespace: 'team-a', services: 'reviews' });
    expect(await principalOf(auth, credentials(one))).toEqual({ namespace: 'team-a', services: ['reviews'] });
    // The namespace alone, as before, for the routes that need no more.
    expect(await auth.namespace(credentials(one))).toBe('team-a');
  });

  it('leaves a token without the claim namespace-wide (services undefined)', async () => {
    const principal = await principalOf(jwtAuth(), credentials(await jwt({ namespace: 'team-a' })));
    expect(principal).toEqual({ namespace: 'team-a' });
    expect(principal.services).toBeUndefined();
  });

  it('reads the claim the mode names (servicesClaim), and only it', async () => {
    const auth = jwtAuth('weft/svc');
    const token = await jwt({ namespace: 'team-a', 'weft/svc': ['reviews'], services: ['ratings'] });
    expect(await principalOf(auth, credentials(token))).toEqual({ namespace: 'team-a', services: ['reviews'] });
  });

  it.each([
    ['a number', 7, /`services` claim must be a service name or a non-empty array .* got number 7/],
    ['null', null, /`services` claim must be .* got null/],
    ['an object', { reviews: true }, /`services` claim must be .* got an object/],
    ['an empty array', [], /`services` claim must be .*non-empty array.* got an array/],
    ['a non-string element', ['reviews', 3], /`services` claim\[1\] is not a service name .* got number 3/],
    [
      'a name with a slash',
      ['reviews/../ratings'],
      /`services` claim\[0\] is not a service name .*"reviews\/..\/ratings"/,
    ],
    ['an empty name', '', /`services` claim is not a service name .* got ""/],
    ['"..", a path segment SPIFFE refuses', '..', /`services` claim is not a service name/],
  ])('refuses a claim that is %s with a 401 naming it (never namespace-wide)', async (_what, value, message) => {
    const err = await refusal(jwtAuth(), await jwt({ namespace: 'team-a', services: value }));
    expect(err.status).toBe(401);
    expect(err.code).toBe('WEFT_ERR_UNAUTHORIZED');
    expect(err.message).toMatch(message);
  });

  it('names a custom claim in its refusals', async () => {
    const err = await refusal(jwtAuth('svc'), await jwt({ namespace: 'team-a', svc: false }));
    expect(err.message).toMatch(/the token's `svc` claim must be .* got boolean false/);
  });

  it('checks the signature before reading any claim', async () => {
    const forged = await jwt(
      { namespace: 'team-a', services: ['ratings'] },
      'another-secret-of-at-least-32-characters',
    );
    expect((await refusal(jwtAuth(), forged)).message).toMatch(/^invalid token/);
  });

  it('refuses a mode whose two claims are one', () => {
    expect(() => createAuthenticator([{ type: 'jwt', secret: SECRET, claim: 'sub', servicesClaim: 'sub' }])).toThrow(
      /services claim and the namespace claim are both `sub`/,
    );
  });
});

describe('createAuthenticator: the modes without a binding', () => {
  it('gives none, trusted and admin credentials the whole namespace', async () => {
    const admin = 'an-admin-token-of-some-length';
    const auth = createAuthenticator([
      { type: 'jwt', secret: SECRET },
      { type: 'admin', token: admin },
      { type: 'trusted' },
      { type: 'none', namespace: 'anon' },
    ]);
    expect(await principalOf(auth, credentials(admin, { 'a8-namespace': 'team-b' }))).toEqual({ namespace: 'team-b' });
    expect(await principalOf(auth, credentials('team-c'))).toEqual({ namespace: 'team-c' });
    expect(await principalOf(auth, credentials())).toEqual({ namespace: 'anon' });
    const bound = await jwt({ namespace: 'team-a', services: 'reviews' });
    expect(await principalOf(auth, credentials(bound))).toEqual({ namespace: 'team-a', services: ['reviews'] });
  });

  it('treats an authenticator without principal() (written before it) as namespace-wide', async () => {
    const legacy: Authenticator = { namespace: async () => 'team-a' };
    expect(await principalOf(legacy, credentials('x'))).toEqual({ namespace: 'team-a' });
  });
});
