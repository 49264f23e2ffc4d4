/** The wire details Go's encoder decided and the recording cannot show for every value. */
import { describe, expect, it } from 'vitest';
import { goJson, goTime } from '../../packages/servers/src/registry/go-json.js';
import { readSelection } from '../../packages/servers/src/registry/instance-filter.js';
import { wireInstance } from '../../packages/servers/src/registry/wire.js';

const instance = {
  id: '0123456789abcdef',
  namespace: 'default',
  service: 'reviews',
  endpoint: { type: 'http' as const, value: '10.0.0.1:80', host: '10.0.0.1', port: 80 },
  tags: [] as string[],
  metadata: {},
  status: 'UP' as const,
  ttl: 30,
  registeredAt: 0,
  lastHeartbeat: Date.UTC(2017, 0, 2, 3, 4, 5, 0),
};

describe('Go JSON', () => {
  it('renders times as Go’s RFC 3339 with trailing zeros of the fraction dropped', () => {
    expect(goTime(Date.UTC(2017, 0, 2, 3, 4, 5, 0))).toBe('2017-01-02T03:04:05Z');
    expect(goTime(Date.UTC(2017, 0, 2, 3, 4, 5, 100))).toBe('2017-01-02T03:04:05.1Z');
    expect(goTime(Date.UTC(2017, 0, 2, 3, 4, 5, 120))).toBe('2017-01-02T03:04:05.12Z');
    expect(goTime(Date.UTC(2017, 0, 2, 3, 4, 5, 7))).toBe('2017-01-02T03:04:05.007Z');
  });

  it('escapes <, >, & and the JavaScript line separators as Go does', () => {
    expect(goJson({ a: '<b>&\u2028\u2029' })).toBe('{"a":"\\u003cb\\u003e\\u0026\\u2028\\u2029"}');
    expect(goJson({ a: 'plain' })).toBe('{"a":"plain"}');
  });
});

describe('instances on the wire', () => {
  it('leave out empty metadata and tags (omitempty), keep the struct order', () => {
    expect(goJson(wireInstance(instance))).toBe(
      '{"id":"0123456789abcdef","service_name":"reviews","endpoint":{"type":"http","value":"10.0.0.1:80"},"ttl":30,"status":"UP","last_heartbeat":"2017-01-02T03:04:05Z"}',
    );
    const full = wireInstance({ ...instance, tags: ['v1'], metadata: { z: 1, a: [true] } });
    expect(Object.keys(full)).toEqual([
      'id',
      'service_name',
      'endpoint',
      'ttl',
      'status',
      'metadata',
      'last_heartbeat',
      'tags',
    ]);
  });

  it('project to the fields asked for, id and endpoint always', () => {
    expect(Object.keys(wireInstance(instance, new Set(['status'])))).toEqual(['id', 'endpoint', 'status']);
    expect(Object.keys(wireInstance(instance, new Set()))).toEqual(['id', 'endpoint']);
  });
});

describe('instance selections', () => {
  const up = instance;
  const starting = { ...instance, id: 'b', status: 'STARTING' as const, tags: ['v2', 'canary'] };
  const pick = (query: Record<string, unknown>) => [up, starting].filter(readSelection(query).matches).map((i) => i.id);

  it('hide STARTING and OUT_OF_SERVICE unless status or another filter is given', () => {
    expect(pick({})).toEqual([up.id]);
    expect(pick({ fields: 'id' })).toEqual([up.id]);
    expect(pick({ status: 'all' })).toEqual([up.id, 'b']);
    expect(pick({ status: 'Starting' })).toEqual(['b']);
    expect(pick({ service_name: 'reviews' })).toEqual([up.id, 'b']);
    expect(pick({ tags: 'canary,v2' })).toEqual(['b']);
    expect(pick({ tags: '' })).toEqual([]); // Go split "" into [""]: no instance has that tag
    expect(pick({ status: ['UP', 'STARTING'] })).toEqual([up.id]); // a repeated parameter counts once
    expect(pick({ index: '3', wait: '1s' })).toEqual([up.id]);
  });

  it('give equal keys to equal selections only', () => {
    const key = (q: Record<string, unknown>) => readSelection(q).key;
    expect(key({ tags: 'a', status: 'ALL', index: '4' })).toBe(key({ status: 'ALL', tags: 'a' }));
    expect(key({ tags: 'a' })).not.toBe(key({ tags: 'b' }));
  });

  it('name the bad parameter', () => {
    expect(() => readSelection({ fields: 'status,colour' })).toThrow(/fields: "colour" is not a field/);
    expect(() => readSelection({ ttl: '30' })).toThrow(/ttl: is not a string field/);
    expect(() => readSelection({ namespace: 'x' })).toThrow(/namespace: is not a field/);
  });
});
