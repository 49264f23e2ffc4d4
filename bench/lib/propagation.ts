/**
 * Propagation latency of a discovery adapter: the time from a change written to the real
 * server until the Discovery snapshot contains it. Shared by the adapter bench suites.
 */
import type { Discovery, EndpointSet } from '../../packages/core/src/index.js';
import { MissingServerBinaryError } from '../../test/servers/index.js';
import type { Report } from './results.js';
import { percentile } from './timing.js';

/** One change: `write` changes the server; `seen` says whether a set reflects it. */
export interface Change {
  write(): Promise<void>;
  seen(set: EndpointSet): boolean;
}

/**
 * Applies `changes` one at a time and records, for each, the milliseconds from just before its
 * write until Discovery's watch of `service` reports a set that reflects it. The first `warmup`
 * changes are not recorded. Each change is awaited before the next, so latencies never overlap.
 */
export async function measurePropagation(
  discovery: Discovery,
  service: string,
  changes: readonly Change[],
  warmup: number,
  timeoutMs = 10_000,
): Promise<{ fromWrite: number[]; fromAck: number[] }> {
  let current: EndpointSet | undefined;
  let waiter: (() => void) | undefined;
  const sub = discovery.watch(service, (set) => {
    current = set;
    waiter?.();
  });
  const fromWrite: number[] = [];
  const fromAck: number[] = [];
  try {
    for (let i = 0; i < changes.length; i++) {
      const change = changes[i] as Change;
      let seenAt = 0;
      const seen = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`change ${i} not seen after ${timeoutMs} ms`)), timeoutMs);
        waiter = () => {
          if (current !== undefined && change.seen(current)) {
            seenAt = performance.now();
            clearTimeout(timer);
            waiter = undefined;
            resolve();
          }
        };
      });
      const t0 = performance.now();
      await change.write();
      const acked = performance.now();
      waiter?.(); // the set may already reflect it
      await seen;
      if (i >= warmup) {
        fromWrite.push(seenAt - t0);
        fromAck.push(Math.max(0, seenAt - acked));
      }
    }
  } finally {
    sub.unsubscribe();
  }
  return { fromWrite, fromAck };
}

/** Adds the p50 / p99 figures of one adapter to the report. */
export function reportPropagation(
  report: Report,
  adapter: string,
  target: string,
  { fromWrite, fromAck }: { fromWrite: number[]; fromAck: number[] },
): void {
  const extra = {
    samples: fromWrite.length,
    from: 'just before the write request to the server',
    p50_from_ack_ms: percentile([...fromAck], 50),
    p99_from_ack_ms: percentile([...fromAck], 99),
    max_ms: Math.max(...fromWrite),
  };
  report.add({ name: `propagation_p50_ms.${adapter}`, value: percentile([...fromWrite], 50), unit: 'ms', ...extra });
  report.add({
    name: `propagation_p99_ms.${adapter}`,
    value: percentile([...fromWrite], 99),
    unit: 'ms',
    target,
    ...extra,
  });
}

/** Runs `start`; a missing server binary prints a clear skip line and resolves undefined. */
export async function startOrSkip<T>(suite: string, start: () => Promise<T>): Promise<T | undefined> {
  try {
    return await start();
  } catch (err) {
    if (err instanceof MissingServerBinaryError) {
      console.log(`  SKIPPED ${suite}: ${err.message}`);
      return undefined;
    }
    throw err;
  }
}
