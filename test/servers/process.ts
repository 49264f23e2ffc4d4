import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { waitFor } from './ports.js';

export interface ServerProcessSpec {
  /** Human name used in errors, e.g. "etcd 3.4". */
  name: string;
  binary: string;
  args: readonly string[];
  env?: Record<string, string>;
  cwd?: string;
  /** stdout+stderr of every run are appended here. */
  logFile: string;
  /** Resolves truthy once the server answers; a throw counts as "not ready yet". */
  ready: () => Promise<boolean>;
  readyTimeoutMs: number;
}

const LOG_TAIL_LINES = 60;
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** A crashed or aborted test run must not leave servers behind. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

/**
 * One server child process: spawn, readiness polling, graceful stop with a
 * SIGKILL fallback, crash (kill) and freeze (SIGSTOP/SIGCONT) for fault tests.
 * If the process exits before it is ready, start() throws with the log tail.
 */
export class ServerProcess {
  readonly spec: ServerProcessSpec;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private exitInfo: string | undefined;
  private log: WriteStream | undefined;
  private tail: string[] = [];

  constructor(spec: ServerProcessSpec) {
    this.spec = spec;
  }

  get running(): boolean {
    return this.child !== undefined && this.exitInfo === undefined;
  }

  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  /** Last lines the server printed (for error messages). */
  logTail(lines = LOG_TAIL_LINES): string {
    return this.tail.slice(-lines).join('\n');
  }

  async start(): Promise<void> {
    if (this.running) throw new Error(`${this.spec.name} is already running (pid ${this.child?.pid})`);
    installExitHook();
    this.exitInfo = undefined;
    this.tail = [];
    this.log ??= createWriteStream(this.spec.logFile, { flags: 'a' });
    this.log.write(`\n--- ${new Date().toISOString()} ${this.spec.binary} ${this.spec.args.join(' ')}\n`);
    const child = spawn(this.spec.binary, this.spec.args, {
      cwd: this.spec.cwd,
      env: { ...process.env, ...this.spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    live.add(child);
    this.exited = new Promise<void>((resolve) => {
      const done = (info: string) => {
        this.exitInfo ??= info;
        live.delete(child);
        resolve();
      };
      child.once('error', (err) => done(`failed to spawn: ${err.message}`));
      // 'close' (not 'exit'): by then all of its output has been read into the log tail.
      child.once('close', (code, signal) => done(signal !== null ? `killed by ${signal}` : `exited with code ${code}`));
    });
    const onData = (chunk: Buffer) => {
      this.log?.write(chunk);
      const lines = chunk
        .toString('utf8')
        .split('\n')
        .filter((l) => l !== '');
      this.tail.push(...lines);
      if (this.tail.length > 4 * LOG_TAIL_LINES) this.tail.splice(0, this.tail.length - LOG_TAIL_LINES);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);

    // An exit before readiness ends the wait at once instead of at the timeout.
    const exitedEarly = new AbortController();
    void this.exited.then(() => exitedEarly.abort(new Error(this.exitInfo)));
    try {
      await waitFor(() => this.spec.ready(), this.spec.readyTimeoutMs, {
        intervalMs: 150,
        description: `${this.spec.name} to become ready`,
        signal: exitedEarly.signal,
      });
    } catch (err) {
      const early = this.exitInfo;
      await this.kill();
      const reason =
        early !== undefined
          ? `${this.spec.name} ${early} before becoming ready`
          : `${this.spec.name}: ${err instanceof Error ? err.message : String(err)}`;
      throw new Error(
        `${reason}\n  command: ${this.spec.binary} ${this.spec.args.join(' ')}\n  log: ${this.spec.logFile}\n` +
          `  last output:\n${indent(this.logTail())}`,
      );
    }
  }

  /** Graceful stop: SIGTERM, then SIGKILL after `timeoutMs`. */
  async stop(timeoutMs = 10_000): Promise<void> {
    const child = this.child;
    if (child === undefined || !this.running) return;
    child.kill('SIGCONT'); // in case it was paused
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** Abrupt death (default SIGKILL), e.g. to simulate a crash. Resolves once the process is gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (child === undefined || !this.running) return;
    child.kill(signal);
    if (signal !== 'SIGKILL') child.kill('SIGCONT');
    await this.exited;
  }

  /** Freezes the process (SIGSTOP): its sockets stay open but nothing answers. */
  pause(): void {
    if (this.running) this.child?.kill('SIGSTOP');
  }

  resume(): void {
    if (this.running) this.child?.kill('SIGCONT');
  }

  /** Stops the process and closes the log file. */
  async dispose(): Promise<void> {
    await this.stop();
    const log = this.log;
    this.log = undefined;
    if (log !== undefined) await new Promise<void>((resolve) => log.end(() => resolve()));
  }
}

function indent(s: string): string {
  return s
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}

/** What every test server can do: the lifecycle tests drive for fault injection. */
export interface ServerLifecycle {
  logFile: string;
  process: ServerProcess;
  /** Graceful stop and removal of the server's temp data. Idempotent. */
  stop(): Promise<void>;
  /** Graceful stop and start again on the same ports and data; resolves once ready. */
  restart(): Promise<void>;
  /** SIGKILL (crash); `start()` brings it back on the same ports and data. */
  kill(): Promise<void>;
  /** Starts a killed or stopped server again. */
  start(): Promise<void>;
  /** SIGSTOP / SIGCONT: the server hangs with its sockets open. */
  pause(): void;
  resume(): void;
}
