/** Runs an example of packages/examples the way `npm run demo` does and returns what it printed. */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

/**
 * Runs `src/<file>` of @weft/examples to its end (rejecting when it exits non-zero, with its
 * output) and returns its standard output.
 */
export async function runExample(
  file: string,
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<string> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [join(root, 'node_modules/tsx/dist/cli.mjs'), '--conditions=@weft/source', `src/${file}`],
    {
      cwd: join(root, 'packages/examples'),
      timeout: options.timeoutMs ?? 60_000,
      env: { ...process.env, ...options.env },
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  return stdout;
}

/**
 * Pids of the processes whose environment holds `marker` (a variable the test gave the example,
 * inherited by everything it starts: control plane, sidecars, their apps). Zombies and processes
 * of other users are not visible, which is what "left behind" means here.
 */
export function processesWithEnv(marker: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').includes(marker)) out.push(Number(entry));
    } catch {
      // It ended while we looked, or it is not ours.
    }
  }
  return out;
}

/** The text of step `n` of an example's output: from its `── n.` heading to the next one. */
export function section(stdout: string, n: number): string {
  const start = stdout.indexOf(`── ${n}. `);
  expect(start, `step ${n}`).toBeGreaterThanOrEqual(0);
  const end = stdout.indexOf('\n── ', start + 1);
  return stdout.slice(start, end === -1 ? undefined : end);
}
