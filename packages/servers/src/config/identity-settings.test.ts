import { describe, expect, it } from 'vitest';
import { controllerOptions } from '../cli/server-options.js';
import { configFixture } from './config-fixture.js';
import { ControllerConfigSchema, SidecarConfigSchema } from './schemas.js';

const controller = configFixture('controller', ControllerConfigSchema, 'weft-identity-config-');
const sidecar = configFixture('sidecar', SidecarConfigSchema, 'weft-identity-sidecar-');

describe('identity settings', () => {
  it('default to a generated CA in weft.local with 24 h certificates, and reach the server options in ms', async () => {
    const { config } = await controller.load([]);
    expect(config.identity).toEqual({
      enabled: true,
      trustDomain: 'weft.local',
      certTtl: 86_400_000,
      requireServiceBinding: false,
      ca: { ttl: 31_536_000_000 },
    });
    const loaded = await controller.load(['--ca-cert', 'ca.crt', '--ca-key', 'ca.key', '--identity-cert-ttl', '1h'], {
      WEFT_IDENTITY_TRUST_DOMAIN: 'prod.example',
    });
    expect(controllerOptions(loaded.config, []).identity).toEqual({
      enabled: true,
      trustDomain: 'prod.example',
      certTtlMs: 3_600_000,
      requireServiceBinding: false,
      ca: { certFile: 'ca.crt', keyFile: 'ca.key', file: undefined, ttlMs: 31_536_000_000 },
    });
    expect(
      (await controller.load([], {}, 'identity:\n  ca:\n    certFile: a.pem\n    keyFile: b.pem\n')).config.identity.ca,
    ).toMatchObject({
      certFile: 'a.pem',
      keyFile: 'b.pem',
    });
  });

  it('turn identity.requireServiceBinding on from a flag, the environment or the file', async () => {
    const flag = await controller.load(['--identity-require-service-binding']);
    expect(controllerOptions(flag.config, []).identity?.requireServiceBinding).toBe(true);
    const env = await controller.load([], { WEFT_IDENTITY_REQUIRE_SERVICE_BINDING: 'true' });
    expect(env.config.identity.requireServiceBinding).toBe(true);
    const file = await controller.load([], {}, 'identity:\n  requireServiceBinding: true\n');
    expect(file.config.identity.requireServiceBinding).toBe(true);
  });

  it('name each bad or contradictory setting', async () => {
    expect(await controller.problems(['--ca-cert', 'ca.crt'])).toEqual([
      'identity.ca.keyFile: is required with identity.ca.certFile',
    ]);
    expect(await controller.problems(['--identity-ca-file', 'ca.pem', '--ca-cert', 'a', '--ca-key', 'b'])).toEqual([
      'identity.ca.file = "ca.pem" (from --identity-ca-file): give identity.ca.file (a generated CA) or identity.ca.certFile/keyFile, not both',
    ]);
    expect(
      await controller.problems(['--identity-trust-domain', 'Weft.Local', '--identity-cert-ttl', '500ms']),
    ).toEqual([
      expect.stringMatching(
        /^identity\.trustDomain = "Weft\.Local" \(from --identity-trust-domain\): must be a SPIFFE trust domain/,
      ),
      'identity.certTtl = "500ms" (from --identity-cert-ttl): must be at least 1s',
    ]);
  });

  it('turn the sidecar’s identity on only with a service and a controller to ask', async () => {
    expect((await sidecar.load(['--no-register', '--registry-url', 'http://cp:8080'])).config.identity).toEqual({
      enabled: false,
    });
    expect(
      (
        await sidecar.load([
          '--identity-enabled',
          '--service-name',
          'reviews',
          '--no-register',
          '--registry-url',
          'http://cp:8080',
        ])
      ).config.identity,
    ).toEqual({ enabled: true });
    expect(await sidecar.problems(['--identity-enabled', '--no-register', '--no-proxy'])).toEqual([
      'service.name: is required by identity.enabled (the identity names it)',
      'controller.url: is required by identity.enabled (the controller signs the certificate)',
    ]);
  });
});
