import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { sidecarConfigSchema } from '../config/sidecar-settings.js';
import { inboundMetricsText, wantsInbound } from './sidecar-inbound.js';
import { registrationOf } from './sidecar-plan.js';

const config = (input: Record<string, unknown>) =>
  z.parse(sidecarConfigSchema('sidecar'), {
    registry: { url: 'http://cp:8080' },
    service: { name: 'reviews' },
    endpoint: { host: '10.0.0.7', port: 9080 },
    ...input,
  });

const problems = (input: Record<string, unknown>) => {
  const result = z.safeParse(sidecarConfigSchema('sidecar'), {
    registry: { url: 'http://cp:8080' },
    service: { name: 'reviews' },
    ...input,
  });
  return result.error?.issues.map((i) => [i.path.join('.'), i.message]) ?? [];
};

describe('the sidecar’s inbound mTLS settings', () => {
  it('are off by default, permissive when on', () => {
    const plain = config({});
    expect(wantsInbound(plain)).toBe(false);
    expect(plain.mtls.mode).toBe('permissive');
    expect(wantsInbound(config({ identity: { enabled: true }, inbound: { port: 0 } }))).toBe(false);
    const on = config({ identity: { enabled: true }, inbound: { port: 15006 } });
    expect(wantsInbound(on)).toBe(true);
    expect(on.inbound.host).toBe('0.0.0.0');
  });

  it('refuses an inbound port without an identity or an app port, and a mode that does not exist', () => {
    expect(problems({ register: false, inbound: { port: 15006 } })).toEqual([
      ['inbound.port', 'needs identity.enabled (the listener presents the workload certificate)'],
      ['endpoint.port', 'is required by inbound.port (the app to forward to)'],
    ]);
    expect(problems({ register: false, mtls: { mode: 'lenient' } })).toEqual([
      ['mtls.mode', 'must be one of permissive, strict'],
    ]);
  });

  it('registers the inbound port (never the app’s) with the identity in weft_mtls metadata', () => {
    const c = config({ identity: { enabled: true }, inbound: { port: 15006 } });
    expect(registrationOf(c)?.endpoint.value).toBe('10.0.0.7:9080');
    expect(registrationOf(c)).not.toHaveProperty('metadata');
    const registration = registrationOf(c, { port: 15006, spiffeId: 'spiffe://weft.local/ns/default/svc/reviews' });
    expect(registration).toMatchObject({
      service: 'reviews',
      endpoint: { type: 'http', value: '10.0.0.7:15006' },
      metadata: { weft_mtls: 'spiffe://weft.local/ns/default/svc/reviews' },
    });
  });

  it('names the inbound proxy’s metric families weft_inbound_*', () => {
    const text = [
      '# HELP weft_requests_total Calls.',
      '# TYPE weft_requests_total counter',
      'weft_requests_total{service="reviews",code="200"} 3',
      'weft_authz_denied_total{service="reviews"} 1',
      '',
    ].join('\n');
    expect(inboundMetricsText(text)).toBe(
      [
        '# HELP weft_inbound_requests_total Calls.',
        '# TYPE weft_inbound_requests_total counter',
        'weft_inbound_requests_total{service="reviews",code="200"} 3',
        'weft_inbound_authz_denied_total{service="reviews"} 1',
        '',
      ].join('\n'),
    );
  });
});
