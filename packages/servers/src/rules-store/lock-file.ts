import { open, readFile, rm } from 'node:fs/promises';

/** Lock files this process holds: a lock naming our own pid that is not here is a previous life's. */
const held = new Set<string>();

/** True when a process with that pid exists (EPERM: it exists but is not ours). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes `<path>.lock` for this process, so two controllers never write the same store file (the
 * last writer would silently drop the other's rules). A lock left by a process that no longer
 * exists is taken over — also one that names this process's own pid without this process
 * holding it: a container restarted on the same volume is pid 1 again. Returns the function that
 * releases it.
 *
 * @throws Error naming the file and the process that holds it.
 */
export async function lockFile(path: string): Promise<() => Promise<void>> {
  const lock = `${path}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(lock, 'wx');
      try {
        await handle.writeFile(`${process.pid}\n`, 'utf8');
      } finally {
        await handle.close();
      }
      held.add(lock);
      return async () => {
        held.delete(lock);
        await rm(lock, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = Number.parseInt(await readFile(lock, 'utf8').catch(() => ''), 10);
    const ours = holder === process.pid;
    if (Number.isInteger(holder) && holder > 0 && (ours ? held.has(lock) : alive(holder)))
      throw new Error(`rules store file ${path} is in use by process ${holder} (lock file ${lock})`);
    // Stale: its process is gone. Remove it and try once more (another starter may win the race).
    await rm(lock, { force: true });
  }
  throw new Error(`rules store file ${path}: could not take the lock file ${lock}`);
}
