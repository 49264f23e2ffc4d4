import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { type DurableFs, isTempFileOf, nodeDurableFs, writeFileDurably } from './durable-write.js';
import { lockFile } from './lock-file.js';
import { decodeRulesFile, encodeRulesFile } from './rules-file.js';
import { type NamespaceState, RulesStoreBase, type RulesStoreOptions } from './store-base.js';
import type { NamespaceRules } from './types.js';

/** Options of {@link FileRulesStore.open}. */
export interface FileRulesStoreOptions extends RulesStoreOptions {
  /** The file-system calls used to save (tests inject failures here). Default `node:fs/promises`. */
  readonly fs?: DurableFs | undefined;
  /** Take `<path>.lock` so no other process uses the file at the same time. Default true. */
  readonly lock?: boolean | undefined;
}

/**
 * A rules store saved as one JSON snapshot file. Every write is on disk before it is
 * acknowledged: the whole snapshot is written to a temporary file, fsynced, renamed over the
 * file and the directory fsynced (see `writeFileDurably`), so a crash at any point keeps every
 * acknowledged write and never leaves half a file. Concurrent writes share one save (group
 * commit). A save that fails rejects its writes with `StoreWriteError` (503) and changes nothing.
 *
 * Each save rewrites the whole file, which suits a controller's rule sets (thousands of rules,
 * a few MB); much larger sets belong in etcd.
 */
export class FileRulesStore extends RulesStoreBase {
  /** The absolute path of the store's file. */
  readonly path: string;
  private readonly unlock: (() => Promise<void>) | undefined;

  private constructor(
    path: string,
    initial: NamespaceRules[],
    fs: DurableFs,
    unlock: (() => Promise<void>) | undefined,
    options: RulesStoreOptions,
  ) {
    const persist = (namespaces: ReadonlyMap<string, NamespaceState>): Promise<void> =>
      writeFileDurably(
        path,
        encodeRulesFile(
          [...namespaces.values()].map((s) => s.value),
          Date.now(),
        ),
        fs,
      );
    super(initial, persist, options);
    this.path = path;
    this.unlock = unlock;
  }

  /**
   * Opens (or creates, with its directory) the store at `path` and loads it. Temporary files a
   * crash left behind are removed.
   *
   * @throws InvalidArgumentError naming the file when it is not a valid rules store (never
   *   silently an empty rule set); an Error when another live process holds its lock.
   */
  static async open(path: string, options: FileRulesStoreOptions = {}): Promise<FileRulesStore> {
    const file = resolve(path);
    await mkdir(dirname(file), { recursive: true });
    const unlock = options.lock === false ? undefined : await lockFile(file);
    try {
      await removeStaleTempFiles(file);
      const initial = await load(file);
      return new FileRulesStore(file, initial, options.fs ?? nodeDurableFs, unlock, options);
    } catch (err) {
      await unlock?.();
      throw err;
    }
  }

  protected describe(): string {
    return this.path;
  }

  protected override async release(): Promise<void> {
    await this.unlock?.();
  }
}

async function load(file: string): Promise<NamespaceRules[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return decodeRulesFile(text, file);
}

async function removeStaleTempFiles(file: string): Promise<void> {
  const dir = dirname(file);
  for (const name of await readdir(dir)) if (isTempFileOf(file, name)) await rm(join(dir, name), { force: true });
}
