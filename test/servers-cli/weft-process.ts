/** Runs the `weft` command as a real process and reads what it prints. */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

export const repoRoot = join(import.meta.dirname, '..', '..');
export const binInRepo = join(repoRoot, 'packages', 'servers', 'bin', 'weft.mjs');

/** A started `weft` process. */
export interface WeftProcess {
  readonly child: ChildProcess;
  /** Everything printed so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or 128 + signal number) when the process ends. */
  readonly exited: Promise<number>;
}

const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

/** Starts `node <bin> ...args` with the given environment added to this one's. */
export function startWeft(
  args: readonly string[],
  options: { bin?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): WeftProcess {
  const child = spawn(process.execPath, [options.bin ?? binInRepo, ...args], {
    cwd: options.cwd ?? repoRoot,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  const exited = new Promise<number>((resolve) => {
    child.on('close', (code, signal) => resolve(code ?? 128 + (SIGNAL_NUMBERS[signal ?? 'SIGKILL'] ?? 0)));
  });
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Runs `weft` to its end and returns what it printed. */
export async function runWeft(
  args: readonly string[],
  options: { bin?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const p = startWeft(args, options);
  const code = await p.exited;
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}

/**
 * Waits for the "listening on <url>" line a server command prints when it is ready, and returns
 * the URL. Fails with everything printed if the process ends first or takes longer than `ms`.
 */
export async function listeningUrl(p: WeftProcess, ms = 30_000): Promise<string> {
  const started = Date.now();
  for (;;) {
    const m = /listening on (http:\/\/\S+)/.exec(p.stderr());
    if (m !== null) return m[1] as string;
    if (p.child.exitCode !== null || Date.now() - started > ms)
      throw new Error(`weft did not start (exit ${p.child.exitCode}):\n${p.stderr()}\n${p.stdout()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
