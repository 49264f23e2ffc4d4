import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../clock/index.js';
import { Discovery } from '../discovery/discovery.js';
import type { SourceSnapshot } from '../discovery/source.js';
import { isWeftError } from '../errors/index.js';
import { MemoryRegistry } from './memory-registry.js';
import { registrySource } from './source.js';
import type { RegistryReader, WatchOptions } from './types.js';

const tick = () => new Promise<void>((r) => setImmediate(r));

describe('registrySource', () => {
  it('feeds a namespace (every status) to a discovery observer and reports the end as an error', async () => {
    const registry = new MemoryRegistry({ clock: new VirtualClock() });
    await registry.register({ service: 'a', endpoint: { value: 'h:1' }, status: 'STARTING' }, { namespace: 't' });
    await registry.register({ service: 'b', endpoint: { value: 'h:2' } });
    const source = registry.asSource('t');
    expect(source.name).toBe('memory:t');
    const seen: SourceSnapshot[] = [];
    const errors: Error[] = [];
    source.subscribe({ next: (s) => seen.push(s), error: (e) => errors.push(e) });
    await tick();
    expect(seen).toHaveLength(1);
    expect(seen[0]?.instances.map((i) => [i.service, i.status])).toEqual([['a', 'STARTING']]);
    expect(typeof seen[0]?.revision).toBe('number');
    await registry.close();
    expect(errors).toHaveLength(1);
    expect(isWeftError(errors[0], 'WEFT_ERR_CLOSED')).toBe(true);
  });

  it('works for one service of any registry, and unsubscribes', async () => {
    const registry = new MemoryRegistry({ clock: new VirtualClock() });
    const source = registrySource(registry, { service: 'b' });
    expect(source.name).toBe('registry');
    const seen: number[] = [];
    const sub = source.subscribe({ next: (s) => seen.push(s.instances.length), error: () => {} });
    await tick();
    await registry.register({ service: 'a', endpoint: { value: 'h:1' } });
    await registry.register({ service: 'b', endpoint: { value: 'h:2' } });
    await tick();
    sub.unsubscribe();
    await registry.register({ service: 'b', endpoint: { value: 'h:3' } });
    await tick();
    expect(seen).toEqual([0, 1]);
    expect(registry.stats().watchers).toBe(0);
  });

  it('drives Discovery: registrations, expiry and status changes reach its endpoint sets', async () => {
    const clock = new VirtualClock();
    const registry = new MemoryRegistry({ clock });
    const a = await registry.register({ service: 'reviews', endpoint: { value: '10.0.0.1:1' }, tags: ['version=v1'] });
    const discovery = new Discovery({ sources: [registry.asSource()], clock });
    await discovery.ready();
    expect(discovery.endpoints('reviews').instances.map((i) => i.id)).toEqual([a.id]);
    await registry.register({ service: 'reviews', endpoint: { value: '10.0.0.2:1' }, ttl: 60 });
    await registry.setStatus(a.id, 'OUT_OF_SERVICE');
    await tick();
    expect(discovery.endpoints('reviews').instances.map((i) => i.endpoint.value)).toEqual(['10.0.0.2:1']);
    clock.advance(60_000);
    await tick();
    expect(discovery.endpoints('reviews').instances).toEqual([]);
    discovery.close();
    await registry.close();
  });
});

describe('registrySource over a store that loses sight of its changes', () => {
  it('marks Discovery stale on the watch onError, keeps the state, and clears the mark on onRecover', async () => {
    const registry = new MemoryRegistry({ clock: new VirtualClock() });
    await registry.register({ service: 'a', endpoint: { value: 'h:1' } });
    // The memory registry never loses sight: a wrapper that can, as an etcd or Consul watch does.
    let options: WatchOptions | undefined;
    const flaky: RegistryReader = {
      services: (o) => registry.services(o),
      instances: (q) => registry.instances(q),
      watch: (o, listener) => {
        options = o;
        return registry.watch(o, listener);
      },
    };
    const discovery = new Discovery({ sources: [registrySource(flaky, { name: 'flaky' })] });
    await discovery.ready();
    expect(discovery.health()[0]?.state).toBe('ok');
    options?.onError?.(new Error('etcd unreachable'));
    expect(discovery.health()[0]).toMatchObject({ state: 'stale' });
    expect(discovery.health()[0]?.lastError?.message).toBe('etcd unreachable');
    expect(discovery.services()).toEqual(['a']);
    options?.onRecover?.();
    expect(discovery.health()[0]?.state).toBe('ok');
    discovery.close();
    await registry.close();
  });
});
