import { InvalidArgumentError } from '@weft/core';
import { FileRulesStore } from '../rules-store/file-store.js';
import { MemoryRulesStore } from '../rules-store/memory-store.js';
import type { RulesStore } from '../rules-store/types.js';
import type { ControllerStoreConfig } from './server-options.js';

/** Creates the store a configuration names (a file store is loaded before this resolves). */
export async function openRulesStore(config: ControllerStoreConfig = { type: 'memory' }): Promise<RulesStore> {
  switch (config.type) {
    case 'memory':
      return new MemoryRulesStore();
    case 'file':
      if (typeof config.path !== 'string' || config.path === '')
        throw new InvalidArgumentError('controller options', [
          { path: 'store.path', message: 'is required for a file store' },
        ]);
      return FileRulesStore.open(config.path);
    default:
      throw new InvalidArgumentError('controller options', [
        {
          path: 'store.type',
          message: `must be memory or file (got ${JSON.stringify((config as { type: unknown }).type)})`,
        },
      ]);
  }
}
