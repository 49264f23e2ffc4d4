/** `weft_store_up` follows the etcd stores of a control plane replica through an outage and back. */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createControlPlaneServer } from '../../packages/servers/src/index.js';
import { type EtcdServer, http, startEtcd, TcpCutProxy, waitFor } from '../servers/index.js';

let etcd: EtcdServer | undefined;
const closers: (() => Promise<unknown>)[] = [];
beforeAll(async () => {
  etcd = await startEtcd();
});
afterAll(async () => {
  for (const close of closers.reverse()) await close();
  await etcd?.stop();
});

/** `weft_store_up{store}` of a scrape; undefined when absent. */
async function storeUp(base: string, store: string): Promise<number | undefined> {
  const text = (await http(`${base}/metrics`)).body;
  const m = new RegExp(`^weft_store_up\\{store="${store}"\\} (\\d)$`, 'm').exec(String(text));
  return m === null ? undefined : Number(m[1]);
}

describe('weft_store_up on etcd', () => {
  it('is 1 while etcd answers, 0 while it is cut off, and 1 again after', async () => {
    const proxy = await TcpCutProxy.start({ targetPort: (etcd as EtcdServer).clientPort });
    closers.push(() => proxy.close());
    const app = await createControlPlaneServer({
      store: {
        type: 'etcd',
        endpoints: [proxy.url()],
        prefix: `/weft-metrics-${randomUUID()}`,
        requestTimeoutMs: 1_500,
      },
    });
    closers.push(() => app.close());
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    expect(await storeUp(base, 'registry')).toBe(1);
    expect(await storeUp(base, 'rules')).toBe(1);

    proxy.refuse(true);
    proxy.cut();
    await waitFor(async () => (await storeUp(base, 'rules')) === 0 && (await storeUp(base, 'registry')) === 0, 15_000, {
      description: 'weft_store_up to report the outage',
    });

    proxy.refuse(false);
    await waitFor(async () => (await storeUp(base, 'rules')) === 1 && (await storeUp(base, 'registry')) === 1, 30_000, {
      description: 'weft_store_up to report the recovery',
    });
  }, 60_000);
});
