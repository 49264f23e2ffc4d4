import { describe, expect, it } from 'vitest';
import { mapInstances } from './mapping.js';

describe('mapInstances', () => {
  it('maps Amalgam8 instances to Weft instances in the namespace, splitting host and port', () => {
    const { instances, bad } = mapInstances(
      {
        instances: [
          {
            id: 'a1',
            service_name: 'reviews',
            endpoint: { type: 'http', value: '10.0.0.7:9080' },
            ttl: 30,
            status: 'OUT_OF_SERVICE',
            metadata: { zone: 'b' },
            last_heartbeat: '2026-12-03T10:00:23.37Z',
            tags: ['version=v2'],
          },
          { id: 'u1', service_name: 'legacy', endpoint: { type: 'user', value: 'queue://jobs' } },
        ],
      },
      'team-a',
    );
    expect(bad).toEqual([]);
    expect(instances[0]).toEqual({
      id: 'a1',
      namespace: 'team-a',
      service: 'reviews',
      endpoint: { type: 'http', value: '10.0.0.7:9080', host: '10.0.0.7', port: 9080 },
      tags: ['version=v2'],
      metadata: { zone: 'b' },
      status: 'OUT_OF_SERVICE',
      ttl: 30,
      registeredAt: Date.parse('2026-12-03T10:00:23.370Z'),
      lastHeartbeat: Date.parse('2026-12-03T10:00:23.370Z'),
    });
    // Fields left out on the wire (Go's omitempty) take their defaults; `user` values stay opaque.
    expect(instances[1]).toMatchObject({
      endpoint: { type: 'user', value: 'queue://jobs' },
      status: 'UP',
      ttl: 0,
      tags: [],
    });
    expect(instances[1]?.endpoint.host).toBeUndefined();
  });

  it('leaves out, and names, the entries that cannot be mapped', () => {
    const { instances, bad } = mapInstances(
      {
        instances: [
          { id: 'ok', service_name: 's', endpoint: { type: 'http', value: '1.2.3.4:80' } },
          { id: 'noport', service_name: 's', endpoint: { type: 'http', value: '1.2.3.4' } },
          { service_name: 's', endpoint: { type: 'carrier-pigeon', value: 'x' } },
          'junk',
        ],
      },
      'default',
    );
    expect(instances.map((i) => i.id)).toEqual(['ok']);
    expect(bad.map((b) => b.object)).toEqual(['instance noport', 'instances[2]', 'instances[3]']);
    expect(bad[0]?.problem).toMatch(/endpoint.value: must be "host:port"/);
  });

  it('refuses a body that is not a listing', () => {
    expect(() => mapInstances({ services: [] }, 'default')).toThrow(/without an `instances` array/);
  });
});
