import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../clock/index.js';
import { isWeftError } from '../errors/index.js';
import type { RegistrationInput } from '../model/index.js';
import { MemoryRegistry } from './memory-registry.js';
import type { RegistrySnapshot } from './types.js';

// Watch semantics, exercised through the registry that owns the hub.

const tick = () => new Promise<void>((r) => setImmediate(r));

function reg(service: string, port: number, extra: Partial<RegistrationInput> = {}): RegistrationInput {
  return { service, endpoint: { type: 'http', value: `10.0.0.1:${port}` }, ...extra };
}

/** A listener that records what it saw; `ports()` renders each snapshot as its sorted ports. */
function recorder() {
  const seen: RegistrySnapshot[] = [];
  const listener = (s: RegistrySnapshot) => {
    seen.push(s);
  };
  const ports = () =>
    seen.map((s) =>
      s.instances
        .map((i) => i.endpoint.port as number)
        .sort((a, b) => a - b)
        .join(','),
    );
  return { seen, listener, ports, revisions: () => seen.map((s) => s.revision) };
}

let registry: MemoryRegistry;
let clock: VirtualClock;
afterEach(async () => {
  await registry?.close();
});
function setup() {
  clock = new VirtualClock(0);
  registry = new MemoryRegistry({ clock });
  return registry;
}

describe('MemoryRegistry.watch', () => {
  it('delivers the current snapshot first, asynchronously, then one per change', async () => {
    setup();
    await registry.register(reg('reviews', 1));
    const r = recorder();
    registry.watch({ service: 'reviews' }, r.listener);
    expect(r.seen).toEqual([]); // never synchronously
    await tick();
    expect(r.ports()).toEqual(['1']);
    expect(r.seen[0]).toMatchObject({ namespace: 'default', service: 'reviews' });
    await registry.register(reg('reviews', 2));
    await tick();
    await registry.deregister((r.seen[0]?.instances[0]?.id as string) ?? '');
    await tick();
    expect(r.ports()).toEqual(['1', '1,2', '2']);
    const revs = r.revisions();
    expect(revs[1]).toBeGreaterThan(revs[0] as number);
    expect(revs[2]).toBeGreaterThan(revs[1] as number);
  });

  it('hands out immutable snapshots, shared by the subscribers of a scope', async () => {
    setup();
    await registry.register(reg('reviews', 1));
    const a = recorder();
    const b = recorder();
    registry.watch({ service: 'reviews' }, a.listener);
    registry.watch({ service: 'reviews' }, b.listener);
    await tick();
    const snap = a.seen[0] as RegistrySnapshot;
    expect(b.seen[0]).toBe(snap);
    expect(Object.isFrozen(snap)).toBe(true);
    expect(Object.isFrozen(snap.instances)).toBe(true);
    expect(Object.isFrozen(snap.instances[0])).toBe(true);
    // Later heartbeats do not alter a snapshot already handed out.
    clock.advance(1000);
    await registry.renew(snap.instances[0]?.id as string);
    expect(snap.instances[0]?.lastHeartbeat).toBe(0);
  });

  it('does not wake watchers for heartbeats or changes that change nothing visible', async () => {
    setup();
    const inst = await registry.register(reg('reviews', 1, { tags: ['v1'], metadata: { a: 1 } }));
    const r = recorder();
    registry.watch({}, r.listener);
    await tick();
    for (let i = 0; i < 100; i++) {
      clock.advance(1000);
      await registry.renew(inst.id);
    }
    await registry.register(reg('reviews', 1, { tags: ['v1'], metadata: { a: 1 } }));
    await registry.setStatus(inst.id, 'UP');
    await tick();
    expect(r.seen).toHaveLength(1);
    await registry.register(reg('reviews', 1, { tags: ['v1'], metadata: { a: 2 } }));
    await tick();
    expect(r.seen).toHaveLength(2);
    expect(r.seen[1]?.revision).toBe((r.seen[0]?.revision as number) + 1);
  });

  it('wakes per-service watchers only for their service, catalogue watchers for all', async () => {
    setup();
    const reviews = recorder();
    const ratings = recorder();
    const all = recorder();
    registry.watch({ service: 'reviews' }, reviews.listener);
    registry.watch({ service: 'ratings' }, ratings.listener);
    registry.watch({}, all.listener);
    await tick();
    await registry.register(reg('reviews', 1));
    await tick();
    await registry.register(reg('ratings', 2));
    await tick();
    expect(reviews.ports()).toEqual(['', '1']);
    expect(ratings.ports()).toEqual(['', '2']);
    expect(all.seen[2]?.instances.map((i) => i.service)).toEqual(['ratings', 'reviews']);
    expect(all.seen[2]?.service).toBeUndefined();
    // Per-service revisions are namespace revisions: comparable with the catalogue's.
    expect(ratings.seen[1]?.revision).toBe(all.seen[2]?.revision);
  });

  it('removes expired instances from watches at the deadline', async () => {
    setup();
    await registry.register(reg('reviews', 1));
    await registry.register(reg('reviews', 2, { ttl: 60 }));
    const r = recorder();
    registry.watch({ service: 'reviews' }, r.listener);
    await tick();
    clock.advance(29_999);
    await tick();
    expect(r.ports()).toEqual(['1,2']);
    clock.advance(1);
    await tick();
    expect(r.ports()).toEqual(['1,2', '2']);
  });

  it('coalesces: a busy async listener gets the first and the latest state, a fast one every state', async () => {
    setup();
    const fast = recorder();
    const slow: string[] = [];
    let release: () => void = () => {};
    registry.watch({ service: 'reviews' }, fast.listener);
    registry.watch({ service: 'reviews' }, (s) => {
      slow.push(
        s.instances
          .map((i) => i.endpoint.port as number)
          .sort((a, b) => a - b)
          .join(','),
      );
      return new Promise<void>((resolve) => {
        release = resolve;
      });
    });
    await tick();
    for (const port of [1, 2, 3]) {
      await registry.register(reg('reviews', port));
      await tick();
    }
    expect(fast.ports()).toEqual(['', '1', '1,2', '1,2,3']);
    expect(slow).toEqual(['']);
    release();
    await tick();
    expect(slow).toEqual(['', '1,2,3']);
    release();
    await tick();
    expect(slow).toEqual(['', '1,2,3']); // nothing new: no redundant delivery
  });

  it('merges changes made in one tick into one delivery', async () => {
    setup();
    const r = recorder();
    registry.watch({}, r.listener);
    // Not awaited one by one: an await lets the delivery microtask run in between.
    await Promise.all([registry.register(reg('a', 1)), registry.register(reg('b', 2))]);
    await tick();
    expect(r.ports()).toEqual(['1,2']);
  });

  it('isolates throwing and rejecting listeners and reports them', async () => {
    setup();
    const errors: unknown[] = [];
    registry.on('listenerError', (e, snapshot) => errors.push([(e as Error).message, snapshot?.service]));
    let calls = 0;
    registry.watch({ service: 's' }, () => {
      calls++;
      throw new Error('boom');
    });
    registry.watch({ service: 's' }, () => Promise.reject(new Error('async boom')));
    const ok = recorder();
    registry.watch({ service: 's' }, ok.listener);
    await tick();
    await registry.register(reg('s', 1));
    await tick();
    expect(ok.ports()).toEqual(['', '1']);
    expect(calls).toBe(2); // a listener that threw still gets later snapshots
    expect(errors).toEqual([
      ['boom', 's'],
      ['async boom', 's'],
      ['boom', 's'],
      ['async boom', 's'],
    ]);
  });

  it('reports listener failures as a process warning when nobody listens for them', async () => {
    setup();
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      registry.watch({ service: 's' }, () => {
        throw new Error('boom');
      });
      await tick();
      await tick();
      expect(warnings.map((w) => w.message)).toEqual([
        'A registry watch listener failed (namespace "default", service "s"): Error: boom',
      ]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('copes with a listener that changes the registry during delivery', async () => {
    setup();
    const r = recorder();
    registry.watch({}, (s) => {
      if (s.instances.length === 1) void registry.register(reg('b', 2));
    });
    registry.watch({}, r.listener);
    await registry.register(reg('a', 1));
    await tick();
    await tick();
    expect(r.ports().at(-1)).toBe('1,2');
  });

  it('frees everything on unsubscribe, and delivers nothing after it', async () => {
    setup();
    await registry.register(reg('reviews', 1), { namespace: 'x' });
    const r = recorder();
    const subs = [
      registry.watch({ namespace: 'x' }, r.listener),
      registry.watch({ namespace: 'x', service: 'reviews' }, r.listener),
      registry.watch({ namespace: 'x', service: 'nothing-yet' }, r.listener),
      registry.watch({ namespace: 'empty' }, r.listener),
      registry.watch({ namespace: 'empty', service: 'ghost' }, r.listener),
    ];
    expect(registry.stats()).toMatchObject({ namespaces: 2, services: 3, watchers: 5 });
    await tick();
    const registered = registry.register(reg('reviews', 2), { namespace: 'x' });
    // Unsubscribed after the change but before its delivery: nothing more arrives.
    for (const s of subs.slice(0, 4)) s.unsubscribe();
    (subs[4] as Disposable)[Symbol.dispose]();
    subs[0]?.unsubscribe(); // twice is harmless
    await registered;
    await tick();
    expect(r.seen).toHaveLength(5); // the first snapshots only
    expect(registry.stats()).toMatchObject({ namespaces: 1, services: 1, instances: 2, watchers: 0 });
    await registry.deregister(r.seen[0]?.instances[0]?.id as string, { namespace: 'x' });
    const [last] = await registry.instances({ namespace: 'x' });
    await registry.deregister(last?.id as string, { namespace: 'x' });
    expect(registry.stats()).toEqual({
      namespaces: 0,
      services: 0,
      instances: 0,
      watchers: 0,
      queued: 0,
      timerArmed: false,
    });
  });

  it('never lets revisions go back, even when a namespace is freed and re-created', async () => {
    setup();
    const first = recorder();
    const sub = registry.watch({}, first.listener);
    const a = await registry.register(reg('a', 1));
    await tick();
    await registry.deregister(a.id);
    await tick();
    sub.unsubscribe();
    expect(registry.stats().namespaces).toBe(0);
    const again = recorder();
    registry.watch({}, again.listener);
    await tick();
    expect(again.seen[0]?.revision).toBeGreaterThanOrEqual(first.seen.at(-1)?.revision as number);
  });

  it('ends watches on abort and on close, calling onEnd once', async () => {
    setup();
    const ended: unknown[] = [];
    const controller = new AbortController();
    const r = recorder();
    registry.watch({ signal: controller.signal, onEnd: (why) => ended.push(why) }, r.listener);
    await tick();
    controller.abort(new Error('stop'));
    await registry.register(reg('a', 1));
    await tick();
    expect(r.seen).toHaveLength(1);
    expect((ended[0] as Error).message).toBe('stop');
    expect(registry.stats().watchers).toBe(0);

    const aborted = AbortSignal.abort(new Error('already'));
    registry.watch({ signal: aborted, onEnd: (why) => ended.push(why) }, r.listener);
    expect((ended[1] as Error).message).toBe('already');

    registry.watch({ service: 'a', onEnd: (why) => ended.push(why) }, r.listener);
    await registry.close();
    expect(ended).toHaveLength(3);
    expect(isWeftError(ended[2], 'WEFT_ERR_CLOSED')).toBe(true);
    await tick();
    expect(r.seen).toHaveLength(1);
  });

  it('validates its options', () => {
    setup();
    expect(() => registry.watch({ namespace: '' }, () => {})).toThrow(
      /Invalid watch options: namespace: must not be empty/,
    );
    expect(() => registry.watch({}, 'nope' as unknown as () => void)).toThrow(/listener must be a function/);
  });

  it('notifies 1 000 watchers of one change in one flush', async () => {
    setup();
    let notified = 0;
    for (let i = 0; i < 1000; i++) registry.watch({ service: 's' }, () => void notified++);
    await tick();
    expect(notified).toBe(1000);
    await registry.register(reg('s', 1));
    await Promise.resolve(); // one microtask turn is enough
    await Promise.resolve();
    expect(notified).toBe(2000);
  });
});
