import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../errors/index.js';
import { compile } from './compile.js';
import type { RateLimitSettings } from './rate-limit.js';

/** The settings compiled for one backend's `rate_limit`, or the validation issues as `{path: message}`. */
function compiled(rateLimit: unknown, id?: string): RateLimitSettings | Record<string, string> | undefined {
  try {
    const rules = compile([
      { ...(id === undefined ? {} : { id }), destination: 'svc', route: { backends: [{ rate_limit: rateLimit }] } },
    ]);
    return rules.evaluate({ destination: 'svc' }).backend?.rateLimit;
  } catch (err) {
    if (!(err instanceof InvalidArgumentError)) throw err;
    return Object.fromEntries(err.issues.map((i) => [i.path, i.message]));
  }
}

const at = 'rules[0].route.backends[0].rate_limit';

describe('a backend’s rate_limit', () => {
  const valid: Array<[string, unknown, Partial<RateLimitSettings>]> = [
    ['per second, burst defaults to the rate', { requests_per_second: 5 }, { ratePerSecond: 5, burst: 5 }],
    ['per minute, refilled evenly', { requests_per_minute: 120 }, { ratePerSecond: 2, burst: 120 }],
    ['a fractional rate still admits one', { requests_per_second: 0.5 }, { ratePerSecond: 0.5, burst: 1 }],
    ['an explicit burst', { requests_per_second: 100, burst: 10 }, { burst: 10, perSource: 'none' }],
    [
      'per calling service, with the default bound',
      { requests_per_second: 1, per_source: 'service' },
      { perSource: 'service', maxSources: 10_000 },
    ],
    [
      'per client IP, bounded',
      { requests_per_second: 1, per_source: 'client_ip', max_sources: 50 },
      { perSource: 'client_ip', maxSources: 50 },
    ],
  ];
  it.each(valid)('compiles %s', (_name, input, expected) => {
    expect(compiled(input)).toMatchObject(expected);
  });

  const invalid: Array<[string, unknown, Record<string, string>]> = [
    ['no rate', { burst: 3 }, { [at]: 'give exactly one of requests_per_second, requests_per_minute' }],
    [
      'two rates',
      { requests_per_second: 1, requests_per_minute: 60 },
      { [at]: 'give exactly one of requests_per_second, requests_per_minute' },
    ],
    ['a zero rate', { requests_per_second: 0 }, { [`${at}.requests_per_second`]: 'must be greater than 0' }],
    ['a fractional burst', { requests_per_second: 1, burst: 1.5 }, { [`${at}.burst`]: 'must be a whole number' }],
    [
      'an unknown source',
      { requests_per_second: 1, per_source: 'header' },
      { [`${at}.per_source`]: 'must be one of service, client_ip' },
    ],
    [
      'max_sources without per_source',
      { requests_per_second: 1, max_sources: 5 },
      { [`${at}.max_sources`]: 'only applies with per_source' },
    ],
  ];
  it.each(invalid)('refuses %s, naming the field', (_name, input, issues) => {
    expect(compiled(input)).toEqual(issues);
  });

  it('names its buckets by destination, rule and backend, so an update can keep them', () => {
    expect(compiled({ requests_per_second: 1 }, 'limit-svc')).toMatchObject({ scope: 'svc/limit-svc/0' });
    expect(compiled({ requests_per_second: 1 })).toMatchObject({ scope: 'svc/#0/0' });
  });

  it('is frozen plain data, shared by every decision of the backend', () => {
    const rules = compile([{ destination: 'svc', route: { backends: [{ rate_limit: { requests_per_second: 3 } }] } }]);
    const a = rules.evaluate({ destination: 'svc' }).backend?.rateLimit;
    expect(a).toBe(rules.evaluate({ destination: 'svc' }).backend?.rateLimit);
    expect(Object.isFrozen(a)).toBe(true);
  });
});
