import { isWeftError } from '@weft/core';
import { describe, expect, it } from 'vitest';
import { EtcdClientHolder } from './client.js';

describe('EtcdClientHolder', () => {
  it('refuses a `client` that is not an etcd3 client, naming the option', () => {
    try {
      new EtcdClientHolder({ client: { get: () => undefined } });
      expect.unreachable('a plain object was taken for an Etcd3 client');
    } catch (err) {
      expect(isWeftError(err, 'WEFT_ERR_INVALID_ARGUMENT')).toBe(true);
      expect((err as Error).message).toBe(
        'Invalid etcd connection options: client: must be an Etcd3 client of the etcd3 package',
      );
    }
  });

  it("uses the caller's client as it is, and never closes it", async () => {
    let closed = false;
    const fn = () => undefined;
    const client = {
      lease: fn,
      watch: fn,
      get: fn,
      close: () => {
        closed = true;
      },
    };
    const holder = new EtcdClientHolder({ client });
    expect(holder.owned).toBe(false);
    expect(await holder.get()).toBe(client);
    await holder.close();
    expect(closed).toBe(false);
  });
});
