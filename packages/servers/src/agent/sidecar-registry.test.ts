import { describe, expect, it } from 'vitest';
import { configFixture } from '../config/config-fixture.js';
import { SidecarConfigSchema } from '../config/schemas.js';
import { kubernetesTrustDomain } from './sidecar-registry.js';

const sidecar = configFixture('sidecar', SidecarConfigSchema, 'weft-sidecar-registry-');
// The least a kubernetes sidecar needs: its rules come from a controller.
const kubernetes = ['--registry-type', 'kubernetes', '--no-register', '--controller-url', 'http://cp:8080'];

describe('the trust domain of the Kubernetes source', () => {
  it('is identity.trustDomain, from a flag, the environment or the file', async () => {
    const flag = await sidecar.load([...kubernetes, '--identity-trust-domain', 'prod.example']);
    expect(kubernetesTrustDomain(flag.config)).toBe('prod.example');
    const env = await sidecar.load(kubernetes, { WEFT_IDENTITY_TRUST_DOMAIN: 'env.example' });
    expect(kubernetesTrustDomain(env.config)).toBe('env.example');
    const file = await sidecar.load(kubernetes, {}, 'identity:\n  trustDomain: file.example\n');
    expect(kubernetesTrustDomain(file.config)).toBe('file.example');
  });

  it('is Weft’s default, weft.local, when unset', async () => {
    expect(kubernetesTrustDomain((await sidecar.load(kubernetes)).config)).toBe('weft.local');
  });

  it('refuses what is not a SPIFFE trust domain, naming the setting', async () => {
    const problems = await sidecar.problems([...kubernetes, '--identity-trust-domain', 'Prod.Example']);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      /^identity\.trustDomain = "Prod\.Example" \(from --identity-trust-domain\): must be a SPIFFE trust domain/,
    );
  });
});
