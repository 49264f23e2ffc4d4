import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DurableFileHandle, DurableFs } from './durable-write.js';
import { StoreWriteError } from './errors.js';
import { FileRulesStore } from './file-store.js';
import type { StoredRule } from './types.js';

function route(id: string, destination = 'reviews'): StoredRule {
  return { id, destination, route: { backends: [{ tags: ['version=v1'] }] } } as StoredRule;
}

let dir: string;
let file: string;
const stores: FileRulesStore[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'weft-rules-file-'));
  file = join(dir, 'rules.json');
});
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });
});

async function open(options: Parameters<typeof FileRulesStore.open>[1] = {}): Promise<FileRulesStore> {
  const s = await FileRulesStore.open(file, options);
  stores.push(s);
  return s;
}

async function reopen(s: FileRulesStore): Promise<FileRulesStore> {
  await s.close();
  return open();
}

type Step = 'open' | 'writeFile' | 'sync' | 'close' | 'rename' | 'rm';

/** The real file system, recording each call, and failing the `fail` step when it is set. */
function recordingFs(): { fs: DurableFs; calls: string[]; fail: { step?: Step | undefined; halfWrite?: boolean } } {
  const calls: string[] = [];
  const fail: { step?: Step | undefined; halfWrite?: boolean } = {};
  const boom = (step: Step): void => {
    if (fail.step === step) throw Object.assign(new Error(`simulated ${step} failure`), { code: 'EIO' });
  };
  const fs: DurableFs = {
    async open(path, flags) {
      calls.push(`open ${path === dir ? 'dir' : 'tmp'} ${flags}`);
      boom('open');
      const handle = await fsp.open(path, flags);
      const wrapped: DurableFileHandle = {
        async writeFile(data, encoding) {
          calls.push('writeFile');
          if (fail.step === 'writeFile' && fail.halfWrite === true) {
            // A write cut off halfway: half of the bytes reach the temporary file, then the error.
            await handle.writeFile(data.slice(0, data.length / 2), encoding);
          }
          boom('writeFile');
          await handle.writeFile(data, encoding);
        },
        async sync() {
          calls.push(`sync ${path === dir ? 'dir' : 'tmp'}`);
          boom('sync');
          await handle.sync();
        },
        async close() {
          calls.push('close');
          await handle.close();
        },
      };
      return wrapped;
    },
    async rename(from, to) {
      calls.push('rename');
      boom('rename');
      await fsp.rename(from, to);
    },
    async rm(path, options) {
      calls.push('rm');
      await fsp.rm(path, options);
    },
  };
  return { fs, calls, fail };
}

describe('FileRulesStore', () => {
  it('has every acknowledged write in the file before acknowledging it', async () => {
    const s = await open();
    await s.add('default', [route('a')]);
    // Read behind the store's back, without closing it: the write is already there.
    const onDisk = JSON.parse(readFileSync(file, 'utf8')) as { namespaces: Record<string, unknown> };
    expect(onDisk.namespaces).toEqual({ default: { revision: 1, rules: [route('a')] } });
  });

  it('writes a temporary file, fsyncs it, renames it, then fsyncs the directory — in that order', async () => {
    const { fs, calls } = recordingFs();
    const s = await open({ fs });
    await s.add('default', [route('a')]);
    expect(calls).toEqual([
      'open tmp w',
      'writeFile',
      'sync tmp',
      'close',
      'rename',
      'open dir r',
      'sync dir',
      'close',
    ]);
  });

  it('reloads rules and revisions after a restart, and revisions keep growing from there', async () => {
    let s = await open();
    await s.add('a', [route('x'), route('y')]);
    await s.update('a', [route('x', 'details')]);
    await s.add('b', [route('z')]);
    await s.delete('b', {});
    s = await reopen(s);
    expect(await s.get('a')).toEqual({ namespace: 'a', revision: 2, rules: [route('x', 'details'), route('y')] });
    // b has no rules left, but its revision must not restart at 0: a proxy holds revision 2.
    expect(await s.get('b')).toEqual({ namespace: 'b', revision: 2, rules: [] });
    expect((await s.add('b', [route('w')])).revision).toBe(3);
    s = await reopen(s);
    expect((await s.get('b')).revision).toBe(3);
  });

  it('reloads authorization policies after a restart, and names a damaged policy by its path', async () => {
    let s = await open();
    const doc = {
      defaultAction: 'deny',
      policies: [{ id: 'ips', destination: '*', action: 'deny', from: [{ ipBlocks: ['10.0.0.0/8'] }] }],
    };
    await s.authorize('a', doc);
    s = await reopen(s);
    expect((await s.get('a')).authorization).toEqual(doc);
    await s.close();
    const text = JSON.parse(readFileSync(file, 'utf8'));
    text.namespaces.a.authorization.policies[0].from[0].ipBlocks = ['10.0.0.0/40'];
    writeFileSync(file, JSON.stringify(text));
    const err = await FileRulesStore.open(file).catch((e: unknown) => e);
    expect((err as { issues: unknown }).issues).toEqual([
      {
        path: 'namespaces.a.authorization.policies[0].from[0].ipBlocks[0]',
        message: 'must end in a prefix length from 0 to 32 (got "10.0.0.0/40")',
      },
    ]);
  });

  for (const [step, halfWrite] of [
    ['writeFile', true],
    ['sync', false],
    ['rename', false],
    ['open', false],
  ] as const) {
    it(`a save failing at ${step}${halfWrite ? ' halfway through the data' : ''} loses nothing acknowledged and applies nothing`, async () => {
      const { fs, fail } = recordingFs();
      const s = await open({ fs });
      await s.add('default', [route('a')]);
      const before = readFileSync(file, 'utf8');
      const seen: number[] = [];
      s.watch('default').subscribe((v) => seen.push(v.revision));

      fail.step = step;
      fail.halfWrite = halfWrite;
      const err = await s.add('default', [route('b')]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreWriteError);
      expect((err as StoreWriteError).status).toBe(503);
      expect((err as Error).message).toContain(file);
      // The previous file is intact, byte for byte, and no temporary file is left behind.
      expect(readFileSync(file, 'utf8')).toBe(before);
      expect(readdirSync(dir).sort()).toEqual(['rules.json', 'rules.json.lock']);
      // Nothing changed in memory either: same revision, no watcher told.
      expect(await s.get('default')).toEqual({ namespace: 'default', revision: 1, rules: [route('a')] });
      expect(seen).toEqual([1]);
      await expect(s.check()).rejects.toBeInstanceOf(StoreWriteError);

      // The disk recovers: the next write succeeds with the next revision, and health with it.
      fail.step = undefined;
      expect((await s.add('default', [route('c')])).revision).toBe(2);
      await s.check();
      const reloaded = await reopen(s);
      expect((await reloaded.get('default')).rules.map((r) => r.id)).toEqual(['a', 'c']);
    });
  }

  it('ignores and removes the half-written temporary file a crash left behind', async () => {
    let s = await open();
    await s.add('default', [route('a')]);
    await s.close();
    // What a process killed mid-save leaves: a truncated temporary file beside the real one.
    const stray = join(dir, `.rules.json.12345.7.tmp`);
    writeFileSync(stray, '{"format":"weft-rules-store","version":1,"namesp');
    s = await open();
    expect((await s.get('default')).rules).toEqual([route('a')]);
    expect(existsSync(stray)).toBe(false);
  });

  it('shares one save among writes that arrive together (group commit)', async () => {
    const { fs, calls } = recordingFs();
    const s = await open({ fs });
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => s.add('default', [route(`r${i}`)])));
    expect(results.map((r) => r.revision)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    const renames = calls.filter((c) => c === 'rename').length;
    expect(renames).toBeGreaterThanOrEqual(1);
    expect(renames).toBeLessThan(50);
    const reloaded = await reopen(s);
    expect((await reloaded.get('default')).revision).toBe(50);
  });

  it('a failing write in a batch does not fail the others', async () => {
    const s = await open();
    await s.add('default', [route('a')]);
    const [ok, conflict] = await Promise.allSettled([s.add('default', [route('b')]), s.add('default', [route('a')])]);
    expect(ok.status).toBe('fulfilled');
    expect(conflict.status).toBe('rejected');
    expect((await s.get('default')).rules.map((r) => r.id)).toEqual(['a', 'b']);
  });

  describe('refuses a damaged file, naming it, instead of starting empty', () => {
    const cases: [string, string, RegExp][] = [
      ['an empty file', '', /rules store file .*rules\.json: is not valid JSON/],
      ['truncated JSON', '{"format":"weft-rules-store","version":1,"names', /rules\.json: is not valid JSON/],
      [
        'another format',
        '{"format":"weft-registry-snapshot","version":1}',
        /rules\.json: format: must be "weft-rules-store"/,
      ],
      ['a future version', '{"format":"weft-rules-store","version":2,"namespaces":{}}', /version: must be 1 \(got 2\)/],
      [
        'an invalid rule',
        JSON.stringify({
          format: 'weft-rules-store',
          version: 1,
          savedAt: 0,
          namespaces: { default: { revision: 3, rules: [route('a'), { id: 'b', route: { backends: [] } }] } },
        }),
        /namespaces\.default\.rules\[1\]\.destination: is required/,
      ],
      [
        'a bad revision',
        JSON.stringify({
          format: 'weft-rules-store',
          version: 1,
          namespaces: { default: { revision: -1, rules: [] } },
        }),
        /namespaces\.default\.revision: must be a non-negative integer/,
      ],
    ];
    for (const [what, text, message] of cases)
      it(what, async () => {
        writeFileSync(file, text);
        const err = await FileRulesStore.open(file).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(Error);
        expect((err as Error).message).toMatch(message);
        expect((err as Error).message).toContain(file);
        // The damaged file is left as it was, for a human to look at.
        expect(readFileSync(file, 'utf8')).toBe(text);
        // And the lock is not left behind.
        expect(existsSync(`${file}.lock`)).toBe(false);
      });
  });

  it('refuses a second open of the same file while the first holds it; takes over a stale lock', async () => {
    const s = await open();
    await expect(FileRulesStore.open(file)).rejects.toThrow(new RegExp(`in use by process ${process.pid}`));
    await s.close();
    // A lock left by a process that no longer exists (pid 2^22 + 1 is above Linux's pid_max).
    writeFileSync(`${file}.lock`, `${2 ** 22 + 1}\n`);
    const again = await open();
    expect((await again.get('default')).revision).toBe(0);
    await again.close();
    // A lock naming this very pid that this process does not hold: a restarted container is pid 1 again.
    writeFileSync(`${file}.lock`, `${process.pid}\n`);
    await open();
  });
});
