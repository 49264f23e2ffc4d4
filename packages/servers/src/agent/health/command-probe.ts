import { spawn } from 'node:child_process';
import { exitCodeOf } from '../supervisor-exit-code.js';
import { signalGroup } from '../supervisor-group.js';
import { onAbort } from './deadline.js';
import type { HealthCheckSpec } from './types.js';

type CommandSpec = Extract<HealthCheckSpec, { type: 'command' }>;

/** How much of the command's stderr is kept for `lastError`. */
const STDERR_TAIL = 512;

/**
 * Runs the command (argv, no shell); resolves when it exits 0. It runs in its own process group,
 * killed whole on timeout and after it exits, so a check script's children (a `curl` it started
 * in the background) never pile up between probes.
 */
export function commandProbe(spec: CommandSpec, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const [file = '', ...args] = spec.cmd;
    const child = spawn(file, args, { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_TAIL);
    });
    const killGroup = (): void => {
      if (child.pid === undefined) return;
      try {
        signalGroup(child.pid, 'SIGKILL');
      } catch {
        // EPERM: a setuid member; nothing more a health check can do about it.
      }
    };
    const unsubscribe = onAbort(signal, (reason) => {
      killGroup();
      reject(reason);
    });
    child.once('error', (error) => {
      unsubscribe();
      reject(error);
    });
    child.once('exit', (code, exitSignal) => {
      unsubscribe();
      killGroup();
      child.stderr?.destroy();
      if (code === 0) return resolve();
      const tail = stderr.trim().split('\n').at(-1);
      const how = code === null ? `killed by ${exitSignal}` : `exit code ${exitCodeOf(code, exitSignal)}`;
      reject(new Error(tail ? `${how}: ${tail}` : how));
    });
  });
}
