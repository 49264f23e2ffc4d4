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
    instances: z.array(ServiceInstanceSchema),
  }),
  { id: 'RegistryFile', description: 'A registry snapshot file.' },
);
export type RegistryFile = z.output<typeof RegistryFileSchema>;

/** Renders instances as the contents of a snapshot file. */
export function encodeRegistryFile(instances: readonly ServiceInstance[], savedAt: number): string {
  const file: RegistryFile = { format: FORMAT, version: 1, savedAt, instances: [...instances] };
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
 * renamed over `path`. A crash leaves either the old file or the new one, never half of one.
 */
export async function writeFileAtomic(path: string, data: string): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${tmpCounter++}.tmp`);
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
}

/**
 * Saves on a debounce: the first change arms a timer (on the injected clock), changes during the
 * wait ride along, and a change during a save causes one more save afterwards. Saves never overlap.
 */
export class DebouncedSaver {
  private timer: TimerHandle | undefined;
  private dirty = false;
  private saving: Promise<void> | undefined;

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

  /** Saves now if anything changed since the last save, and waits for it. */
  async flush(): Promise<void> {
    while (this.saving !== undefined) await this.saving;
    // A save that just finished may have re-armed the timer for changes made meanwhile.
    this.timer?.clear();
    this.timer = undefined;
    if (this.dirty) await this.run();
  }

  /** Cancels a pending save. */
  stop(): void {
    this.timer?.clear();
    this.timer = undefined;
    this.dirty = false;
  }

  private run(): Promise<void> {
    this.dirty = false;
    const saving = this.save()
      .catch((error: unknown) => this.onError(error))
      .finally(() => {
        this.saving = undefined;
        if (this.dirty) this.markDirty();
      });
    this.saving = saving;
    return saving;
  }
}
