/** The auth settings as the authenticator's chain: the jwt mode's claims, services binding included. */
import { describe, expect, it } from 'vitest';
import { toAuthModes } from './auth-modes.js';
import { configFixture } from './config-fixture.js';
import { ControlPlaneConfigSchema } from './schemas.js';

const fixture = configFixture('control-plane', ControlPlaneConfigSchema, 'weft-auth-modes-');
const secret = { WEFT_AUTH_JWT_SECRET: 'y'.repeat(32) };

async function modes(argv: string[], env: Record<string, string> = secret) {
  const { config } = await fixture.load(argv, env);
  const reported: string[] = [];
  const chain = await toAuthModes(config.auth, fixture.dir(), (path, message) =>
    reported.push(`${path.join('.')}: ${message}`),
  );
  expect(reported).toEqual([]);
  return chain;
}

describe('toAuthModes: the jwt mode’s claims', () => {
  it('binds tokens through the `services` claim by default, or the one auth.jwtServicesClaim names', async () => {
    expect(await modes(['--auth', 'jwt'])).toEqual([
      { type: 'jwt', secret: 'y'.repeat(32), claim: 'namespace', servicesClaim: 'services' },
    ]);
    expect(
      await modes(['--auth', 'jwt', '--auth-jwt-claim', 'tenant'], {
        ...secret,
        WEFT_AUTH_JWT_SERVICES_CLAIM: 'weft/services',
      }),
    ).toEqual([{ type: 'jwt', secret: 'y'.repeat(32), claim: 'tenant', servicesClaim: 'weft/services' }]);
  });

  it('refuses one claim for both, naming the setting', async () => {
    expect(await fixture.problems(['--auth', 'jwt', '--auth-jwt-services-claim', 'namespace'], secret)).toEqual([
      'auth.jwtServicesClaim = "namespace" (from --auth-jwt-services-claim): must differ from auth.jwtClaim (both are namespace)',
    ]);
    // Without the jwt mode the claims are not read: no conflict to report.
    expect((await fixture.load(['--auth-jwt-services-claim', 'namespace'])).config.auth.modes).toEqual(['none']);
  });
});
