import * as z from 'zod/mini';
import { section, setting } from './define.js';

export const STORE_TYPES = ['memory', 'file'] as const;

/**
 * Where a server keeps its state: `memory` (the embedded default: gone when the process ends) or
 * `file` (memory, saved to `path` — `saved` says when — and read back on start). `owner` names
 * the flags (`--registry-store`, `--registry-store-path`); `extra` adds a store's own settings.
 */
export function storeSection<X extends z.core.$ZodLooseShape>(
  owner: 'registry' | 'controller',
  what: string,
  saved: string,
  extra: X,
) {
  return section(
    {
      type: setting(z.enum(STORE_TYPES, { error: `must be one of ${STORE_TYPES.join(', ')}` }), {
        kind: 'string',
        placeholder: '<type>',
        // `--registry-store file` reads better than `--registry-store-type file`.
        flag: `${owner}-store`,
        env: `WEFT_${owner.toUpperCase()}_STORE`,
        description: `Where ${what} are kept: memory (lost on exit) or file (in memory, ${saved}, restored on start)`,
        default: 'memory',
      }),
      path: setting(z.string().check(z.minLength(1, { error: 'must not be empty' })), {
        kind: 'string',
        placeholder: '<file>',
        description: `File ${what} are saved to and restored from (store type file)`,
      }),
      ...extra,
    },
    `The ${owner}'s store`,
  );
}

/** The cross-field rule of a store section: a file store needs its path. */
export function checkStore(
  store: { type: (typeof STORE_TYPES)[number]; path?: string | undefined },
  path: readonly string[],
  issue: (path: readonly string[], message: string) => void,
): void {
  if (store.type === 'file' && store.path === undefined)
    issue([...path, 'path'], `is required when ${path.join('.')}.type is file`);
}
