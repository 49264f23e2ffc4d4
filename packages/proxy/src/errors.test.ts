import { Discovery, instanceId, ManualSource } from '@weft/core';
import { fetch } from 'undici';
import { describe, expect, it } from 'vitest';
import { MeshRequestError, meshErrorOf } from './errors.js';
import { MeshAgent } from './mesh-agent.js';

describe('meshErrorOf', () => {
  it("finds the MeshRequestError that fetch wraps in 'TypeError: fetch failed'", async () => {
    // `reviews` is known but has no instance UP: the mesh fails the call before any attempt.
    const value = '127.0.0.1:9';
    const starting = {
      id: instanceId('reviews', 'http', value),
      namespace: 'default',
      service: 'reviews',
      endpoint: { type: 'http', value, host: '127.0.0.1', port: 9 },
      tags: [],
      metadata: {},
      status: 'STARTING',
      ttl: 30,
      registeredAt: 0,
      lastHeartbeat: 0,
    } as const;
    const discovery = new Discovery({ sources: [new ManualSource('static', [starting])] });
    const mesh = new MeshAgent({ discovery });
    try {
      const err: unknown = await fetch('http://reviews/api/1', { dispatcher: mesh }).then(
        () => expect.unreachable('the call succeeded'),
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(TypeError);
      expect((err as Error).message).toBe('fetch failed');
      const found = meshErrorOf(err);
      expect(found).toBeInstanceOf(MeshRequestError);
      expect(found).toBe((err as Error).cause);
      expect(found?.code).toBe('WEFT_ERR_NO_ENDPOINTS');
      expect(found?.service).toBe('reviews');
    } finally {
      await mesh.close();
      discovery.close();
    }
  });

  it('returns the error itself, one deeper in the chain, or undefined — also on a cyclic chain', () => {
    const mesh = new MeshRequestError('WEFT_ERR_TIMEOUT', 'reviews timed out', { service: 'reviews' });
    expect(meshErrorOf(mesh)).toBe(mesh);
    expect(meshErrorOf(new Error('outer', { cause: new TypeError('fetch failed', { cause: mesh }) }))).toBe(mesh);
    const cyclic = new Error('a');
    cyclic.cause = new Error('b', { cause: cyclic });
    expect(meshErrorOf(cyclic)).toBeUndefined();
    expect(meshErrorOf(new TypeError('fetch failed', { cause: new Error('ECONNREFUSED') }))).toBeUndefined();
    expect(meshErrorOf(undefined)).toBeUndefined();
    expect(meshErrorOf('fetch failed')).toBeUndefined();
  });
});
