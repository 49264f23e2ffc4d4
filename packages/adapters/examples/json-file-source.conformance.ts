import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeSourceConformance, type SourceFixture, type TestRecord } from '@weft/adapters/testkit';
import * as vitest from 'vitest';
import { type FileSourceWarning, JsonFileSource } from './json-file-source.js';

describeSourceConformance(vitest, 'JsonFileSource', {
  features: { disconnect: true, badRecords: true },
  async create(): Promise<SourceFixture> {
    const dir = await mkdtemp(join(tmpdir(), 'file-source-'));
    const path = join(dir, 'catalogue.json');
    const entries = new Map<string, object>();
    const warnings: FileSourceWarning[] = [];
    let offline = false;
    // Atomic rewrite: write a temp file, rename it over the catalogue.
    const save = async (): Promise<void> => {
      const tmp = join(dir, 'next.json');
      await writeFile(tmp, JSON.stringify({ instances: [...entries.values()] }));
      await rename(tmp, offline ? `${path}.offline` : path);
    };
    await save();
    const source = new JsonFileSource({ path, pollMs: 50, onWarning: (w) => warnings.push(w) });
    const entry = (r: TestRecord) => ({
      name: `${r.service}/${r.name}`,
      service: r.service,
      address: `${r.host}:${r.port}`,
      tags: r.tags,
    });
    let bad = 0;
    return {
      source,
      async upsert(r) {
        entries.set(`${r.service}/${r.name}`, entry(r));
        await save();
      },
      async remove(r) {
        entries.delete(`${r.service}/${r.name}`);
        await save();
      },
      // No server to restart: the file disappears for a moment instead.
      async restartServer() {
        await rename(path, `${path}.away`);
        await new Promise((resolve) => setTimeout(resolve, 300));
        await rename(`${path}.away`, path);
      },
      // "Cut off": the file is gone; changes meanwhile land beside it and come back at once.
      async disconnect() {
        offline = true;
        await rename(path, `${path}.offline`);
        return async () => {
          offline = false;
          await rename(`${path}.offline`, path);
        };
      },
      async writeBadRecord(service) {
        const name = `${service}/bad${++bad}`;
        entries.set(name, { name, service, address: 'no-port' });
        await save();
        return { key: name };
      },
      warnings: () => warnings,
      async close() {
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
});
