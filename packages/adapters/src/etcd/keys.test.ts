import { describe, expect, it } from 'vitest';
import { decodeInstance, encodeInstance, instanceKey, parseInstanceKey, prefixRangeEnd } from './keys.js';

const instance = {
  id: 'e3527005a80b2e25',
  namespace: 'default',
  service: 'reviews',
  endpoint: { type: 'http' as const, value: '10.0.0.1:9080', host: '10.0.0.1', port: 9080 },
  tags: ['version=v1'],
  metadata: { zone: 'a' },
  status: 'UP' as const,
  ttl: 30,
  registeredAt: 1,
  lastHeartbeat: 2,
};

describe('etcd key layout', () => {
  it('is <prefix>/<namespace>/services/<service>/<id>, with names URI-encoded', () => {
    expect(instanceKey('/weft', 'default', 'reviews', 'abc')).toBe('/weft/default/services/reviews/abc');
    expect(instanceKey('/weft', 'team/a', 'svc/x', 'abc')).toBe('/weft/team%2Fa/services/svc%2Fx/abc');
    expect(parseInstanceKey('/weft', '/weft/team%2Fa/services/svc%2Fx/abc')).toEqual({
      namespace: 'team/a',
      service: 'svc/x',
      id: 'abc',
    });
    expect(parseInstanceKey('/weft', '/weft/default/other/reviews/abc')).toBeUndefined();
    expect(parseInstanceKey('/weft', '/weft/default/services/reviews')).toBeUndefined();
    expect(parseInstanceKey('/weft', '/weft/default/services/reviews/%E0%A4%A')).toBeUndefined();
  });

  it('ends a prefix range where etcd does: the last byte below 0xff, plus one', () => {
    expect(prefixRangeEnd(Buffer.from('/weft/')).toString()).toBe('/weft0');
    expect([...prefixRangeEnd(Buffer.from([0x61, 0xff]))]).toEqual([0x62]);
    expect([...prefixRangeEnd(Buffer.from([0xff]))]).toEqual([0]);
  });

  it('round-trips an instance and explains what is wrong with a bad value', () => {
    const key = instanceKey('/weft', 'default', 'reviews', instance.id);
    expect(decodeInstance('/weft', key, encodeInstance(instance))).toEqual({ instance });
    expect(decodeInstance('/weft', key, '{oops')).toMatchObject({ problem: expect.stringMatching(/not JSON/) });
    expect(decodeInstance('/weft', key, JSON.stringify({ ...instance, ttl: 'x' }))).toMatchObject({
      problem: expect.stringMatching(/ttl/),
    });
    expect(
      decodeInstance('/weft', instanceKey('/weft', 'default', 'other', instance.id), encodeInstance(instance)),
    ).toMatchObject({ problem: expect.stringMatching(/does not match its key/) });
  });
});
