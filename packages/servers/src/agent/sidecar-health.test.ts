import { describe, expect, it } from 'vitest';
import type { SidecarConfig } from '../config/sidecar-settings.js';
import { type HealthInput, healthBody } from './sidecar-health.js';

// healthBody reads only these of the config.
const config = { mode: 'sidecar', service: { name: 'reviews', tags: [] } } as unknown as SidecarConfig;
const input: HealthInput = {
  config,
  mesh: undefined,
  registration: undefined,
  health: undefined,
  appRunning: 1,
  draining: false,
};

describe('healthBody', () => {
  it('has no identity or inbound section without identities', () => {
    const body = healthBody(input);
    expect(body).not.toHaveProperty('identity');
    expect(body).not.toHaveProperty('inbound');
    expect(body.status).toBe('ok');
  });

  it('shows them as given when enabled', () => {
    const identity = {
      spiffeId: 'spiffe://weft.local/ns/default/svc/reviews',
      notAfter: '2026-12-04T08:00:00.000Z',
      renewsInSeconds: 120,
      expired: false,
    };
    const inbound = { listening: false, port: 15006, mtls: 'strict' as const };
    expect(healthBody({ ...input, identity, inbound })).toMatchObject({ status: 'ok', identity, inbound });
  });
});
