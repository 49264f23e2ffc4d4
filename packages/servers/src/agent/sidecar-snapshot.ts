import { readFile } from 'node:fs/promises';
import type { ServiceInstance, Source, SourceObserver, Subscription } from '@weft/core';
import { writeFileDurably } from '../rules-store/durable-write.js';

/**
 * The sidecar's last-known-good state on disk: the endpoints and rules it last received from the
 * control plane. A sidecar that starts while the control plane is down serves from it instead of
 * from nothing (Amalgam8's sidecar started empty and answered 404s until its first poll).
 */
export interface SnapshotFile {
  readonly version: 1;
  /** When it was written, ms since the epoch. */
  readonly savedAt: number;
  readonly instances: readonly ServiceInstance[];
  /** The controller's rules as validated rule objects (recompiled on load). */
  readonly rules: readonly unknown[];
  readonly rulesRevision: number | undefined;
}

/** Reads the snapshot; undefined when there is none (first start). A damaged one is reported and ignored. */
export async function readSnapshot(path: string, warn: (message: string) => void): Promise<SnapshotFile | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      warn(`cannot read the snapshot ${path}: ${(err as Error).message}`);
    return undefined;
  }
  try {
    const data = JSON.parse(text) as Partial<SnapshotFile>;
    if (data.version !== 1 || !Array.isArray(data.instances) || !Array.isArray(data.rules))
      throw new Error('not a weft sidecar snapshot (version 1)');
    return data as SnapshotFile;
  } catch (err) {
    warn(`ignoring the snapshot ${path}: ${(err as Error).message}`);
    return undefined;
  }
}

/**
 * Keeps the snapshot file up to date. Writes are coalesced (a burst of changes is one write) and
 * durable (temporary file, fsync, rename), so a crash leaves the old file or the new, never half.
 */
export class SnapshotWriter {
  private instances: readonly ServiceInstance[];
  private rules: readonly unknown[];
  private rulesRevision: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  /** When the file was last written, ms since the epoch. */
  lastWrite: number | undefined;
  lastError: Error | undefined;

  constructor(
    private readonly path: string,
    seed: SnapshotFile | undefined,
    private readonly delayMs = 100,
  ) {
    this.instances = seed?.instances ?? [];
    this.rules = seed?.rules ?? [];
    this.rulesRevision = seed?.rulesRevision;
  }

  setInstances(instances: readonly ServiceInstance[]): void {
    this.instances = instances;
    this.schedule();
  }

  setRules(rules: readonly unknown[], revision: number | undefined): void {
    this.rules = rules;
    this.rulesRevision = revision;
    this.schedule();
  }

  /** Writes what is pending now (on stop). */
  async flush(): Promise<void> {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.write();
    }
    await this.writing;
  }

  private schedule(): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.write();
    }, this.delayMs);
    // A pending write must not keep a stopping process alive; flush() writes it.
    this.timer.unref();
  }

  private write(): void {
    const file: SnapshotFile = {
      version: 1,
      savedAt: Date.now(),
      instances: this.instances,
      rules: this.rules,
      rulesRevision: this.rulesRevision,
    };
    this.writing = this.writing
      .then(() => writeFileDurably(this.path, `${JSON.stringify(file)}\n`))
      .then(
        () => {
          this.lastWrite = file.savedAt;
          this.lastError = undefined;
        },
        (err: unknown) => {
          this.lastError = err instanceof Error ? err : new Error(String(err));
        },
      );
  }
}

/**
 * A discovery source that serves the snapshot's instances until its inner source (the registry)
 * delivers, and hands every live catalogue to `onLive` (to be written to the snapshot). While the
 * registry is down, Discovery keeps the seeded set and marks it stale, as for any outage.
 */
export class SeededSource implements Source {
  readonly name: string;
  /** True once the inner source delivered a catalogue: the seed is no longer what is served. */
  live = false;

  constructor(
    private readonly inner: Source,
    private readonly seed: readonly ServiceInstance[] | undefined,
    private readonly onLive: (instances: readonly ServiceInstance[]) => void,
  ) {
    this.name = inner.name;
  }

  subscribe(observer: SourceObserver): Subscription {
    if (this.seed !== undefined && !this.live) observer.next({ instances: this.seed, revision: 'snapshot' });
    return this.inner.subscribe({
      next: (snapshot) => {
        this.live = true;
        observer.next(snapshot);
        this.onLive(snapshot.instances);
      },
      error: (error) => observer.error(error),
    });
  }
}
