import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../clock/index.js';
import { isWeftError } from '../errors/index.js';
import { MemoryRegistry } from './memory-registry.js';
import { DebouncedSaver, writeFileAtomic } from './snapshot-file.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'weft-registry-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const tick = () => new Promise<void>((r) => setImmediate(r));

describe('writeFileAtomic', () => {
  it('replaces the file whole and leaves no temporary file behind', async () => {
    const path = join(dir, 'f.json');
    await writeFileAtomic(path, 'one');
    await writeFileAtomic(path, 'two');
    expect(await readFile(path, 'utf8')).toBe('two');
    expect(await readdir(dir)).toEqual(['f.json']);
    await expect(writeFileAtomic(join(dir, 'missing', 'f.json'), 'x')).rejects.toThrow(/ENOENT/);
    expect(await readdir(dir)).toEqual(['f.json']);
  });
});

describe('DebouncedSaver', () => {
  it('saves once per burst, never overlapping, and once more for changes made during a save', async () => {
    const clock = new VirtualClock();
    let saves = 0;
    let finish: () => void = () => {};
    const saver = new DebouncedSaver(
      clock,
      1000,
      () => {
        saves++;
        return new Promise<void>((r) => {
          finish = r;
        });
      },
      () => {},
    );
    saver.markDirty();
    saver.markDirty();
    clock.advance(999);
    expect(saves).toBe(0);
    clock.advance(1);
    expect(saves).toBe(1);
    saver.markDirty(); // during the save
    clock.advance(5000);
    expect(saves).toBe(1);
    finish();
    await tick();
    clock.advance(1000);
    expect(saves).toBe(2);
    finish();
    await saver.flush();
    expect(saves).toBe(2); // nothing changed since
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('DebouncedSaver.flush', () => {
  it('shares saves between concurrent callers and resolves only once their changes are saved', async () => {
    const clock = new VirtualClock();
    let saves = 0;
    const releases: (() => void)[] = [];
    const saver = new DebouncedSaver(
      clock,
      60_000,
      () => {
        saves++;
        return new Promise<void>((r) => releases.push(r));
      },
      () => {},
    );
    saver.markDirty();
    const first = saver.flush();
    expect(saves).toBe(1); // at once, not after the debounce
    saver.markDirty(); // made during the save: the first save does not cover it
    let secondDone = false;
    const second = saver.flush().then(() => {
      secondDone = true;
    });
    const third = saver.flush();
    releases[0]?.();
    await first;
    await tick();
    expect(secondDone).toBe(false);
    expect(saves).toBe(2); // one more save for both later callers
    releases[1]?.();
    await Promise.all([second, third]);
    expect(saves).toBe(2);
    expect(clock.pendingTimers).toBe(0);
  });

  it('rejects with the error of a failed save and keeps its changes pending until one succeeds', async () => {
    const clock = new VirtualClock();
    const reported: unknown[] = [];
    let fail = true;
    let saves = 0;
    const saver = new DebouncedSaver(
      clock,
      1000,
      async () => {
        saves++;
        if (fail) throw new Error('disk full');
      },
      (error) => reported.push(error),
    );
    saver.markDirty();
    await expect(saver.flush()).rejects.toThrow('disk full');
    expect(reported).toHaveLength(1);
    // A failed save does not re-arm the timer by itself (no retry loop on a broken disk)…
    expect(clock.pendingTimers).toBe(0);
    clock.advance(10_000);
    expect(saves).toBe(1);
    // …but its changes are still pending: the next flush writes them.
    fail = false;
    await saver.flush();
    expect(saves).toBe(2);
    await saver.flush();
    expect(saves).toBe(2); // nothing left
  });

  it('after a failed timer save, the next change saves everything again', async () => {
    const clock = new VirtualClock();
    let fail = true;
    let saves = 0;
    const saver = new DebouncedSaver(
      clock,
      1000,
      async () => {
        saves++;
        if (fail) throw new Error('EIO');
      },
      () => {},
    );
    saver.markDirty();
    clock.advance(1000);
    await tick();
    expect(saves).toBe(1);
    fail = false;
    saver.markDirty();
    clock.advance(1000);
    await tick();
    expect(saves).toBe(2);
    await saver.flush();
    expect(saves).toBe(2);
  });
});

describe('MemoryRegistry snapshot file', () => {
  it('flush() writes acknowledged changes now, whatever the debounce', async () => {
    const path = join(dir, 'registry.json');
    const registry = new MemoryRegistry({ snapshotFile: path, snapshotDebounceMs: 3_600_000 });
    const inst = await registry.register({ service: 's', endpoint: { value: 'h:1' } });
    await registry.flush();
    expect(JSON.parse(await readFile(path, 'utf8')).instances.map((i: { id: string }) => i.id)).toEqual([inst.id]);
    await registry.deregister(inst.id);
    await registry.flush();
    expect(JSON.parse(await readFile(path, 'utf8')).instances).toEqual([]);
    await registry.close();
    await expect(registry.flush()).rejects.toSatisfy((e: unknown) => isWeftError(e, 'WEFT_ERR_CLOSED'));
    // Without a file there is nothing to write.
    const plain = new MemoryRegistry();
    await plain.register({ service: 's', endpoint: { value: 'h:1' } });
    await expect(plain.flush()).resolves.toBeUndefined();
    await plain.close();
  });

  it('flush() rejects when the file cannot be written, and close() still closes', async () => {
    const path = join(dir, 'missing-dir', 'registry.json');
    const registry = new MemoryRegistry({ snapshotFile: path, snapshotDebounceMs: 3_600_000 });
    const errors: unknown[] = [];
    registry.on('snapshotError', (e) => errors.push(e));
    await registry.register({ service: 's', endpoint: { value: 'h:1' } });
    await expect(registry.flush()).rejects.toThrow(/ENOENT/);
    expect(errors).toHaveLength(1);
    await expect(registry.close()).resolves.toBeUndefined();
  });

  it('continues revisions above the saved ones after a restart, so a reconnecting watcher never sees them go back', async () => {
    const path = join(dir, 'registry.json');
    const first = new MemoryRegistry({ snapshotFile: path, snapshotDebounceMs: 3_600_000 });
    for (let i = 0; i < 20; i++) await first.register({ service: 's', endpoint: { value: `h:${i + 1}` } });
    for (let i = 0; i < 15; i++) await first.deregister((await first.instances({ service: 's' }))[0]?.id as string);
    const before = await new Promise<number>((resolve) => {
      const sub = first.watch({}, (snap) => {
        resolve(snap.revision);
        queueMicrotask(() => sub.unsubscribe());
      });
    });
    await first.flush();
    await first.close();
    const second = new MemoryRegistry({ snapshotFile: path });
    const after = await new Promise<number>((resolve) => {
      const sub = second.watch({}, (snap) => {
        resolve(snap.revision);
        queueMicrotask(() => sub.unsubscribe());
      });
    });
    expect(after).toBeGreaterThan(before);
    await second.close();
  });

  it('restores every namespace and status with TTLs re-armed from load time', async () => {
    const path = join(dir, 'registry.json');
    const clock = new VirtualClock(1000);
    const a = new MemoryRegistry({ clock, snapshotFile: path });
    const up = await a.register({ service: 'reviews', endpoint: { value: 'h:1' }, tags: ['v1'], metadata: { m: 1 } });
    await a.register({ service: 'reviews', endpoint: { value: 'h:2' }, status: 'OUT_OF_SERVICE' });
    await a.register({ service: 'ratings', endpoint: { value: 'h:3' }, ttl: 60 }, { namespace: 'other' });
    clock.advance(20_000);
    await a.renew(up.id);
    await a.close();
    const saved = JSON.parse(await readFile(path, 'utf8'));
    // Written by the debounce at 2 s; the renewal at 21 s was not a change worth a rewrite.
    expect(saved).toMatchObject({ format: 'weft-registry-snapshot', version: 1, savedAt: 2000 });
    expect(saved.instances).toHaveLength(3);

    const later = new VirtualClock(500_000);
    const b = new MemoryRegistry({ clock: later, snapshotFile: path });
    expect(await b.instances({ status: 'ALL' })).toEqual([
      expect.objectContaining({
        id: up.id,
        tags: ['v1'],
        metadata: { m: 1 },
        registeredAt: 1000,
        lastHeartbeat: 500_000,
      }),
      expect.objectContaining({ status: 'OUT_OF_SERVICE' }),
    ]);
    expect(await b.instances({ namespace: 'other' })).toEqual([
      expect.objectContaining({ service: 'ratings', ttl: 60 }),
    ]);
    later.advance(30_000);
    expect(await b.instances({ status: 'ALL' })).toEqual([expect.objectContaining({ status: 'OUT_OF_SERVICE' })]);
    expect(await b.instances({ namespace: 'other' })).toHaveLength(1);
    await b.close();
  });

  it('rewrites the file after visible changes, debounced, but not for heartbeats', async () => {
    const path = join(dir, 'registry.json');
    const clock = new VirtualClock();
    const registry = new MemoryRegistry({ clock, snapshotFile: path, snapshotDebounceMs: 500 });
    const inst = await registry.register({ service: 's', endpoint: { value: 'h:1' } });
    clock.advance(500);
    await waitForFile(path);
    await rm(path);
    await registry.renew(inst.id);
    clock.advance(1000);
    await tick();
    expect(await readdir(dir)).toEqual([]);
    await registry.setStatus(inst.id, 'STARTING');
    clock.advance(500);
    await waitForFile(path);
    expect(JSON.parse(await readFile(path, 'utf8')).instances[0].status).toBe('STARTING');
    await registry.close();
  });

  it('loads on demand, skips what exceeds capacity, and names a bad file', async () => {
    const path = join(dir, 'registry.json');
    const clock = new VirtualClock();
    const a = new MemoryRegistry({ clock });
    for (const port of [1, 2, 3]) await a.register({ service: 's', endpoint: { value: `h:${port}` } });
    await a.saveSnapshot(path);
    const small = new MemoryRegistry({ clock, capacity: 2 });
    expect(await small.loadSnapshot(path)).toBe(2);
    expect(await small.loadSnapshot(join(dir, 'missing.json'))).toBe(0);
    await expect(small.saveSnapshot()).rejects.toThrow(/needs a path/);

    await writeFile(path, '{"format":"something-else","version":1,"savedAt":0,"instances":[]}');
    let err: unknown;
    try {
      new MemoryRegistry({ clock, snapshotFile: path });
    } catch (e) {
      err = e;
    }
    expect(isWeftError(err, 'WEFT_ERR_INVALID_ARGUMENT')).toBe(true);
    expect((err as Error).message).toContain(`Invalid registry snapshot file ${path}: format:`);
    await writeFile(path, '{not json');
    await expect(small.loadSnapshot(path)).rejects.toThrow(/is not valid JSON/);
  });
});

/** Saves go through the real file system, so they complete in real (if short) time. */
async function waitForFile(path: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      await readFile(path);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  throw new Error(`${path} was never written`);
}
