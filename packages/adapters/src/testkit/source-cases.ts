import type { ServiceInstance } from '@weft/core';
import { check, describeInstances, findEndpoint, matches, SnapshotRecorder } from './recorder.js';
import type { ConformanceCase, ConformanceOptions, SourceFeatures, SourceFixture, TestRecord } from './types.js';

/** Resolved bounds and naming shared by the cases. */
export interface Bounds {
  readonly change: number;
  readonly recovery: number;
  readonly prefix: string;
}

export function resolveBounds(options: ConformanceOptions = {}): Bounds {
  return {
    change: options.changeBoundMs ?? 5_000,
    recovery: options.recoveryBoundMs ?? 30_000,
    prefix: options.servicePrefix ?? 'kit',
  };
}

let serial = 0;
/** A service name no other case (or earlier run against the same server) uses. */
export function uniqueService(bounds: Bounds, label: string): string {
  serial++;
  const salt = Math.floor(Math.random() * 36 ** 4)
    .toString(36)
    .padStart(4, '0');
  return `${bounds.prefix}-${label}-${serial}-${salt}`;
}

/** A record of `service`; `n` picks a distinct address. */
export function record(service: string, n: number, tags: readonly string[] = ['version=v1']): TestRecord {
  return { service, name: `i${n}`, host: `10.0.${Math.floor(n / 250)}.${(n % 250) + 1}`, port: 8000 + n, tags };
}

/** A predicate: the instances hold `r` (endpoint and tags). */
export const has =
  (r: TestRecord) =>
  (instances: readonly ServiceInstance[]): boolean =>
    instances.some((i) => matches(i, r));
/** A predicate: no instance has `r`'s endpoint. */
export const lacks =
  (r: TestRecord) =>
  (instances: readonly ServiceInstance[]): boolean =>
    findEndpoint(instances, r) === undefined;

/**
 * The conformance cases every {@link SourceFixture} must pass: first snapshot, changes and deletes
 * arriving, bad data skipped, recovery after a restart and after a cut, no silent stall.
 */
export function sourceConformanceCases(
  features: SourceFeatures = {},
  options: ConformanceOptions = {},
): ConformanceCase<SourceFixture>[] {
  const b = resolveBounds(options);
  const cases: Array<ConformanceCase<SourceFixture> & { when?: (x: SourceFeatures) => boolean }> = [
    {
      name: 'the first snapshot holds what the server already had',
      timeoutMs: b.change * 3,
      async run(f) {
        const svc = uniqueService(b, 'first');
        const a = record(svc, 1, ['version=v1']);
        const c = record(svc, 2, ['version=v2', 'zone=z1']);
        await f.upsert(a);
        await f.upsert(c);
        using rec = new SnapshotRecorder(f.source, new Set([svc]));
        await rec.until(
          (is) => has(a)(is) && has(c)(is),
          b.change,
          `the first snapshot to hold ${svc}'s two instances`,
        );
        check(
          rec.current().length === 2,
          () => `expected exactly 2 instances of ${svc}, got ${describeInstances(rec.current())}`,
        );
      },
    },
    {
      name: 'a first snapshot arrives even when the watched catalogue is empty',
      timeoutMs: b.change * 2,
      async run(f) {
        const svc = uniqueService(b, 'empty');
        using rec = new SnapshotRecorder(f.source, new Set([svc]));
        await rec.until((is) => is.length === 0, b.change, 'a first (empty) snapshot');
      },
    },
    {
      name: 'additions and updates arrive as new snapshots',
      timeoutMs: b.change * 4,
      async run(f) {
        const svc = uniqueService(b, 'change');
        const a = record(svc, 1);
        await f.upsert(a);
        using rec = new SnapshotRecorder(f.source, new Set([svc]));
        await rec.until(has(a), b.change, `the first snapshot to hold ${a.name}`);
        const added = record(svc, 2, ['version=v2']);
        await f.upsert(added);
        await rec.until((is) => has(a)(is) && has(added)(is), b.change, `the addition of ${added.name} to arrive`);
        const updated = { ...added, tags: ['version=v3', 'canary=yes'] };
        await f.upsert(updated);
        await rec.until(
          (is) => has(updated)(is) && !findEndpoint(is, updated)?.tags.includes('version=v2'),
          b.change,
          `the update of ${added.name}'s tags to arrive`,
        );
        check(rec.current().length === 2, () => `an update must not duplicate: ${describeInstances(rec.current())}`);
      },
    },
    {
      name: 'deletions arrive and leave the other instances alone',
      timeoutMs: b.change * 3,
      async run(f) {
        const svc = uniqueService(b, 'delete');
        const a = record(svc, 1);
        const c = record(svc, 2);
        await f.upsert(a);
        await f.upsert(c);
        using rec = new SnapshotRecorder(f.source, new Set([svc]));
        await rec.until((is) => has(a)(is) && has(c)(is), b.change, 'both instances');
        await f.remove(a);
        await rec.until((is) => lacks(a)(is) && has(c)(is), b.change, `the deletion of ${a.name} to arrive`);
      },
    },
    {
      name: 'every subscriber gets its own complete snapshots, and unsubscribing stops them',
      timeoutMs: b.change * 4,
      async run(f) {
        const svc = uniqueService(b, 'subs');
        const a = record(svc, 1);
        await f.upsert(a);
        const one = new SnapshotRecorder(f.source, new Set([svc]));
        using two = new SnapshotRecorder(f.source, new Set([svc]));
        await one.until(has(a), b.change, 'subscriber 1 to see the instance');
        await two.until(has(a), b.change, 'subscriber 2 to see the instance');
        one.unsubscribe();
        const seen = one.calls.length;
        const c = record(svc, 2);
        await f.upsert(c);
        await two.until(has(c), b.change, 'subscriber 2 to see the addition');
        await one.quietFor(300);
        check(
          one.calls.length === seen,
          `an unsubscribed observer was called ${one.calls.length - seen} more time(s); unsubscribe must stop deliveries`,
        );
      },
    },
    {
      name: 'recovers after the server restarts: later changes still arrive (no silent stall)',
      timeoutMs: b.recovery * 3,
      async run(f) {
        const svc = uniqueService(b, 'restart');
        const a = record(svc, 1);
        await f.upsert(a);
        using rec = new SnapshotRecorder(f.source, new Set([svc]));
        await rec.until(has(a), b.change, 'the instance before the restart');
        await f.restartServer();
        const later = record(svc, 2);
        await f.upsert(later);
        await rec.until(
          (is) => has(a)(is) && has(later)(is),
          b.recovery,
          'a change made after the restart to arrive (a watch that never recovers is a silent stall)',
        );
        await f.remove(a);
        await rec.until((is) => lacks(a)(is) && has(later)(is), b.recovery, 'a deletion after the restart to arrive');
        // A second change: recovery must not be a one-off (e.g. a watch re-created once and then lost).
        const third = record(svc, 3);
        await f.upsert(third);
        await rec.until(has(third), b.change, 'a second change after the restart');
      },
    },
    {
      name: 'reports the loss of its server, then delivers what changed while it was cut off',
      timeoutMs: b.recovery * 3,
      when: (x: SourceFeatures) => x.disconnect === true,
      async run(f) {
        const svc = uniqueService(b, 'cut');
        const a = record(svc, 1);
        const c = record(svc, 2);
        await f.upsert(a);
        await f.upsert(c);
        using rec = new SnapshotRecorder(f.source, new Set([svc]));
        await rec.until((is) => has(a)(is) && has(c)(is), b.change, 'both instances before the cut');
        const errorsBefore = rec.errors.length;
        check(
          f.disconnect !== undefined,
          'the suite declares the disconnect feature, but the fixture has no disconnect()',
        );
        const reconnect = await f.disconnect();
        let reconnected = false;
        try {
          // Changes the source cannot see yet: an addition, a deletion and an update.
          const added = record(svc, 3, ['version=v9']);
          const updated = { ...c, tags: ['version=v2'] };
          await f.upsert(added);
          await f.remove(a);
          await f.upsert(updated);
          await rec.untilErrors(errorsBefore + 1, b.recovery, 'after its connection was cut');
          const calls = rec.calls.length;
          await reconnect();
          reconnected = true;
          await rec.nextSnapshotAfter(calls, b.recovery, 'after reconnecting (the stale mark must be cleared)');
          await rec.until(
            (is) => has(added)(is) && has(updated)(is) && lacks(a)(is),
            b.recovery,
            'the changes made while cut off (an addition, a deletion, an update) to arrive',
          );
        } finally {
          if (!reconnected) await reconnect();
        }
      },
    },
    {
      name: 'bad data is skipped with a coded warning naming it; the valid instances beside it stay',
      timeoutMs: b.change * 5,
      when: (x: SourceFeatures) => x.badRecords === true,
      async run(f) {
        check(f.writeBadRecord !== undefined, 'the suite declares badRecords, but the fixture has no writeBadRecord()');
        const writeBad = f.writeBadRecord.bind(f);
        const svc = uniqueService(b, 'bad');
        const a = record(svc, 1);
        await f.upsert(a);
        const first = await writeBad(svc);
        using rec = new SnapshotRecorder(f.source, new Set([svc]));
        await rec.until(has(a), b.change, 'the valid instance beside a bad record in the first snapshot');
        check(
          rec.current().length === 1,
          () => `the bad record leaked into the snapshot: ${describeInstances(rec.current())}`,
        );
        // A bad record arriving through the watch must not kill it either.
        const second = await writeBad(svc);
        const c = record(svc, 2);
        await f.upsert(c);
        await rec.until((is) => has(a)(is) && has(c)(is), b.change, 'a valid change written after a bad one');
        check(
          rec.current().length === 2,
          () => `the bad record leaked into the snapshot: ${describeInstances(rec.current())}`,
        );
        if (f.warnings !== undefined) {
          const warnings = f.warnings();
          for (const bad of [first, second]) {
            const w = warnings.find((x) => x.object?.includes(bad.key) === true || x.message.includes(bad.key));
            check(
              w !== undefined && /^[A-Z][A-Z0-9_]+$/.test(w.code),
              () =>
                `no coded warning names the bad record ${bad.key}; warnings: ${
                  warnings.map((x) => `${x.code}: ${x.message}`).join(' | ') || '(none)'
                }`,
            );
          }
        }
      },
    },
  ];
  return cases
    .filter((c) => c.when === undefined || c.when(features))
    .map(({ name, timeoutMs, run }) => ({ name, timeoutMs, run }));
}
