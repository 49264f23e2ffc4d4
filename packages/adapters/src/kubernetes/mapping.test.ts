import { describe, expect, it } from 'vitest';
import { type SliceLike, slicesToInstances, statusOf } from './mapping.js';

const base = { port: undefined, endpointType: 'http' as const, source: 'kubernetes:default', podLabels: undefined };

function slice(
  name: string,
  service: string,
  endpoints: NonNullable<SliceLike['endpoints']>,
  ports: NonNullable<SliceLike['ports']>,
): SliceLike {
  return {
    metadata: { name, namespace: 'default', labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    endpoints,
    ports,
  };
}

describe('EndpointSlice mapping', () => {
  it('maps conditions to statuses', () => {
    expect(statusOf(undefined)).toBe('UP');
    expect(statusOf({ ready: true })).toBe('UP');
    expect(statusOf({ ready: false })).toBe('STARTING');
    expect(statusOf({ ready: false, terminating: true })).toBe('OUT_OF_SERVICE');
    expect(statusOf({ ready: true, terminating: true })).toBe('OUT_OF_SERVICE');
  });

  it('merges slices of a service, keeps the best status of a repeated address, skips slices without ports', () => {
    const { instances, warnings } = slicesToInstances(
      [
        slice('a', 'web', [{ addresses: ['10.0.0.1'], conditions: { ready: false } }], [{ name: 'http', port: 80 }]),
        slice('b', 'web', [{ addresses: ['10.0.0.1', '10.0.0.2'] }], [{ name: 'http', port: 80 }]),
        slice('c', 'web', [{ addresses: ['10.0.0.3'] }], []),
        slice('d', 'dns', [{ addresses: ['10.0.0.4'] }], [{ name: 'dns', port: 53, protocol: 'UDP' }]),
      ],
      base,
    );
    expect(instances.map((i) => `${i.service} ${i.endpoint.type}://${i.endpoint.value} ${i.status}`)).toEqual(
      expect.arrayContaining(['web http://10.0.0.1:80 UP', 'web http://10.0.0.2:80 UP', 'dns udp://10.0.0.4:53 UP']),
    );
    expect(instances).toHaveLength(3);
    expect(warnings.map((w) => [w.code, w.object])).toEqual([
      ['WEFT_WARN_K8S_SLICE_WITHOUT_PORTS', 'EndpointSlice default/c'],
    ]);
  });

  it('picks named or numbered ports and turns pod labels into sorted tags', () => {
    const s = slice(
      'a',
      'web',
      [{ addresses: ['10.0.0.1'], targetRef: { kind: 'Pod', name: 'p1' } }],
      [
        { name: 'http', port: 80 },
        { name: 'grpc', port: 9090, appProtocol: 'https' },
      ],
    );
    const podLabels = (ns: string, name: string) =>
      ns === 'default' && name === 'p1' ? { version: 'v2', app: 'web' } : undefined;
    const grpc = slicesToInstances([s], { ...base, port: 'grpc', podLabels }).instances[0];
    expect(grpc?.endpoint).toMatchObject({ type: 'https', value: '10.0.0.1:9090' });
    expect(grpc?.tags).toEqual(['app=web', 'version=v2']);
    expect(slicesToInstances([s], { ...base, port: 80 }).instances[0]?.endpoint.port).toBe(80);
    const missing = slicesToInstances([s], { ...base, port: 'metrics' });
    expect(missing.instances).toEqual([]);
    expect(missing.warnings[0]?.code).toBe('WEFT_WARN_K8S_PORT_NOT_FOUND');
  });
});
