import type { Dispatcher } from 'undici';
import { describe, expect, it } from 'vitest';
import { type Downstream, DownstreamEndpoint } from './interceptor-endpoint.js';

const handler: Dispatcher.DispatchHandler = {};

describe('DownstreamEndpoint', () => {
  it('sends each attempt down the chain with the origin rewritten to the endpoint, the rest as given', () => {
    const seen: Dispatcher.DispatchOptions[] = [];
    const downstream: Downstream = {
      dispatch: (opts) => {
        seen.push(opts);
        return true;
      },
    };
    const endpoint = new DownstreamEndpoint('http://10.0.0.7:9080', downstream);
    const opts: Dispatcher.DispatchOptions = {
      origin: 'http://reviews',
      path: '/api/1',
      method: 'GET',
      headers: ['host', 'reviews'],
    };
    expect(endpoint.dispatch(opts, handler)).toBe(true);
    expect(seen[0]).toEqual({ ...opts, origin: 'http://10.0.0.7:9080' });
    // The caller's options object is not touched: a retry may go to another endpoint.
    expect(opts.origin).toBe('http://reviews');
  });

  it('refuses to send before the interceptor is composed, and owns nothing to close', async () => {
    const endpoint = new DownstreamEndpoint('http://10.0.0.7:9080', { dispatch: undefined });
    expect(() => endpoint.dispatch({ path: '/', method: 'GET' }, handler)).toThrow(/not composed/);
    await expect(endpoint.close()).resolves.toBeUndefined();
    await expect(endpoint.destroy()).resolves.toBeUndefined();
  });
});
