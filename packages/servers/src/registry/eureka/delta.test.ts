import { MemoryRegistry } from '@weft/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { eurekaViews, fullApplications, reconcileHashCode } from './applications.js';
import { ChangeLog, ChangeLogs } from './change-log.js';
import type { EurekaInstanceView } from './from-weft.js';
import { toEurekaInstance } from './from-weft.js';

const closers: (() => unknown)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

function setUp(retentionMs = 180_000) {
  const registry = new MemoryRegistry();
  let now = 1_000_000;
  const clock = {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
  const log = new ChangeLog(registry, 'default', retentionMs, clock.now);
  closers.push(() => registry.close());
  closers.push(() => log.stop(new Error('test over')));
  return { registry, log, clock };
}

const endpoint = (port: number) => ({ type: 'http' as const, value: `10.0.0.1:${port}` });

/** Waits until the log has taken in the registry's latest change. */
async function settled(log: ChangeLog, registry: MemoryRegistry): Promise<void> {
  const revision = (await new Promise<number>((resolve) => {
    const sub = registry.watch({}, (s) => {
      resolve(s.revision);
      queueMicrotask(() => sub.unsubscribe());
    });
  })) as number;
  await vi.waitFor(() => expect(log.revision).toBe(revision));
}

describe('reconcileHashCode', () => {
  it("is Eureka's: status counts, statuses in alphabetical order", () => {
    const views = ['UP', 'DOWN', 'UP', 'OUT_OF_SERVICE', 'UP'].map((status) => ({ status }) as EurekaInstanceView);
    expect(reconcileHashCode(views)).toBe('DOWN_1_OUT_OF_SERVICE_1_UP_3_');
    expect(reconcileHashCode([])).toBe('');
  });
});

describe('ChangeLog', () => {
  it('records ADDED, MODIFIED and DELETED, not the baseline and not heartbeats', async () => {
    const { registry, log } = setUp();
    const before = await registry.register({ service: 'old', endpoint: endpoint(1) });
    await log.ready();
    expect(log.delta().changes).toEqual([]);

    const added = await registry.register({ service: 'books', endpoint: endpoint(2) });
    await registry.renew(before.id);
    await registry.setStatus(before.id, 'OUT_OF_SERVICE');
    await settled(log, registry);
    await registry.deregister(added.id);
    await settled(log, registry);

    const actions = log.delta().changes.map((c) => [c.instance.service, c.action]);
    expect(actions.sort()).toEqual([
      ['books', 'DELETED'],
      ['old', 'MODIFIED'],
    ]);
    expect(log.delta().current.map((i) => i.service)).toEqual(['old']);
  });

  it('forgets changes older than the retention window', async () => {
    const { registry, log, clock } = setUp(1000);
    await log.ready();
    await registry.register({ service: 'books', endpoint: endpoint(2) });
    await settled(log, registry);
    expect(log.delta().changes).toHaveLength(1);
    clock.advance(1001);
    expect(log.delta().changes).toEqual([]);
  });

  it('shows an instance that left and came back within the window as present', async () => {
    const { registry, log } = setUp();
    await log.ready();
    const one = await registry.register({ service: 'books', endpoint: endpoint(2) });
    await settled(log, registry);
    await registry.deregister(one.id);
    await settled(log, registry);
    await registry.register({ service: 'books', endpoint: endpoint(2) });
    await settled(log, registry);
    expect(log.delta().changes.map((c) => c.action)).toEqual(['ADDED']);
  });

  it('lets a client that merges every delta reconcile to the registry exactly (random histories)', async () => {
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let round = 0; round < 5; round++) {
      const { registry, log } = setUp();
      await log.ready();
      // The client's copy: a full fetch, then deltas merged as py_eureka_client and Netflix do.
      const held = new Map<string, EurekaInstanceView>();
      for (const view of fullApplications(
        await registry.instances({ status: 'ALL' }),
        log.revision,
      ).applications.flatMap((a) => a.instances))
        held.set(view.instanceId, view);
      for (let step = 0; step < 25; step++) {
        const port = 1 + random(6);
        const op = random(4);
        const all = await registry.instances({ status: 'ALL' });
        const target = all[random(Math.max(1, all.length))];
        if (op === 0 || target === undefined)
          await registry.register({ service: `svc${port % 3}`, endpoint: endpoint(port), tags: [`v=${step}`] });
        else if (op === 1) await registry.deregister(target.id);
        else if (op === 2) await registry.setStatus(target.id, random(2) === 0 ? 'UP' : 'STARTING');
        else await registry.register({ service: target.service, endpoint: target.endpoint, metadata: { step } });
        await settled(log, registry);
        const delta = log.delta();
        for (const { action, instance } of delta.changes) {
          const view = toEurekaInstance(instance, action);
          if (action === 'DELETED') held.delete(view.instanceId);
          else held.set(view.instanceId, view);
        }
        const serverHash = reconcileHashCode(eurekaViews(delta.current));
        expect(reconcileHashCode([...held.values()])).toBe(serverHash);
        expect([...held.keys()].sort()).toEqual(delta.current.map((i) => i.id).sort());
      }
    }
  });
});

describe('ChangeLogs', () => {
  it('starts one log per namespace and stops it once idle for a window', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const registry = new MemoryRegistry();
    let now = 0;
    const logs = new ChangeLogs(registry, 5000, () => now);
    closers.push(() => registry.close());
    closers.push(() => logs.close(new Error('test over')));
    closers.push(() => vi.useRealTimers());
    const a = await logs.of('a');
    expect(await logs.of('a')).toBe(a);
    await logs.of('b');
    expect(logs.size).toBe(2);
    now = 6000;
    await logs.of('b'); // b is in use
    vi.advanceTimersByTime(5000);
    expect(logs.size).toBe(1);
    expect(a.ended).toBeDefined();
  });
});
