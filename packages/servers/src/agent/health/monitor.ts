import { EventEmitter } from 'node:events';
import { CheckState } from './check-state.js';
import { withDeadline } from './deadline.js';
import { defaultName, probe } from './probe.js';
import type { HealthCheck, HealthReport } from './types.js';
import { validateChecks } from './validate.js';

const DEFAULT_INTERVAL_MS = 30_000;
const DEFAULT_TIMEOUT_MS = 5_000;

export interface HealthMonitorEvents {
  /** The app's health flipped (every check healthy ↔ at least one not). */
  change: [healthy: boolean, report: HealthReport];
}

interface Running {
  readonly check: HealthCheck;
  readonly name: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly state: CheckState;
  timer?: NodeJS.Timeout;
}

/**
 * Probes the app's health checks on their intervals and says when the app's health flips — the
 * sidecar deregisters an unhealthy app and registers it again once healthy.
 *
 * The app is healthy when every check is (true with no checks). Each check starts unhealthy and
 * needs `healthyThreshold` successes in a row (check-state.ts). So with checks, `healthy`
 * is false until start() has run a round, and 'change' fires when that round makes it true.
 * A check's probes never overlap: the next starts `intervalMs` after the previous one started,
 * or at once if that one took longer.
 */
export class HealthMonitor extends EventEmitter<HealthMonitorEvents> {
  readonly #checks: Running[];
  readonly #stopped = new AbortController();
  #healthy: boolean;
  #started: Promise<void> | undefined;

  /** @throws InvalidArgumentError naming every problem of every check */
  constructor(checks: readonly HealthCheck[]) {
    super();
    validateChecks(checks);
    const names = checks.map((c) => c.name ?? defaultName(c));
    this.#checks = checks.map((check, i) => ({
      check,
      // Two checks of the same target would be indistinguishable in the report.
      name: names.indexOf(names[i] ?? '') === i ? (names[i] ?? '') : `${names[i]} #${i + 1}`,
      intervalMs: check.intervalMs ?? DEFAULT_INTERVAL_MS,
      timeoutMs: check.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      state: new CheckState(check.healthyThreshold ?? 1, check.unhealthyThreshold ?? 1),
    }));
    this.#healthy = this.#checks.length === 0;
  }

  /** All checks healthy (true with no checks). */
  get healthy(): boolean {
    return this.#healthy;
  }

  /** Runs every check now, then on its interval. Resolves after the first round. Calling it again returns the same promise. */
  start(): Promise<void> {
    this.#started ??= Promise.all(this.#checks.map((c) => this.#run(c))).then(() => undefined);
    return this.#started;
  }

  /** Stops probing for good: timers cleared, probes in flight aborted (a command killed), no more 'change'. */
  stop(): void {
    this.#stopped.abort();
    for (const c of this.#checks) clearTimeout(c.timer);
  }

  report(): HealthReport {
    return { healthy: this.#healthy, checks: this.#checks.map((c) => c.state.status(c.name, c.check.type)) };
  }

  async #run(c: Running): Promise<void> {
    if (this.#stopped.signal.aborted) return;
    const began = Date.now();
    let error: Error | undefined;
    try {
      await withDeadline(c.timeoutMs, this.#stopped.signal, (signal) => probe(c.check, signal));
    } catch (e) {
      error = e instanceof Error ? e : new Error(String(e));
    }
    if (this.#stopped.signal.aborted) return;
    c.state.record(error, Date.now());
    this.#update();
    const delay = Math.max(0, c.intervalMs - (Date.now() - began));
    // Unref'd: the monitor alone must not keep a process alive that is otherwise done.
    c.timer = setTimeout(() => void this.#run(c), delay).unref();
  }

  #update(): void {
    const healthy = this.#checks.every((c) => c.state.healthy);
    if (healthy === this.#healthy) return;
    this.#healthy = healthy;
    this.emit('change', healthy, this.report());
  }
}
