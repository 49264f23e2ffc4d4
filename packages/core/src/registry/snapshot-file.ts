import { readFileSync } from 'node:fs';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import * as z from 'zod/mini';
import type { Clock, TimerHandle } from '../clock/index.js';
import { InvalidArgumentError, parseOrThrow } from '../errors/index.js';
import { type Registration, RegistrationSchema, type ServiceInstance, ServiceInstanceSchema } from '../model/index.js';
import { withDescription, withMeta } from '../zod-setup.js';

/** Marks a file as a Weft registry snapshot, so a wrong path fails clearly instead of loading junk. */
const FORMAT = 'weft-registry-snapshot';

/** The on-disk form of a registry: every instance of every namespace, any status. */
export const RegistryFileSchema = withMeta(
  z.object({
    format: z.literal(FORMAT),
    version: z.literal(1),
    savedAt: withDescription(z.number(), 'When the file was written, ms since the epoch.'),
    revision: z.optional(
      withDescription(
        z.number().check(z.int(), z.minimum(0)),
        'The highest revision the registry had issued to any namespace when the file was written; a restored registry continues above it, so a watcher that reconnects after a restart never sees revisions go back.',
      ),
    ),
    instances: z.array(ServiceInstanceSchema),
  }),
  { id: 'RegistryFile', description: 'A registry snapshot file.' },
);
/** The file a registry's snapshot option writes and restores: format, version, time, instances. */
export type RegistryFile = z.output<typeof RegistryFileSchema>;

/** Renders instances as the contents of a snapshot file. */
export function encodeRegistryFile(instances: readonly ServiceInstance[], savedAt: number, revision?: number): string {
  const file: RegistryFile = {
    format: FORMAT,
    version: 1,
    savedAt,
    ...(revision === undefined ? {} : { revision }),
    instances: [...instances],
  };
  return JSON.stringify(file);
}

/** Parses and validates a snapshot file's contents, naming the file and the bad field on failure. */
export function decodeRegistryFile(text: string, path: string): RegistryFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new InvalidArgumentError(`registry snapshot file ${path}`, [{ path: '', message: 'is not valid JSON' }], {
      cause,
    });
  }
  return parseOrThrow(RegistryFileSchema, json, `registry snapshot file ${path}`);
}

/** Reads a snapshot file; undefined when it does not exist (a first start). */
export async function readRegistryFile(path: string): Promise<RegistryFile | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return decodeRegistryFile(text, path);
}

/** {@link readRegistryFile}, synchronously: for restoring in a constructor, once, at start-up. */
export function readRegistryFileSync(path: string): RegistryFile | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return decodeRegistryFile(text, path);
}

/**
 * The registration a saved instance amounts to, validated again: the file may come from an
 * older version or a hand edit, and the limits must hold whatever its origin.
 */
export function savedRegistration(saved: ServiceInstance): Registration {
  return parseOrThrow(
    RegistrationSchema,
    {
      service: saved.service,
      endpoint: { type: saved.endpoint.type, value: saved.endpoint.value },
      tags: saved.tags,
      metadata: saved.metadata,
      status: saved.status,
      ttl: saved.ttl,
    },
    `saved instance ${saved.id}`,
  );
}

let tmpCounter = 0;

/**
 * Writes `data` to `path` atomically: into a temporary file beside it, flushed to disk, then
 * renamed over `path`, and the directory flushed so the rename itself survives a power loss. A
 * crash leaves either the old file or the new one, never half of one.
 */
export async function writeFileAtomic(path: string, data: string): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${tmpCounter++}.tmp`);
  try {
    const handle = await open(tmp, 'w');
    try {
      await handle.writeFile(data, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await syncDirectory(dir);
}

/** fsyncs a directory (its entries: a rename). Platforms that cannot open directories (Windows) skip it. */
async function syncDirectory(dir: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(dir, 'r');
  } catch {
    return;
  }
  try {
    await handle.sync();
  } catch (err) {
    // Some file systems refuse fsync on a directory; the file itself is already synced.
    if (!['EINVAL', 'EISDIR', 'EPERM', 'EBADF'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
  } finally {
    await handle.close();
  }
}

/**
 * Saves on a debounce: the first change arms a timer (on the injected clock), changes during the
 * wait ride along, and a change during a save causes one more save afterwards. Saves never overlap.
 * A failed save leaves its changes pending: the next change (or `flush()`) saves them again.
 */
export class DebouncedSaver {
  private timer: TimerHandle | undefined;
  private dirty = false;
  private saving: Promise<boolean> | undefined;

  /**
   * @param save - writes the current state.
   * @param onError - receives a failed save; the next change tries again.
   */
  constructor(
    private readonly clock: Clock,
    private readonly debounceMs: number,
    private readonly save: () => Promise<void>,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Notes a change; a save follows within `debounceMs`. */
  markDirty(): void {
    this.dirty = true;
    if (this.timer === undefined && this.saving === undefined)
      this.timer = this.clock.setTimeout(() => {
        this.timer = undefined;
        void this.run();
      }, this.debounceMs);
  }

  /**
   * Saves now if anything changed since the last successful save, and waits for it: once it
   * resolves, every change marked before the call is saved. Rejects with the save's error when it
   * fails. Concurrent callers share saves (one in progress, then at most one more).
   */
  async flush(): Promise<void> {
    while (this.saving !== undefined) await this.saving;
    // A save that just finished may have re-armed the timer for changes made meanwhile.
    this.timer?.clear();
    this.timer = undefined;
    if (!this.dirty) return;
    const saving = this.run();
    if (!(await saving)) throw this.failures.get(saving);
  }

  /** The error of each failed save, for the `flush()` that awaited it; entries go with the promise. */
  private readonly failures = new WeakMap<Promise<boolean>, unknown>();

  /** Cancels a pending save. */
  stop(): void {
    this.timer?.clear();
    this.timer = undefined;
    this.dirty = false;
  }

  /** Runs one save; resolves to whether it succeeded (never rejects: the timer path has no caller to reject to). */
  private run(): Promise<boolean> {
    this.dirty = false;
    const saving: Promise<boolean> = this.save().then(
      () => {
        this.saving = undefined;
        if (this.dirty) this.markDirty();
        return true;
      },
      (error: unknown) => {
        this.saving = undefined;
        this.failures.set(saving, error);
        // Changes made during the failed save re-arm the timer as usual; the failed save's own
        // changes stay pending without re-arming it (a broken disk would otherwise be retried
        // forever), so the next change or flush() writes them.
        if (this.dirty) this.markDirty();
        this.dirty = true;
        this.onError(error);
        return false;
      },
    );
    this.saving = saving;
    return saving;
  }
}
