import { describe, expect, it } from 'vitest';
import { LazyClient } from './lazy.js';

describe('LazyClient', () => {
  it('creates the client on first use only, and shares it', async () => {
    let created = 0;
    const lazy = new LazyClient(async () => ({ n: ++created }));
    expect(created).toBe(0);
    const [a, b] = await Promise.all([lazy.get(), lazy.get()]);
    expect(a).toBe(b);
    expect(created).toBe(1);
  });

  it('forgets a failed creation, so the next use tries again', async () => {
    let attempts = 0;
    const lazy = new LazyClient(async () => {
      if (++attempts === 1) throw new Error('not installed');
      return 'client';
    });
    await expect(lazy.get()).rejects.toThrow('not installed');
    await expect(lazy.get()).resolves.toBe('client');
    expect(attempts).toBe(2);
  });

  it('take() hands over the client for closing and starts afresh', async () => {
    let created = 0;
    const lazy = new LazyClient(async () => ++created);
    expect(lazy.take()).toBeUndefined();
    await lazy.get();
    await expect(lazy.take()).resolves.toBe(1);
    await expect(lazy.get()).resolves.toBe(2);
  });
});
