import * as nodeFs from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** The part of a file handle a durable write uses. */
export interface DurableFileHandle {
  writeFile(data: string, encoding: 'utf8'): Promise<void>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

/** The file-system calls of a durable write: `node:fs/promises` by default, a fake in crash tests. */
export interface DurableFs {
  open(path: string, flags: string): Promise<DurableFileHandle>;
  rename(from: string, to: string): Promise<void>;
  rm(path: string, options: { force: true }): Promise<void>;
}

/** The real file system. */
export const nodeDurableFs: DurableFs = nodeFs;

let tmpCounter = 0;

/** The name of a temporary file beside `path` (hidden, recognisable by {@link isTempFileOf}). */
export function tempFileFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${tmpCounter++}.tmp`);
}

/** True when `name` (a directory entry) is a temporary file {@link tempFileFor} made for `path`. */
export function isTempFileOf(path: string, name: string): boolean {
  const prefix = `.${basename(path)}.`;
  return name.startsWith(prefix) && name.endsWith('.tmp') && /^\d+\.\d+$/.test(name.slice(prefix.length, -4));
}

/**
 * Writes `data` to `path` so that, once the promise resolves, it survives a crash or power loss,
 * and a crash at any point leaves either the old contents or the new, never a mix:
 * 1. write a temporary file in the same directory and fsync it (the data is on disk);
 * 2. rename it over `path` (atomic on POSIX file systems);
 * 3. fsync the directory (the rename itself is on disk; without this a power loss can bring the
 *    old file back after the write was acknowledged).
 * On failure the temporary file is removed and `path` is untouched.
 */
export async function writeFileDurably(path: string, data: string, fs: DurableFs = nodeDurableFs): Promise<void> {
  const tmp = tempFileFor(path);
  try {
    const file = await fs.open(tmp, 'w');
    try {
      await file.writeFile(data, 'utf8');
      await file.sync();
    } finally {
      await file.close();
    }
    await fs.rename(tmp, path);
  } catch (err) {
    await fs.rm(tmp, { force: true }).catch(() => {});
    throw err;
  }
  await syncDirectory(dirname(path), fs);
}

/** fsyncs a directory; a platform that cannot (Windows answers EISDIR/EPERM) is not an error. */
async function syncDirectory(dir: string, fs: DurableFs): Promise<void> {
  let handle: DurableFileHandle;
  try {
    handle = await fs.open(dir, 'r');
  } catch (err) {
    if (unsupported(err)) return;
    throw err;
  }
  try {
    await handle.sync();
  } catch (err) {
    if (!unsupported(err)) throw err;
  } finally {
    await handle.close();
  }
}

function unsupported(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'EISDIR' || code === 'EPERM' || code === 'EINVAL' || code === 'ENOTSUP';
}
