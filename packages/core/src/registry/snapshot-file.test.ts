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

describe('MemoryRegistry snapshot file', () => {
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
