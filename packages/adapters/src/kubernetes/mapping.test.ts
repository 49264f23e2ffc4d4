import { describe, expect, it } from 'vitest';
import { isMtlsPort, MTLS_METADATA_KEY, type SliceLike, slicesToInstances, statusOf } from './mapping.js';

const base = {
  port: undefined,
  endpointType: 'http' as const,
  source: 'kubernetes:default',
  podLabels: undefined,
  trustDomain: 'weft.local',
};

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

describe('EndpointSlice mapping: mTLS ports', () => {
  type Ports = NonNullable<SliceLike['ports']>;
  const app = { name: 'http', port: 9080, protocol: 'TCP' };
  const byProtocol = { name: 'inbound', port: 15006, protocol: 'TCP', appProtocol: 'weft.dev/mtls' };
  const byName = { name: 'weft-mtls', port: 15007 };
  const reviewsId = 'spiffe://weft.local/ns/default/svc/reviews';

  // Each row: the slice's ports, the `port` option and trust domain, then the endpoint and
  // `weft_mtls` expected (undefined: plaintext, as before), the endpoint type and the warnings.
  const rows: Array<{
    name: string;
    ports: Ports;
    port?: string | number;
    trustDomain?: string;
    endpoint: string | undefined;
    identity: string | undefined;
    type?: string;
    warnings?: string[];
  }> = [
    { name: 'no marking: unchanged', ports: [app], endpoint: '10.0.0.1:9080', identity: undefined },
    {
      name: 'appProtocol weft.dev/mtls, after the app port: that port, announced',
      ports: [app, byProtocol],
      endpoint: '10.0.0.1:15006',
      identity: reviewsId,
    },
    { name: 'the port named weft-mtls', ports: [byName, app], endpoint: '10.0.0.1:15007', identity: reviewsId },
    {
      name: 'the mTLS port wins over the port option (callers come through the sidecar)',
      ports: [app, byProtocol],
      port: 'http',
      endpoint: '10.0.0.1:15006',
      identity: reviewsId,
    },
    {
      name: 'the trust domain option',
      ports: [byProtocol],
      trustDomain: 'prod.example.com',
      endpoint: '10.0.0.1:15006',
      identity: 'spiffe://prod.example.com/ns/default/svc/reviews',
    },
    {
      name: 'type: the configured one behind the mTLS port, even if its appProtocol were https',
      ports: [{ name: 'weft-mtls', port: 15006, appProtocol: 'https' }],
      endpoint: '10.0.0.1:15006',
      identity: reviewsId,
      type: 'http',
    },
    {
      name: 'a UDP port so marked is not an mTLS port',
      ports: [{ name: 'weft-mtls', port: 53, protocol: 'UDP' }],
      endpoint: '10.0.0.1:53',
      identity: undefined,
      type: 'udp',
    },
    {
      name: 'an mTLS port without a number: the slice is skipped, with a warning',
      ports: [app, { name: 'weft-mtls' }],
      endpoint: undefined,
      identity: undefined,
      warnings: ['WEFT_WARN_K8S_SLICE_WITHOUT_PORTS'],
    },
  ];

  it.each(rows)('$name', (row) => {
    const s: SliceLike = {
      metadata: { name: 'reviews-abc', namespace: 'default', labels: { 'kubernetes.io/service-name': 'reviews' } },
      endpoints: [{ addresses: ['10.0.0.1'] }],
      ports: row.ports,
    };
    const { instances, warnings } = slicesToInstances([s], {
      ...base,
      port: row.port,
      trustDomain: row.trustDomain ?? base.trustDomain,
    });
    expect(warnings.map((w) => w.code)).toEqual(row.warnings ?? []);
    expect(instances[0]?.endpoint.value).toBe(row.endpoint);
    expect(instances[0]?.metadata[MTLS_METADATA_KEY]).toBe(row.identity);
    if (row.type !== undefined) expect(instances[0]?.endpoint.type).toBe(row.type);
  });

  it('names the identity after the slice namespace and service, and keeps the other metadata', () => {
    const s: SliceLike = {
      metadata: { name: 'ratings-x', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'ratings' } },
      endpoints: [{ addresses: ['10.0.0.9'], targetRef: { kind: 'Pod', name: 'ratings-1' } }],
      ports: [byProtocol],
    };
    const [instance] = slicesToInstances([s], base).instances;
    expect(instance?.namespace).toBe('shop');
    expect(instance?.metadata).toMatchObject({
      [MTLS_METADATA_KEY]: 'spiffe://weft.local/ns/shop/svc/ratings',
      pod: 'ratings-1',
      slice: 'ratings-x',
    });
  });

  it('a slice that cannot form a SPIFFE ID is skipped with a warning, not thrown', () => {
    const s: SliceLike = {
      metadata: { name: 'odd', namespace: '', labels: { 'kubernetes.io/service-name': 'reviews' } },
      endpoints: [{ addresses: ['10.0.0.1'] }],
      ports: [byName],
    };
    const { instances, warnings } = slicesToInstances([s], base);
    expect(instances).toEqual([]);
    expect(warnings.map((w) => w.code)).toEqual(['WEFT_WARN_K8S_SLICE_WITHOUT_PORTS']);
  });

  it.each([
    [{ name: 'weft-mtls', port: 1 }, true],
    [{ name: 'x', port: 1, appProtocol: 'weft.dev/mtls' }, true],
    [{ name: 'x', port: 1, appProtocol: 'weft.dev/mtls', protocol: 'SCTP' }, false],
    [{ name: 'weft-mtls-2', port: 1 }, false],
    [{ name: 'http', port: 1, appProtocol: 'https' }, false],
  ])('isMtlsPort(%j) is %s', (port, expected) => {
    expect(isMtlsPort(port)).toBe(expected);
  });
});
