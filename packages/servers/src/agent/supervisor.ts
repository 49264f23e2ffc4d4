import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { InvalidArgumentError, type ValidationIssue } from '@weft/core';
import { exitCodeOf } from './supervisor-exit-code.js';
import { groupAlive, signalGroup } from './supervisor-group.js';
import { isFailure, type RestartBackoff, restartDelay } from './supervisor-restart.js';

/** One command of the app the sidecar runs (Amalgam8's `commands: [{cmd, env, on_exit}]`). */
export interface AppCommand {
  /** argv: program and arguments (no shell). */
  cmd: readonly string[];
  /** Extra environment, merged over the sidecar's own. */
  env?: Readonly<Record<string, string>> | undefined;
  /** What the sidecar does when this command exits: 'terminate' (default: stop everything, exit with its code) or 'ignore'. */
  onExit?: 'ignore' | 'terminate' | undefined;
  /**
   * 'on-failure': start the command again, with backoff, when it exits non-zero or is killed
   * (not while stopping); exiting 0 still follows onExit. Default 'never': nothing is restarted
   * behind the operator's back. A command that cannot be started at all is never restarted.
   */
  restart?: 'never' | 'on-failure' | undefined;
}

export interface SupervisorOptions {
  /** Time between SIGTERM and SIGKILL when stopping, ms. Default 10 000. */
  killTimeoutMs?: number | undefined;
  /** Delay before the first restart of an on-failure command, doubled on each failure in a row, ms. Default 1 000. */
  restartDelayMs?: number | undefined;
  /** Longest restart delay, ms; a run at least this long resets the backoff. Default 30 000. */
  restartMaxDelayMs?: number | undefined;
}

export interface SupervisorEvents {
  /** A command ended: its exit code, or the signal that killed it. */
  exit: [command: AppCommand, code: number | null, signal: NodeJS.Signals | null];
  /**
   * A 'terminate' command ended (or could not start: 127, or 126 when not executable): the
   * sidecar should stop, exiting with this code. Emitted at most once, also when the command
   * ends during stop() — its code is then still the one to exit with, as `tini` does.
   */
  terminate: [code: number];
  /** An on-failure command failed and will be started again after `delayMs` (its `attempt`th restart in a row). */
  restart: [command: AppCommand, attempt: number, delayMs: number];
  /**
   * A command could not be started, or a signal could not be delivered. Listen for it: as with
   * any node:events emitter, an 'error' nobody listens to is thrown.
   */
  error: [error: Error];
}

const DEFAULT_KILL_TIMEOUT_MS = 10_000;
const DEFAULT_RESTART_DELAY_MS = 1_000;
const DEFAULT_RESTART_MAX_DELAY_MS = 30_000;
/** How often stop() looks whether the process groups are empty. */
const POLL_MS = 20;
/**
 * How long stop() waits, after SIGKILL, for the groups' last members to be reaped. Only a
 * grandchild orphaned to a PID 1 that does not reap (this sidecar itself, see below) stays a
 * zombie longer; stop() must not hang on it.
 */
const REAP_GRACE_MS = 2_000;

interface Entry {
  readonly command: AppCommand;
  /** The current run's process group: the child's pid, as it was spawned detached. */
  pgid?: number;
  /** The command itself (the group's leader) has not exited yet. */
  running: boolean;
  /** When the current run started (Date.now()), for the restart backoff. */
  startedAt: number;
  /** Failed runs in a row, for the restart backoff. */
  failures: number;
  /** The pending restart. */
  restartTimer?: NodeJS.Timeout | undefined;
}

/**
 * Runs the app's commands and stops them with everything they started.
 *
 * Each command is spawned without a shell, detached — the leader of its own session and process
 * group — with the sidecar's stdio. Being detached, a command no longer receives the terminal's
 * Ctrl-C nor a signal sent to the sidecar's group: the sidecar forwards SIGTERM/SIGINT with
 * signal(), and stop() signals the whole group, so a shell's background children die with it.
 *
 * Zombies when the sidecar is PID 1 (a container without `--init`): Node reaps its own children
 * (libuv's SIGCHLD handler), so the commands never linger. A grandchild orphaned by a command
 * that exits early (a daemon that double-forks) is re-parented to PID 1, and Node does not reap
 * what it did not spawn: it stays a zombie — harmless but for its pid — until the container ends.
 * Run the sidecar under an init (`docker run --init`, `tini`, Kubernetes' `shareProcessNamespace`)
 * when the app orphans processes; `pid1Advice()` gives the warning to log at start-up.
 *
 * If the sidecar exits without stop() (process.exit, an uncaught exception), a process 'exit'
 * hook SIGKILLs every group, so no app outlives it unseen; only a sidecar killed by SIGKILL
 * leaves its detached commands running.
 *
 * Nothing is restarted unless a command asks for it (`restart: 'on-failure'`).
 */
export class Supervisor extends EventEmitter<SupervisorEvents> {
  readonly #entries: Entry[];
  readonly #killTimeoutMs: number;
  readonly #backoff: RestartBackoff;
  /**
   * Every process group started and not yet seen empty: a command's group outlives it while
   * processes it started run on. Once seen empty a group is forgotten, so a later signal cannot
   * reach a stranger given the same id.
   */
  readonly #groups = new Set<number>();
  #started = false;
  #terminated = false;
  #stopping: Promise<void> | undefined;
  /** Kills every group if the sidecar exits without stop(), so no app outlives it unseen. */
  readonly #onProcessExit = (): void => this.#sendAll('SIGKILL');

  constructor(commands: readonly AppCommand[], options: SupervisorOptions = {}) {
    super();
    const issues: ValidationIssue[] = [];
    commands.forEach((c, i) => {
      if (c.cmd.length === 0 || c.cmd[0] === '') issues.push({ path: `[${i}].cmd`, message: 'must name a program' });
    });
    const durations = {
      killTimeoutMs: options.killTimeoutMs ?? DEFAULT_KILL_TIMEOUT_MS,
      restartDelayMs: options.restartDelayMs ?? DEFAULT_RESTART_DELAY_MS,
      restartMaxDelayMs: options.restartMaxDelayMs ?? DEFAULT_RESTART_MAX_DELAY_MS,
    };
    for (const [path, value] of Object.entries(durations))
      if (!Number.isFinite(value) || value < 0)
        issues.push({ path, message: `must be a finite number ≥ 0 (got ${value})` });
    if (issues.length > 0) throw new InvalidArgumentError('supervisor commands', issues);
    this.#entries = commands.map((command) => ({ command, running: false, startedAt: 0, failures: 0 }));
    this.#killTimeoutMs = durations.killTimeoutMs;
    this.#backoff = { initialMs: durations.restartDelayMs, maxMs: durations.restartMaxDelayMs };
  }

  /** Commands still running. */
  get running(): number {
    return this.#entries.filter((e) => e.running).length;
  }

  /**
   * The process group ids (each the pid of its command) of the commands still running, for
   * the admin endpoint and for tests.
   */
  get pids(): number[] {
    return this.#entries.flatMap((e) => (e.running && e.pgid !== undefined ? [e.pgid] : []));
  }

  /** Starts every command, each in its own process group (detached), stdio inherited. */
  start(): void {
    if (this.#started) throw new Error('Supervisor.start() was already called');
    this.#started = true;
    process.on('exit', this.#onProcessExit);
    for (const entry of this.#entries) this.#spawn(entry);
  }

  /** Forwards a signal to every running command's process group. */
  signal(signal: NodeJS.Signals): void {
    this.#sendAll(signal);
  }

  /**
   * SIGTERM to every process group, SIGKILL after killTimeoutMs; resolves when all have exited
   * (every command, and every other process of their groups — see REAP_GRACE_MS for the one
   * exception). Calling it again returns the same promise.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#shutdown();
    return this.#stopping;
  }

  #spawn(entry: Entry): void {
    const [file = '', ...args] = entry.command.cmd;
    let child: ChildProcess;
    try {
      child = spawn(file, args, {
        detached: true,
        stdio: 'inherit',
        env: { ...process.env, ...entry.command.env },
      });
    } catch (error) {
      // Invalid arguments (a NUL byte…) throw synchronously; treat them as a failed start.
      this.#failedToStart(entry, error as NodeJS.ErrnoException);
      return;
    }
    child.on('error', (error: NodeJS.ErrnoException) => {
      // Without a pid the process never existed (ENOENT, EACCES): no 'exit' follows.
      if (child.pid === undefined) this.#failedToStart(entry, error);
      else this.emit('error', error);
    });
    if (child.pid === undefined) return;
    entry.pgid = child.pid;
    entry.running = true;
    entry.startedAt = Date.now();
    this.#groups.add(child.pid);
    child.once('exit', (code, signal) => this.#exited(entry, code, signal));
  }

  #failedToStart(entry: Entry, cause: NodeJS.ErrnoException): void {
    this.#releaseExitHook();
    const program = entry.command.cmd[0] ?? '';
    this.emit('error', new Error(`cannot start ${JSON.stringify(program)}: ${cause.message}`, { cause }));
    // The codes a shell gives: 126 found but not executable, 127 not found (or otherwise unstartable).
    if ((entry.command.onExit ?? 'terminate') === 'terminate') this.#terminate(cause.code === 'EACCES' ? 126 : 127);
  }

  #exited(entry: Entry, code: number | null, signal: NodeJS.Signals | null): void {
    entry.running = false;
    const restart = entry.command.restart === 'on-failure' && isFailure(code) && this.#stopping === undefined;
    if (restart) this.#scheduleRestart(entry);
    else this.#releaseExitHook(); // also forgets the groups left empty
    this.emit('exit', entry.command, code, signal);
    if (restart) this.emit('restart', entry.command, entry.failures, restartDelay(entry.failures, this.#backoff));
    else if ((entry.command.onExit ?? 'terminate') === 'terminate') this.#terminate(exitCodeOf(code, signal));
  }

  #scheduleRestart(entry: Entry): void {
    // A long enough run was a recovery: the next failure starts the backoff over.
    if (Date.now() - entry.startedAt >= this.#backoff.maxMs) entry.failures = 0;
    entry.failures++;
    entry.restartTimer = setTimeout(
      () => {
        entry.restartTimer = undefined;
        this.#spawn(entry);
      },
      restartDelay(entry.failures, this.#backoff),
    );
  }

  /** Forgets the groups with no process left (see #groups). */
  #forgetEmptyGroups(): void {
    for (const pgid of this.#groups) if (!groupAlive(pgid)) this.#groups.delete(pgid);
  }

  /** Whether every command has exited, none will restart, and every group is empty. */
  #allGone(): boolean {
    if (this.#entries.some((e) => e.running || e.restartTimer !== undefined)) return false;
    this.#forgetEmptyGroups();
    return this.#groups.size === 0;
  }

  /** Drops the process 'exit' hook once nothing is left to kill. */
  #releaseExitHook(): void {
    if (this.#allGone()) process.off('exit', this.#onProcessExit);
  }

  #terminate(code: number): void {
    if (this.#terminated) return;
    this.#terminated = true;
    this.emit('terminate', code);
  }

  #sendAll(signal: NodeJS.Signals): void {
    for (const pgid of this.#groups) {
      try {
        if (!signalGroup(pgid, signal) && !this.#entries.some((e) => e.running && e.pgid === pgid))
          this.#groups.delete(pgid);
      } catch (error) {
        // EPERM: a member changed its uid (a setuid program). The others were still signalled.
        this.emit('error', new Error(`cannot send ${signal} to process group ${pgid}`, { cause: error }));
      }
    }
  }

  async #waitAllGone(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!this.#allGone()) {
      if (Date.now() >= deadline) return false;
      await sleep(POLL_MS);
    }
    return true;
  }

  async #shutdown(): Promise<void> {
    for (const entry of this.#entries) {
      clearTimeout(entry.restartTimer);
      entry.restartTimer = undefined;
    }
    if (this.#allGone()) {
      process.off('exit', this.#onProcessExit);
      return;
    }
    this.#sendAll('SIGTERM');
    if (!(await this.#waitAllGone(this.#killTimeoutMs))) {
      this.#sendAll('SIGKILL');
      await this.#waitAllGone(REAP_GRACE_MS);
      // A command itself is our child and dies of SIGKILL for sure: wait for its exit event.
      while (this.running > 0) await sleep(POLL_MS);
    }
    process.off('exit', this.#onProcessExit);
  }
}
