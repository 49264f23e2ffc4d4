import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../clock/index.js';
import type { RegistrationInput } from '../model/index.js';
import { MemoryRegistry } from './memory-registry.js';
import { watchSnapshots } from './snapshots.js';

const tick = () => new Promise<void>((r) => setImmediate(r));
const reg = (service: string, port: number): RegistrationInput => ({
  service,
  endpoint: { type: 'http', value: `10.0.0.1:${port}` },
});

describe('watchSnapshots', () => {
  it('yields the current state, then only the latest, and ends when the registry closes', async () => {
    const registry = new MemoryRegistry({ clock: new VirtualClock() });
    const it = registry.snapshots({ service: 's' });
    const first = await it.next();
    expect(first).toMatchObject({ done: false, value: { service: 's', instances: [] } });
    await registry.register(reg('s', 1));
    await tick();
    await registry.register(reg('s', 2));
    await tick();
    const latest = await it.next();
    expect(latest.value?.instances).toHaveLength(2);
    const pending = it.next();
    await registry.close();
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(await it.next()).toEqual({ done: true, value: undefined });
  });

  it('frees its watch on break, and throws the reason when its signal aborts', async () => {
    const registry = new MemoryRegistry({ clock: new VirtualClock() });
    for await (const snapshot of watchSnapshots(registry, {})) {
      expect(snapshot.instances).toEqual([]);
      break;
    }
    expect(registry.stats().watchers).toBe(0);
    const controller = new AbortController();
    const it = registry.snapshots({ signal: controller.signal });
    await it.next();
    const pending = it.next();
    controller.abort(new Error('enough'));
    await expect(pending).rejects.toThrow('enough');
    expect(await it.next()).toEqual({ done: true, value: undefined });
    await it[Symbol.asyncDispose]();
    expect(registry.stats()).toMatchObject({ watchers: 0, namespaces: 0 });
  });
});
