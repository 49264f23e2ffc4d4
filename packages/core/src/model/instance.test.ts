import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, isWeftError, parseOrThrow } from '../errors/index.js';
import { fromAmalgam8Registration, toAmalgam8Instance } from './amalgam8.js';
import { splitHostPort } from './endpoint.js';
import { instanceId } from './id.js';
import { RegistrationSchema } from './instance.js';

const parse = (input: unknown) => parseOrThrow(RegistrationSchema, input, 'registration');

function issuesOf(input: unknown) {
  try {
    parse(input);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidArgumentError);
    return (err as InvalidArgumentError).issues;
  }
  throw new Error('expected a validation error');
}

describe('RegistrationSchema', () => {
  it('normalises host+port and value forms to the same endpoint', () => {
    const a = parse({ service: 'reviews', endpoint: { type: 'http', value: '10.0.0.1:9080' } });
    const b = parse({ service: 'reviews', endpoint: { type: 'http', host: '10.0.0.1', port: 9080 } });
    expect(a.endpoint).toEqual({ type: 'http', value: '10.0.0.1:9080', host: '10.0.0.1', port: 9080 });
    expect(b.endpoint).toEqual(a.endpoint);
    expect(a).toMatchObject({ tags: [], metadata: {}, status: 'UP', ttl: 0 });
  });

  it('handles IPv6 and opaque user endpoints', () => {
    expect(splitHostPort('[::1]:80')).toEqual({ host: '::1', port: 80 });
    expect(splitHostPort('::1:80')).toBeUndefined();
    expect(parse({ service: 's', endpoint: { type: 'tcp', host: '::1', port: 5 } }).endpoint.value).toBe('[::1]:5');
    expect(parse({ service: 's', endpoint: { type: 'user', value: 'queue://jobs' } }).endpoint).toEqual({
      type: 'user',
      value: 'queue://jobs',
    });
  });

  it('names every bad field, not just the first', () => {
    const issues = issuesOf({
      service: 'x'.repeat(65),
      endpoint: { type: 'http', value: 'no-port' },
      status: 'DOWN',
      ttl: -1,
      metadata: { blob: 'y'.repeat(1100) },
    });
    const byPath = Object.fromEntries(issues.map((i) => [i.path, i.message]));
    expect(byPath.service).toBe('must be at most 64 bytes (got 65)');
    expect(byPath['endpoint.value']).toMatch(/must be "host:port" for a http endpoint/);
    expect(byPath.status).toMatch(/UP|STARTING|OUT_OF_SERVICE/);
    expect(byPath.ttl).toBe('must not be negative');
    expect(byPath.metadata).toMatch(/at most 1024 bytes as JSON/);
  });

  it('counts bytes, not characters, against the limits', () => {
    const name = 'é'.repeat(33); // 66 bytes, 33 characters
    expect(issuesOf({ service: name, endpoint: { value: 'a:1' } })[0]).toEqual({
      path: 'service',
      message: 'must be at most 64 bytes (got 66)',
    });
    const longValue = `${'h'.repeat(125)}:99`; // 128 bytes exactly is allowed
    expect(parse({ service: 's', endpoint: { value: longValue } }).endpoint.port).toBe(99);
    expect(issuesOf({ service: 's', endpoint: { value: `h${longValue}` } })[0]?.path).toBe('endpoint.value');
  });

  it('rejects unknown fields and both endpoint forms at once', () => {
    expect(issuesOf({ service: 's', endpoint: { value: 'a:1' }, colour: 'red' })[0]?.message).toMatch(/colour/);
    expect(issuesOf({ service: 's', endpoint: { value: 'a:1', host: 'a', port: 1 } })[0]?.path).toBe('endpoint');
  });

  it('produces a coded error with the zod error as cause and a readable message', () => {
    try {
      parse({ endpoint: { value: 'a:1' } });
      expect.unreachable();
    } catch (err) {
      expect(isWeftError(err, 'WEFT_ERR_INVALID_ARGUMENT')).toBe(true);
      expect((err as Error).message).toMatch(/^Invalid registration: service: /);
      expect((err as Error).cause).toBeDefined();
    }
  });
});

describe('instanceId', () => {
  it('is the first 16 hex of sha256(service/type/value)', () => {
    // echo -n 'reviews/http/10.0.0.1:9080' | sha256sum
    expect(instanceId('reviews', 'http', '10.0.0.1:9080')).toBe('e3527005a80b2e25');
    expect(instanceId('reviews', 'http', '10.0.0.1:9080')).toBe(instanceId('reviews', 'http', '10.0.0.1:9080'));
    expect(instanceId('reviews', 'http', '10.0.0.1:9080')).not.toBe(instanceId('reviews', 'http', '10.0.0.1:9081'));
  });
});

describe('Amalgam8 wire mapping', () => {
  it('round-trips a registration body', () => {
    const reg = parse(
      fromAmalgam8Registration({
        service_name: 'reviews',
        endpoint: { type: 'http', value: '10.0.0.1:9080' },
        ttl: 60,
        tags: ['version=v1'],
      }),
    );
    const a8 = toAmalgam8Instance({
      ...reg,
      id: 'abc',
      namespace: 'default',
      registeredAt: 0,
      lastHeartbeat: Date.UTC(2026, 0, 1),
    });
    expect(a8).toMatchObject({
      service_name: 'reviews',
      endpoint: { type: 'http', value: '10.0.0.1:9080' },
      ttl: 60,
      last_heartbeat: '2026-01-01T00:00:00.000Z',
      tags: ['version=v1'],
    });
  });
});
