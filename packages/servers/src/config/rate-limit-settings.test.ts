import { describe, expect, it } from 'vitest';
import { toRateLimit } from '../agent/sidecar-plan.js';
import { configFixture } from './config-fixture.js';
import { GatewayConfigSchema } from './schemas.js';

/** `weft gateway`'s config (no registration, so only the proxy's settings matter). */
const { load, problems } = configFixture('gateway', GatewayConfigSchema, 'weft-rate-limit-');
const base = ['--registry-url', 'http://127.0.0.1:1'];

describe('the rateLimit settings of weft sidecar / gateway', () => {
  const cases: Array<[string, string[], Record<string, string>, ReturnType<typeof toRateLimit>]> = [
    ['none by default', [], {}, undefined],
    ['per second from a flag', ['--rate-limit-rate', '100/s'], {}, { ratePerSecond: 100 }],
    [
      'per minute from the environment, per client IP',
      [],
      { WEFT_RATE_LIMIT_RATE: '30/m', WEFT_RATE_LIMIT_PER_SOURCE: 'client_ip', WEFT_RATE_LIMIT_BURST: '5' },
      { ratePerSecond: 0.5, burst: 5, perSource: 'client_ip' },
    ],
  ];
  it.each(cases)('%s', async (_name, flags, env, expected) => {
    const { config } = await load([...base, ...flags], env);
    expect(toRateLimit(config.rateLimit)).toEqual(expected);
  });

  it('names the field of a bad value, and a burst without a rate', async () => {
    expect(await problems([...base, '--rate-limit-rate', '100/h'])).toEqual([
      'rateLimit.rate = "100/h" (from --rate-limit-rate): must be requests per second or per minute, e.g. 100/s or 30/m',
    ]);
    expect(await problems([...base, '--rate-limit-rate', '0/s'])).toEqual([
      'rateLimit.rate = "0/s" (from --rate-limit-rate): must be greater than 0',
    ]);
    expect(await problems([...base, '--rate-limit-burst', '3'])).toEqual([
      'rateLimit.burst = 3 (from --rate-limit-burst): needs rateLimit.rate',
    ]);
  });
});
