/**
 * What the registry acknowledged survives a crash: a server with a file store is killed
 * (SIGKILL, no shutdown) right after its answer, and the file holds what it acknowledged. The
 * child's snapshot debounce is an hour, so only the flush before each answer can have written it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RegistryFileSchema } from '@weft/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, send } from './helpers.js';

const root = join(import.meta.dirname, '..', '..');
const tsx = join(root, 'node_modules/tsx/dist/cli.mjs');
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'weft-registry-crash-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Starts the child server on `file`; resolves with its base URL once it listens. */
function start(file: string): Promise<{ child: ChildProcess; base: string }> {
  const child = spawn(
    process.execPath,
    [tsx, '--conditions=@weft/source', join(import.meta.dirname, 'crash-child.ts'), file],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /PORT (\d+)/.exec(out);
      if (m !== null) resolve({ child, base: `http://127.0.0.1:${m[1]}` });
    });
    child.stderr?.on('data', (c: Buffer) => {
      err += c.toString();
    });
    child.on('exit', (code) => reject(new Error(`the child exited (${code}) before listening: ${err}`)));
  });
}

function kill(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/** The instances in the file, as the crash left it (read directly: a registry would rewrite it on close). */
async function saved(file: string): Promise<[string, string][]> {
  const { instances } = RegistryFileSchema.parse(JSON.parse(await readFile(file, 'utf8')));
  return instances.map((i): [string, string] => [i.id, i.status]).sort();
}

describe('a file store after a crash', () => {
  it('holds every acknowledged registration, status change and deregistration', { timeout: 60_000 }, async () => {
    const file = join(dir, 'registry.json');
    let { child, base } = await start(file);
    const ids: string[] = [];
    for (const port of [1, 2, 3]) {
      const res = await send(base, '/api/v1/instances', {
        body: { service_name: 'reviews', endpoint: { type: 'http', value: `10.0.0.1:${port}` } },
      });
      expect(res.status).toBe(201);
      ids.push(json<{ id: string }>(res).id);
    }
    await kill(child);
    expect(await saved(file)).toEqual(ids.map((id) => [id, 'UP']).sort());

    ({ child, base } = await start(file));
    expect(json<{ instances: unknown[] }>(await send(base, '/api/v1/instances')).instances).toHaveLength(3);
    expect((await send(base, `/api/v1/instances/${ids[0]}`, { method: 'DELETE' })).status).toBe(200);
    const parked = await send(base, `/api/v1/instances/${ids[1]}/status`, {
      method: 'PUT',
      body: { status: 'OUT_OF_SERVICE' },
    });
    expect(parked.status).toBe(200);
    await kill(child);
    expect(await saved(file)).toEqual(
      [
        [ids[1], 'OUT_OF_SERVICE'],
        [ids[2], 'UP'],
      ].sort(),
    );
  });
});
