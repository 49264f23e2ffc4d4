/**
 * The processes an example starts (the control plane, sidecars, a gateway), started and stopped
 * as a set. Each writes its output to a file of its own rather than a pipe: a pipe would break
 * under a child that outlives this process (a write to it kills a Node child with EPIPE before it
 * could stop its app), and the files are what to read when a step fails.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A process of the set. */
export interface StartedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** Where its standard output and error go. */
  readonly logFile: string;
  /** Everything it printed so far. */
  log(): string;
  /** Resolves with its exit code (128 + the signal's number when a signal ended it; 127 when it could not start). */
  readonly exited: Promise<number>;
  /** Its exit code once it ended, else undefined. */
  exitCode(): number | undefined;
}

const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

/** Every set still running, for the last-resort clean-up when this process exits. */
const running = new Set<ProcessSet>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // SIGTERM, not SIGKILL: a sidecar that gets it still stops its app and deregisters it, even
  // after this process is gone. Only reached when a program exits without calling stop().
  process.on('exit', () => {
    for (const set of running) set.signalAll('SIGTERM');
  });
}

/** Options of {@link ProcessSet.start}. */
export interface StartOptions {
  /** Added to this process's environment. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Stop it after all the others (a control plane, which the others deregister from). */
  stopLast?: boolean;
}

/**
 * Processes started together and stopped together: the others at once, then those started with
 * `stopLast` (the control plane the sidecars deregister from).
 */
export class ProcessSet {
  /** The directory of the log files; removed by `stop({ keepLogs: false })`. */
  readonly logDir: string;
  private readonly processes: StartedProcess[] = [];
  private readonly last = new Set<StartedProcess>();

  constructor(prefix: string) {
    this.logDir = mkdtempSync(join(tmpdir(), `${prefix}-`));
    running.add(this);
    installExitHook();
  }

  /** Starts `command args…`, its output going to `<logDir>/<name>.log`. */
  start(name: string, command: string, args: readonly string[], options: StartOptions = {}): StartedProcess {
    const logFile = join(this.logDir, `${name}.log`);
    const fd = openSync(logFile, 'a');
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd); // the child holds its own copy
    let exitCode: number | undefined;
    const exited = new Promise<number>((resolve) => {
      const end = (code: number): void => {
        exitCode = code;
        resolve(code);
      };
      // 'error': it could not be started at all (no such command), and gets no 'exit'.
      child.on('error', (err) => {
        writeFileSync(logFile, `cannot start ${command}: ${err.message}\n`, { flag: 'a' });
        end(127);
      });
      child.on('exit', (code, signal) => end(code ?? 128 + (SIGNAL_NUMBERS[signal ?? 'SIGKILL'] ?? 0)));
    });
    const started: StartedProcess = {
      name,
      child,
      logFile,
      log: () => readFileSync(logFile, 'utf8'),
      exited,
      exitCode: () => exitCode,
    };
    this.processes.push(started);
    if (options.stopLast === true) this.last.add(started);
    return started;
  }

  /**
   * Waits until `p` prints a line matching `pattern` and returns the match. Fails with its log
   * when it exits first or stays silent for `ms`.
   */
  async waitForLine(p: StartedProcess, pattern: RegExp, ms = 30_000): Promise<RegExpExecArray> {
    const deadline = Date.now() + ms;
    for (;;) {
      const m = pattern.exec(p.log());
      if (m !== null) return m;
      const code = p.exitCode();
      if (code !== undefined || Date.now() > deadline)
        throw new Error(
          `${p.name} ${code === undefined ? `printed no ${pattern} within ${ms} ms` : `exited with ${code}`}; its output (${p.logFile}):\n${p.log()}`,
        );
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Sends `signal` to every process still running (no waiting). */
  signalAll(signal: NodeJS.Signals): void {
    for (const p of this.processes) if (p.exitCode() === undefined) p.child.kill(signal);
  }

  /**
   * Stops every process — those started with `stopLast` after the others — with SIGTERM, then
   * SIGKILL for one still running after `graceMs`. Removes the logs unless `keepLogs`.
   */
  async stop(options: { graceMs?: number; keepLogs?: boolean } = {}): Promise<void> {
    const graceMs = options.graceMs ?? 10_000;
    const stopOne = async (p: StartedProcess): Promise<void> => {
      if (p.exitCode() !== undefined) return;
      p.child.kill('SIGTERM');
      const timer = setTimeout(() => p.child.kill('SIGKILL'), graceMs);
      await p.exited;
      clearTimeout(timer);
    };
    await Promise.all(this.processes.filter((p) => !this.last.has(p)).map(stopOne));
    await Promise.all([...this.last].map(stopOne));
    running.delete(this);
    if (options.keepLogs !== true) rmSync(this.logDir, { recursive: true, force: true });
  }
}
