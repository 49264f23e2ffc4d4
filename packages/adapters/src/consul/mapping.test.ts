import { describe, expect, it } from 'vitest';
import type { ConsulHealthEntry } from './client.js';
import { consulIdOf, decodeMetadata, encodeMetadata, entryToInstance, weftIdOf } from './mapping.js';

const mapping = { endpointType: 'http' as const, emptyAddress: 'node' as const, source: 'consul' };

function entry(service: Partial<NonNullable<ConsulHealthEntry['Service']>>, checks: ConsulHealthEntry['Checks'] = []) {
  return {
    Node: { Node: 'n1', Address: '192.168.0.9' },
    Service: { ID: 'web-1', Service: 'web', Address: '10.0.0.1', Port: 80, ...service },
    Checks: checks,
  } satisfies ConsulHealthEntry;
}

describe('Consul metadata mapping', () => {
  it('keeps string values with valid keys as meta and the rest as JSON chunks, losslessly', () => {
    const metadata = { owner: 'a', n: 1, nested: { x: [1, 2] }, 'bad key': 'v', long: 'x'.repeat(600) };
    const meta = encodeMetadata(metadata, 4);
    expect(meta.owner).toBe('a');
    expect(meta.n).toBeUndefined();
    expect(Object.keys(meta).filter((k) => k.startsWith('weft-metadata-')).length).toBeGreaterThan(1);
    for (const v of Object.values(meta)) expect(v.length).toBeLessThanOrEqual(512);
    expect(decodeMetadata(meta)).toEqual(metadata);
  });

  it('moves everything to JSON when Consul would get more than 64 pairs', () => {
    const metadata = Object.fromEntries(Array.from({ length: 70 }, (_, i) => [`k${i}`, 'v']));
    const meta = encodeMetadata(metadata, 4);
    expect(Object.keys(meta).length + 4).toBeLessThanOrEqual(64);
    expect(decodeMetadata(meta)).toEqual(metadata);
  });

  it('namespaces instance ids outside the default namespace', () => {
    expect(consulIdOf('abc', 'default')).toBe('abc');
    expect(consulIdOf('abc', 'team')).toBe('team--abc');
    expect(weftIdOf('team--abc', 'team')).toBe('abc');
  });
});

describe('entryToInstance', () => {
  it('reads a foreign service: tags, meta as metadata, UP', () => {
    const r = entryToInstance(entry({ Tags: ['version=v1'], Meta: { zone: 'a' } }), mapping);
    expect(r.kind).toBe('instance');
    if (r.kind !== 'instance') return;
    expect(r.instance).toMatchObject({
      id: 'web-1',
      service: 'web',
      status: 'UP',
      tags: ['version=v1'],
      metadata: { zone: 'a' },
      endpoint: { type: 'http', value: '10.0.0.1:80', host: '10.0.0.1', port: 80 },
    });
  });

  it('critical → left out; maintenance → OUT_OF_SERVICE; warning → UP; weft-status STARTING', () => {
    expect(entryToInstance(entry({}, [{ CheckID: 'service:web-1', Status: 'critical' }]), mapping).kind).toBe(
      'unhealthy',
    );
    const maint = entryToInstance(entry({}, [{ CheckID: '_service_maintenance:web-1', Status: 'critical' }]), mapping);
    expect(maint.kind === 'instance' && maint.instance.status).toBe('OUT_OF_SERVICE');
    const warn = entryToInstance(entry({}, [{ CheckID: 'c', Status: 'warning' }]), mapping);
    expect(warn.kind === 'instance' && warn.instance.status).toBe('UP');
    const starting = entryToInstance(entry({ Meta: { 'weft-status': 'STARTING' } }), mapping);
    expect(starting.kind === 'instance' && starting.instance.status).toBe('STARTING');
  });

  it('an empty address falls back to the node, or is a coded warning naming the service', () => {
    const fallback = entryToInstance(entry({ Address: '' }), mapping);
    expect(fallback.kind === 'instance' && fallback.instance.endpoint.value).toBe('192.168.0.9:80');
    const skipped = entryToInstance(entry({ Address: '' }), { ...mapping, emptyAddress: 'skip' });
    expect(skipped.kind).toBe('skipped');
    if (skipped.kind === 'skipped') {
      expect(skipped.warning.code).toBe('WEFT_WARN_CONSUL_EMPTY_ADDRESS');
      expect(skipped.warning.object).toContain('web-1');
    }
    const bad = entryToInstance(entry({ Meta: { 'weft-metadata-0': '{' } }), mapping);
    expect(bad.kind === 'skipped' && bad.warning.code).toBe('WEFT_WARN_CONSUL_BAD_SERVICE');
  });
});
