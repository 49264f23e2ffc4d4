import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError, instanceId, type SourceSnapshot } from '@weft/core';
import { afterEach, describe, expect, it } from 'vitest';
import { parseExternalCatalogue } from './file-catalogue.js';
import { ExternalFileSource } from './file-source.js';

describe('parseExternalCatalogue', () => {
  it('reads YAML services into one instance per endpoint', () => {
    const instances = parseExternalCatalogue(
      [
        'services:',
        '  - name: payments',
        '    type: https',
        '    endpoints: ["10.1.0.5:443", {type: tcp, host: 10.1.0.6, port: 5432}]',
        '    tags: [version=v1]',
        '    metadata: {owner: billing}',
      ].join('\n'),
      'file:x',
    );
    expect(instances.map((i) => [i.id, i.endpoint.type, i.endpoint.value, i.tags, i.metadata])).toEqual([
      [instanceId('payments', 'https', '10.1.0.5:443'), 'https', '10.1.0.5:443', ['version=v1'], { owner: 'billing' }],
      [instanceId('payments', 'tcp', '10.1.0.6:5432'), 'tcp', '10.1.0.6:5432', ['version=v1'], { owner: 'billing' }],
    ]);
    expect(instances[0]?.status).toBe('UP');
  });

  it('reads JSON, and an empty file as an empty catalogue', () => {
    expect(parseExternalCatalogue('{"services":[{"name":"a","endpoints":["h:1"]}]}', 'f')).toHaveLength(1);
    expect(parseExternalCatalogue('', 'f')).toEqual([]);
  });

  it('names every bad field, and uses nothing of a bad file', () => {
    let thrown: unknown;
    try {
      parseExternalCatalogue(
        'services:\n  - name: a\n    endpoints: ["no-port", "h:1"]\n  - endpoints: []\n    colour: red\n',
        'file:x',
      );
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(InvalidArgumentError);
    const paths = (thrown as InvalidArgumentError).issues.map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['services[1].name', 'services[1].endpoints', 'services[1]']));
    const second = (() => {
      try {
        parseExternalCatalogue('services:\n  - name: a\n    endpoints: ["no-port"]\n', 'file:x');
      } catch (err) {
        return err as InvalidArgumentError;
      }
    })();
    expect(second?.issues).toEqual([
      { path: 'services[0].endpoints[0].value', message: expect.stringContaining('host:port') },
    ]);
    expect(() => parseExternalCatalogue('services: [', 'file:x')).toThrow(InvalidArgumentError);
  });
});

describe('ExternalFileSource', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  /** Subscribes and keeps every event. */
  function follow(source: ExternalFileSource) {
    const snapshots: SourceSnapshot[] = [];
    const errors: Error[] = [];
    const sub = source.subscribe({ next: (s) => snapshots.push(s), error: (e) => errors.push(e) });
    return { snapshots, errors, sub };
  }

  async function until(check: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 5_000;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  it('follows edits and atomic replacements at once, keeps the last good catalogue through a bad one', async () => {
    dir = await mkdtemp(join(tmpdir(), 'weft-file-source-'));
    const path = join(dir, 'external.yaml');
    await writeFile(path, 'services:\n  - name: a\n    endpoints: ["h:1"]\n');
    // A poll far slower than the test: only change notices can make it pass in time.
    const f = follow(new ExternalFileSource({ path, pollMs: 60_000 }));
    try {
      await until(() => f.snapshots.length === 1, 'the first snapshot');
      expect(f.snapshots[0]?.instances.map((i) => i.service)).toEqual(['a']);

      await writeFile(path, 'services:\n  - name: a\n    endpoints: ["h:1", "h:2"]\n');
      await until(() => f.snapshots.length === 2, 'the edit');
      expect(f.snapshots[1]?.instances).toHaveLength(2);

      await writeFile(path, 'services:\n  - name: a\n    endpoints: ["bad"]\n');
      await until(() => f.errors.length > 0, 'the error');
      expect(f.errors[0]?.message).toMatch(/services\[0\]\.endpoints\[0\]/);
      expect(f.snapshots).toHaveLength(2);

      // Written aside, then renamed over the file: how editors and config tools save.
      await writeFile(join(dir, 'tmp'), 'services: []\n');
      await rename(join(dir, 'tmp'), path);
      await until(() => f.snapshots.length === 3, 'the replacement');
      expect(f.snapshots[2]?.instances).toEqual([]);
    } finally {
      f.sub.unsubscribe();
    }
  });

  it('reports a missing file and picks it up once it appears', async () => {
    dir = await mkdtemp(join(tmpdir(), 'weft-file-source-'));
    const path = join(dir, 'later.yaml');
    const f = follow(new ExternalFileSource({ path, pollMs: 60_000 }));
    try {
      await until(() => f.errors.length > 0, 'the error');
      expect(f.errors[0]?.message).toMatch(/ENOENT/);
      await writeFile(path, 'services:\n  - name: late\n    endpoints: ["h:1"]\n');
      await until(() => f.snapshots.length === 1, 'the snapshot');
      expect(f.snapshots[0]?.instances.map((i) => i.service)).toEqual(['late']);
    } finally {
      f.sub.unsubscribe();
    }
  });
});
