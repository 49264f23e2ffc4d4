/**
 * `GET /v1/rules/history` on an etcd store: a controller that starts after the writes reads them
 * back through etcd's MVCC history, lists what it then sees with its time, and after a compaction
 * lists what compaction left.
 */
import { randomUUID } from 'node:crypto';
import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createControllerServer } from '../../packages/servers/src/controller/server.js';
import { EtcdRulesStore } from '../../packages/servers/src/rules-store/etcd-store.js';
import { route } from '../../packages/servers/src/rules-store/store-contract.js';
import { type EtcdServer, startEtcd } from '../servers/index.js';

let server: EtcdServer;
const closers: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  server = await startEtcd();
});
afterAll(async () => {
  for (const close of closers.reverse()) await close();
  await server?.stop();
});

interface History {
  revisions: { revision: number; at: string | null; rules: { id: string }[] }[];
  index: number;
}

async function controllerOn(prefix: string): Promise<string> {
  const app = await createControllerServer({ store: { type: 'etcd', endpoints: [server.endpoint], prefix } });
  closers.push(() => app.close());
  return app.listen({ host: '127.0.0.1', port: 0 });
}

async function history(url: string): Promise<History> {
  const res = await fetch(`${url}/v1/rules/history`);
  expect(res.status).toBe(200);
  return (await res.json()) as History;
}

describe('rules history on etcd', () => {
  it('reads the revisions written before the controller started from etcd, as far as compaction left them', async () => {
    const prefix = `/weft-test-${randomUUID()}`;
    const writer = await EtcdRulesStore.open({ hosts: server.endpoint, prefix });
    closers.push(() => writer.close());
    await writer.add('default', [route('a')]);
    await writer.add('default', [route('b')]);
    await writer.delete('default', { ids: ['a'] });

    const url = await controllerOn(prefix);
    const before = await history(url);
    expect(before.index).toBe(3);
    expect(before.revisions.map((r) => [r.revision, r.rules.map((x) => x.id)])).toEqual([
      [3, ['b']],
      [2, ['a', 'b']],
      [1, ['a']],
    ]);
    // etcd keeps no times: the revisions read back from it have none; the one the watch delivered, its own.
    expect(before.revisions.slice(1).map((r) => r.at)).toEqual([null, null]);

    // A write through the controller is seen with its time.
    const res = await fetch(`${url}/v1/rules`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rules: [route('c')] }),
    });
    expect(res.status).toBe(201);
    const after = await history(url);
    expect(after.revisions.map((r) => r.revision)).toEqual([4, 3, 2, 1]);
    expect(Date.parse(after.revisions[0]?.at ?? '')).toBeGreaterThan(0);

    // Compact etcd up to now: a controller that starts afterwards sees only the current revision.
    const client = new Etcd3({ hosts: server.endpoint });
    try {
      const now = await client.get('/').exec();
      await client.kv.compact({ revision: now.header.revision, physical: true });
    } finally {
      client.close();
    }
    const late = await controllerOn(prefix);
    expect((await history(late)).revisions.map((r) => r.revision)).toEqual([4]);
  }, 60_000);
});
