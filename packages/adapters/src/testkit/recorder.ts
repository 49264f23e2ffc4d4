import type { ServiceInstance, Source, SourceSnapshot, Subscription } from '@weft/core';
import { sleep } from '../internal/clock.js';
import type { TestRecord } from './types.js';

/** Fails a conformance check with a message that says what was expected and what was seen. */
export class ConformanceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConformanceError';
  }
}

/** Throws a {@link ConformanceError} unless `condition` holds. */
export function check(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) throw new ConformanceError(typeof message === 'string' ? message : message());
}

/** True when `instance` is what the backend should report for `record`. */
export function matches(instance: ServiceInstance, record: TestRecord): boolean {
  return (
    instance.service === record.service &&
    instance.endpoint.host === record.host &&
    instance.endpoint.port === record.port &&
    record.tags.every((t) => instance.tags.includes(t))
  );
}

/** The instance of `record`'s endpoint in `instances`, whatever its tags. */
export function findEndpoint(instances: readonly ServiceInstance[], record: TestRecord): ServiceInstance | undefined {
  return instances.find(
    (i) => i.service === record.service && i.endpoint.host === record.host && i.endpoint.port === record.port,
  );
}

/** A readable one-line summary of the instances of some services, for failure messages. */
export function describeInstances(instances: readonly ServiceInstance[], services?: ReadonlySet<string>): string {
  const shown = services === undefined ? instances : instances.filter((i) => services.has(i.service));
  if (shown.length === 0) return '(none)';
  return shown.map((i) => `${i.service}@${i.endpoint.value}[${i.tags.join(',')}]`).join(' ');
}

/**
 * Subscribes to a source and keeps every snapshot and error it reports, so a case can wait for a
 * state ("the snapshot contains X") with a deadline and show what it saw instead when it fails.
 */
export class SnapshotRecorder implements Disposable {
  readonly snapshots: SourceSnapshot[] = [];
  readonly errors: Error[] = [];
  /** Every call, in order: `next` or `error`. */
  readonly calls: Array<'next' | 'error'> = [];
  private readonly subscription: Subscription;
  private readonly waiters = new Set<() => void>();

  constructor(
    readonly source: Source,
    private readonly services?: ReadonlySet<string>,
  ) {
    this.subscription = source.subscribe({
      next: (snapshot) => {
        this.snapshots.push(snapshot);
        this.calls.push('next');
        this.wake();
      },
      error: (error) => {
        this.errors.push(error);
        this.calls.push('error');
        this.wake();
      },
    });
  }

  /** The latest snapshot, if any arrived. */
  get latest(): SourceSnapshot | undefined {
    return this.snapshots[this.snapshots.length - 1];
  }

  /** The latest snapshot's instances of the watched services (all when none were named). */
  current(): readonly ServiceInstance[] {
    const all = this.latest?.instances ?? [];
    return this.services === undefined ? all : all.filter((i) => this.services?.has(i.service));
  }

  /**
   * Resolves once `predicate` holds for the latest snapshot (checked at once and after every
   * delivery), or throws after `timeoutMs` describing `what` and the last snapshot seen.
   */
  async until(
    predicate: (instances: readonly ServiceInstance[]) => boolean,
    timeoutMs: number,
    what: string,
  ): Promise<number> {
    const started = Date.now();
    for (;;) {
      if (this.latest !== undefined && predicate(this.current())) return Date.now() - started;
      const left = timeoutMs - (Date.now() - started);
      if (left <= 0) break;
      await this.nextCall(left);
    }
    throw new ConformanceError(
      `${this.source.name}: timed out after ${timeoutMs} ms waiting for ${what}; ` +
        `${this.snapshots.length} snapshot(s), ${this.errors.length} error(s) seen; ` +
        `last snapshot: ${this.latest === undefined ? '(none)' : describeInstances(this.current())}` +
        (this.errors.length > 0 ? `; last error: ${this.errors[this.errors.length - 1]?.message}` : ''),
    );
  }

  /** Resolves once at least `count` errors were reported in total, or throws after `timeoutMs`. */
  async untilErrors(count: number, timeoutMs: number, what: string): Promise<void> {
    const started = Date.now();
    while (this.errors.length < count) {
      const left = timeoutMs - (Date.now() - started);
      if (left <= 0)
        throw new ConformanceError(
          `${this.source.name}: no error reported within ${timeoutMs} ms ${what}; a source must tell its ` +
            'consumers when it loses its server, or they cannot mark its state stale',
        );
      await this.nextCall(left);
    }
  }

  /** Resolves once a snapshot arrived after the `calls.length` given (a delivery "since then"). */
  async nextSnapshotAfter(callIndex: number, timeoutMs: number, what: string): Promise<void> {
    const started = Date.now();
    while (!this.calls.slice(callIndex).includes('next')) {
      const left = timeoutMs - (Date.now() - started);
      if (left <= 0) throw new ConformanceError(`${this.source.name}: no snapshot within ${timeoutMs} ms ${what}`);
      await this.nextCall(left);
    }
  }

  /** Waits `ms` and returns how many calls arrived meanwhile. */
  async quietFor(ms: number): Promise<number> {
    const before = this.calls.length;
    await sleep(ms);
    return this.calls.length - before;
  }

  unsubscribe(): void {
    this.subscription.unsubscribe();
    this.wake();
  }

  [Symbol.dispose](): void {
    this.unsubscribe();
  }

  private nextCall(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.waiters.add(done);
    });
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }
}
