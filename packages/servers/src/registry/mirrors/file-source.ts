import { type FSWatcher, watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import type { Source, SourceObserver, Subscription } from '@weft/core';
import { parseExternalCatalogue } from './file-catalogue.js';

/** Options of {@link ExternalFileSource}. */
export interface ExternalFileSourceOptions {
  /** The catalogue file (YAML or JSON, see `ExternalCatalogueSchema`). */
  path: string;
  /**
   * How often the file is read even without a change notice, ms. Default 5 000. File-change
   * notices (inotify and the like) are the fast path, but do not exist on every file system
   * (network mounts, some container volumes), so a slow poll backs them up.
   */
  pollMs?: number;
  /** How long after a change notice the file is read, ms, so an editor's burst of writes is read once. Default 25. */
  settleMs?: number;
  /** Name in logs and status. Default `file:<path>`. */
  name?: string;
}

/**
 * A discovery {@link Source} over a file of external services — the ones no registry knows of
 * (a SaaS API, a database cluster, a legacy host) — reloaded when the file changes.
 *
 * It watches the file's directory rather than the file, so a file replaced by a rename (how
 * editors and config tools write atomically) is still followed, and reads the file again on each
 * notice and every `pollMs`. A file that cannot be read or is invalid is reported to the observer
 * with every bad field named, and the last good catalogue stays; nothing of a bad file is used.
 */
export class ExternalFileSource implements Source {
  readonly name: string;
  private readonly path: string;
  private readonly pollMs: number;
  private readonly settleMs: number;

  constructor(options: ExternalFileSourceOptions) {
    if (typeof options.path !== 'string' || options.path === '')
      throw new TypeError('ExternalFileSource: `path` must be a non-empty path');
    this.path = resolve(options.path);
    this.name = options.name ?? `file:${options.path}`;
    this.pollMs = options.pollMs ?? 5_000;
    this.settleMs = options.settleMs ?? 25;
  }

  subscribe(observer: SourceObserver): Subscription {
    let stopped = false;
    let lastText: string | undefined;
    let failing = false;
    let revision = 0;
    let reading = false;
    let again = false;
    let settle: NodeJS.Timeout | undefined;

    const read = async (): Promise<void> => {
      if (reading) {
        again = true;
        return;
      }
      reading = true;
      try {
        do {
          again = false;
          await readOnce();
        } while (again && !stopped);
      } finally {
        reading = false;
      }
    };
    const readOnce = async (): Promise<void> => {
      try {
        const text = await readFile(this.path, 'utf8');
        if (stopped || (text === lastText && !failing)) return;
        const instances = parseExternalCatalogue(text, this.name);
        lastText = text;
        failing = false;
        observer.next({ instances, revision: ++revision });
      } catch (err) {
        // Missing, unreadable or invalid: reported (every time), the last catalogue kept.
        failing = true;
        if (!stopped) observer.error(err instanceof Error ? err : new Error(String(err)));
      }
    };
    const soon = (): void => {
      if (stopped) return;
      clearTimeout(settle);
      settle = setTimeout(() => void read(), this.settleMs);
    };

    let watcher: FSWatcher | undefined;
    const file = basename(this.path);
    try {
      watcher = watch(dirname(this.path), { persistent: false }, (_event, name) => {
        if (name === null || name === file) soon();
      });
      watcher.on('error', () => {
        // The directory went away: the poll carries on and reports the missing file.
        watcher?.close();
        watcher = undefined;
      });
    } catch {
      // No change notices here (or no directory yet): the poll alone follows the file.
    }
    const poll = setInterval(() => void read(), this.pollMs);
    poll.unref();
    void read();

    const unsubscribe = (): void => {
      stopped = true;
      clearTimeout(settle);
      clearInterval(poll);
      watcher?.close();
    };
    return { unsubscribe, [Symbol.dispose]: unsubscribe };
  }
}
