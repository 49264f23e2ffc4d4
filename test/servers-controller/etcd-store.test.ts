import { randomUUID } from 'node:crypto';
import type { NamespaceRules } from '@weft/servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RevisionMismatchError, StoreUnavailableError } from '../../packages/servers/src/rules-store/errors.js';
import { EtcdRulesStore, type EtcdRulesStoreOptions } from '../../packages/servers/src/rules-store/etcd-store.js';
import { describeRulesStore, route } from '../../packages/servers/src/rules-store/store-contract.js';
import type { Versioned } from '../../packages/servers/src/watch/types.js';
import { type EtcdServer, startEtcd, TcpCutProxy, waitFor } from '../servers/index.js';

// Fast failure detection, so outages show within a second or two.
const FAST = { progressIntervalMs: 500, stallTimeoutMs: 1_000, backoff: { baseMs: 50, maxMs: 300 } } as const;

let server: EtcdServer;
const closers: Array<() => Promise<unknown> | unknown> = [];

beforeAll(async () => {
  server = await startEtcd();
});
afterAll(async () => {
  for (const close of closers.reverse()) await close();
  await server?.stop();
});

/** A store on its own prefix (or `prefix`, to share one), closed after the file. */
async function open(options: EtcdRulesStoreOptions = {}): Promise<EtcdRulesStore> {
  const store = await EtcdRulesStore.open({
    hosts: server.endpoint,
    prefix: `/weft-test-${randomUUID()}`,
    watch: FAST,
    ...options,
  });
  closers.push(() => store.close());
  return store;
}

/** Every state a watch of `namespace` delivers. */
function record(store: EtcdRulesStore, namespace: string): Versioned<NamespaceRules>[] {
  const seen: Versioned<NamespaceRules>[] = [];
  closers.push(store.watch(namespace).subscribe((s) => seen.push(s)));
  return seen;
}

// The same behaviour as the memory and file stores, against a real etcd.
describeRulesStore('etcd', (options) =>
  EtcdRulesStore.open({ hosts: server.endpoint, prefix: `/weft-test-${randomUUID()}`, ...options }),
);

describe('etcd rules store: replicas sharing one etcd', () => {
  it('concurrent writes through two replicas: no update lost, one revision each, both watchers converge', async () => {
    const prefix = `/weft-test-${randomUUID()}`;
    const a = await open({ prefix });
    const b = await open({ prefix });
    const seenA = record(a, 'ns');
    const seenB = record(b, 'ns');
    const writes = Array.from({ length: 15 }, (_, i) => [
      a.add('ns', [route(`a${i}`)]),
      b.add('ns', [route(`b${i}`)]),
    ]).flat();
    const results = await Promise.all(writes);
    // 30 changing writes: revisions 1..30, each handed out exactly once.
    expect(results.map((r) => r.revision).sort((x, y) => x - y)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    for (const store of [a, b]) {
      const now = await store.get('ns');
      expect(now.revision).toBe(30);
      expect(new Set(now.rules.map((r) => r.id)).size).toBe(30);
    }
    for (const seen of [seenA, seenB]) {
      await waitFor(() => seen.at(-1)?.revision === 30, 5_000, { description: 'watchers converge at 30' });
      const revisions = seen.map((s) => s.revision);
      expect([...revisions].sort((x, y) => x - y)).toEqual(revisions);
      expect(seen.at(-1)?.value.rules).toHaveLength(30);
    }
  });

  it('a write through A is read through B at once, and reaches B’s watchers', async () => {
    const prefix = `/weft-test-${randomUUID()}`;
    const a = await open({ prefix });
    const b = await open({ prefix });
    const seenB = record(b, 'tenant');
    await a.add('tenant', [route('x')]);
    // Linearizable read: no waiting for B's watch.
    expect((await b.get('tenant')).rules.map((r) => r.id)).toEqual(['x']);
    await b.update('tenant', [route('x', 'details')]);
    expect((await a.get('tenant')).rules[0]?.destination).toBe('details');
    await waitFor(() => seenB.at(-1)?.revision === 2, 5_000, { description: 'B sees revision 2' });
    expect(seenB.map((s) => s.revision)).toEqual([0, 1, 2]);
  });

  it('ifRevision is checked against etcd, not a replica’s view', async () => {
    const prefix = `/weft-test-${randomUUID()}`;
    const a = await open({ prefix });
    const b = await open({ prefix });
    await a.add('ns', [route('one')]);
    const seen = (await a.get('ns')).revision;
    await b.add('ns', [route('two')]);
    await expect(a.add('ns', [route('three')], { ifRevision: seen })).rejects.toBeInstanceOf(RevisionMismatchError);
    await a.add('ns', [route('three')], { ifRevision: seen + 1 });
    expect((await b.get('ns')).rules.map((r) => r.id)).toEqual(['one', 'two', 'three']);
  });

  it('a replica that starts later reads what the others wrote', async () => {
    const prefix = `/weft-test-${randomUUID()}`;
    const a = await open({ prefix });
    await a.add('ns', [route('r1'), route('r2')]);
    await a.delete('ns', { ids: ['r1'] });
    const late = await open({ prefix });
    expect(late.state.status).toBe('ready');
    const subscribed: number[] = [];
    closers.push(late.watch('ns').subscribe((s) => subscribed.push(s.revision)));
    // The listing at open() is the state: the first delivery is already revision 2.
    expect(subscribed).toEqual([2]);
    expect((await late.get('ns')).rules.map((r) => r.id)).toEqual(['r2']);
  });
});

describe('etcd rules store: outages', () => {
  it('while etcd is unreachable: reads serve the last state, writes fail with 503 naming the store, check() reports it; then it resumes', async () => {
    const proxy = await TcpCutProxy.start({ targetPort: server.clientPort });
    closers.push(() => proxy.close());
    const prefix = `/weft-test-${randomUUID()}`;
    const states: string[] = [];
    const cut = await open({
      prefix,
      hosts: proxy.url(),
      requestTimeoutMs: 1_500,
      readTimeoutMs: 300,
      onStateChange: (s) => states.push(s.status),
    });
    const direct = await open({ prefix });
    const seen = record(cut, 'ns');
    await cut.add('ns', [route('before')]);
    await cut.check();

    proxy.refuse(true);
    proxy.cut();
    await waitFor(() => cut.state.status === 'unavailable', 10_000, { description: 'the store sees the outage' });

    const t0 = Date.now();
    expect((await cut.get('ns')).rules.map((r) => r.id)).toEqual(['before']);
    expect(Date.now() - t0).toBeLessThan(200); // known outage: no waiting for a deadline
    const failed = await cut.add('ns', [route('during')]).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(StoreUnavailableError);
    expect((failed as StoreUnavailableError).status).toBe(503);
    expect((failed as StoreUnavailableError).toJSON()).toMatchObject({
      code: 'WEFT_ERR_STORE_UNAVAILABLE',
      store: `etcd ${proxy.url()} ${prefix}`,
    });
    await expect(cut.check()).rejects.toBeInstanceOf(StoreUnavailableError);

    // Meanwhile another replica (still connected) writes, and etcd compacts its history.
    await direct.add('ns', [route('elsewhere-1')]);
    await direct.add('ns', [route('elsewhere-2')]);
    await server.compact();

    proxy.refuse(false);
    await waitFor(() => cut.state.status === 'ready', 15_000, { description: 'the store reconnects' });
    await waitFor(() => seen.at(-1)?.revision === 3, 10_000, { description: 'the watch catches up' });
    expect(seen.at(-1)?.value.rules.map((r) => r.id)).toEqual(['before', 'elsewhere-1', 'elsewhere-2']);
    // The failed write was not acknowledged and is nowhere.
    expect((await direct.get('ns')).rules.map((r) => r.id)).not.toContain('during');
    await cut.check();
    await cut.add('ns', [route('after')]);
    expect((await direct.get('ns')).revision).toBe(4);
    expect(states).toEqual(['ready', 'unavailable', 'ready']);
  });

  it('open() fails with 503 naming the store when etcd cannot be reached', async () => {
    const proxy = await TcpCutProxy.start({ targetPort: server.clientPort });
    closers.push(() => proxy.close());
    proxy.refuse(true);
    const t0 = Date.now();
    const err = await EtcdRulesStore.open({ hosts: proxy.url(), startTimeoutMs: 1_000, watch: FAST }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StoreUnavailableError);
    expect((err as Error).message).toMatch(
      /etcd http:\/\/127\.0\.0\.1:\d+ \/weft.*could not list the rules within 1000 ms/,
    );
    expect(Date.now() - t0).toBeLessThan(5_000);
  });
});
