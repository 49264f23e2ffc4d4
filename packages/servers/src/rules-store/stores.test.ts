import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { FileRulesStore } from './file-store.js';
import { MemoryRulesStore } from './memory-store.js';
import { describeRulesStore } from './store-contract.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describeRulesStore('memory', async (options) => new MemoryRulesStore(options));

describeRulesStore('file', async (options) => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-rules-'));
  dirs.push(dir);
  return FileRulesStore.open(join(dir, 'rules.json'), options);
});
