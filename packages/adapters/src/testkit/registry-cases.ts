import { isWeftError, type RegistrySnapshot, registrySource, type ServiceInstance } from '@weft/core';
import { sleep } from '../internal/clock.js';
import { ConformanceError, check, describeInstances, findEndpoint, SnapshotRecorder } from './recorder.js';
import { type Bounds, has, lacks, record, resolveBounds, uniqueService } from './source-cases.js';
import type { ConformanceCase, ConformanceOptions, RegistryFeatures, RegistryFixture, TestRecord } from './types.js';

function registration(r: TestRecord, extra: { ttl?: number; metadata?: Record<string, string> } = {}) {
  return {
    service: r.service,
    endpoint: { type: 'http' as const, host: r.host, port: r.port },
    tags: [...r.tags],
    ...(extra.ttl === undefined ? {} : { ttl: extra.ttl }),
    ...(extra.metadata === undefined ? {} : { metadata: extra.metadata }),
  };
}

async function rejectsWith(promise: Promise<unknown>, code: string, what: string): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    check(
      isWeftError(err) && err.code === code,
      () =>
        `${what}: expected a ${code} error, got ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`,
    );
    return err;
  }
  throw new ConformanceError(`${what}: expected a ${code} error, but it succeeded`);
}

/** Records a registry watch's snapshots, for waiting on a state with a deadline. */
class WatchRecorder implements Disposable {
  readonly snapshots: RegistrySnapshot[] = [];
  ended: unknown;
  /** What `onError` reported. */
  readonly errors: Error[] = [];
  recoveries = 0;
  /** Between an `onError` and the `onRecover` after it: what the consumer should consider stale. */
  stale = false;
  /** `onRecover` came without an `onError` before it (a contract violation). */
  recoveredUnasked = false;
  private readonly sub: { unsubscribe(): void };

  constructor(fixture: RegistryFixture, service: string | undefined) {
    this.sub = fixture.registry.watch(
      {
        ...(service === undefined ? {} : { service }),
        onEnd: (reason) => {
          this.ended = reason ?? new Error('ended');
        },
        onError: (error) => {
          this.errors.push(error);
          this.stale = true;
        },
        onRecover: () => {
          if (!this.stale) this.recoveredUnasked = true;
          this.recoveries++;
          this.stale = false;
        },
      },
      (s) => {
        this.snapshots.push(s);
      },
    );
  }

  get latest(): RegistrySnapshot | undefined {
    return this.snapshots[this.snapshots.length - 1];
  }

  async until(
    pred: (instances: readonly ServiceInstance[]) => boolean,
    timeoutMs: number,
    what: string,
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const latest = this.latest;
      if (latest !== undefined && pred(latest.instances)) return;
      if (Date.now() >= deadline)
        throw new ConformanceError(
          `registry watch: timed out after ${timeoutMs} ms waiting for ${what}; last snapshot: ${
            latest === undefined ? '(none)' : `revision ${latest.revision}: ${describeInstances(latest.instances)}`
          }`,
        );
      await sleep(20);
    }
  }

  [Symbol.dispose](): void {
    this.sub.unsubscribe();
  }
}

/** Waits until `instances(query)` satisfies `pred`, polling; throws after `timeoutMs`. */
async function eventually(
  read: () => Promise<readonly ServiceInstance[]>,
  pred: (instances: readonly ServiceInstance[]) => boolean,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: readonly ServiceInstance[] = [];
  let lastError: unknown;
  for (;;) {
    try {
      last = await read();
      lastError = undefined;
      if (pred(last)) return;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline)
      throw new ConformanceError(
        `timed out after ${timeoutMs} ms waiting for ${what}; last read: ${describeInstances(last)}` +
          (lastError === undefined ? '' : `; last error: ${(lastError as Error).message}`),
      );
    await sleep(100);
  }
}

function sourceOf(f: RegistryFixture) {
  return f.source ?? registrySource(f.registry, { name: 'registry' });
}

/**
 * The conformance cases every {@link RegistryFixture} must pass: registration (complete, idempotent,
 * validated), renewal and expiry, deregistration, status, watch snapshots, source snapshots,
 * closing, and recovery after the server restarts.
 */
export function registryConformanceCases(
  features: RegistryFeatures,
  options: ConformanceOptions = {},
): ConformanceCase<RegistryFixture>[] {
  const b: Bounds = resolveBounds(options);
  const { renewal, ttlSeconds } = features;
  const cases: Array<ConformanceCase<RegistryFixture> & { when?: (x: RegistryFeatures) => boolean }> = [
    {
      name: 'register returns a complete instance that instances() and services() then list',
      timeoutMs: b.change * 3,
      async run(f) {
        const svc = uniqueService(b, 'reg');
        const r = record(svc, 1, ['version=v1', 'zone=a']);
        const inst = await f.registry.register(registration(r, { metadata: { owner: 'kit' } }));
        check(typeof inst.id === 'string' && inst.id !== '', 'the instance has an id');
        check(inst.service === svc, () => `service is ${inst.service}`);
        check(
          inst.endpoint.host === r.host &&
            inst.endpoint.port === r.port &&
            inst.endpoint.value === `${r.host}:${r.port}`,
          () => `endpoint is ${JSON.stringify(inst.endpoint)}`,
        );
        check(inst.status === 'UP', () => `status is ${inst.status}, expected UP by default`);
        check(inst.ttl > 0, () => `ttl is ${inst.ttl}, expected the effective TTL (> 0)`);
        check(inst.metadata.owner === 'kit', 'metadata is kept');
        check(
          r.tags.every((t) => inst.tags.includes(t)),
          () => `tags are ${inst.tags.join(',')}`,
        );
        const listed = await f.registry.instances({ service: svc });
        check(listed.length === 1 && listed[0]?.id === inst.id, () => `instances() lists ${describeInstances(listed)}`);
        const services = await f.registry.services();
        check(services.includes(svc), () => `services() is ${services.join(',')}`);
        const tagged = await f.registry.instances({ service: svc, tags: ['zone=a'] });
        const untagged = await f.registry.instances({ service: svc, tags: ['zone=b'] });
        check(tagged.length === 1 && untagged.length === 0, 'instances() filters by tags');
      },
    },
    {
      name: 'registering the same endpoint again keeps its id and replaces its record',
      timeoutMs: b.change * 3,
      async run(f) {
        const svc = uniqueService(b, 'idem');
        const r = record(svc, 1, ['version=v1']);
        const first = await f.registry.register(registration(r));
        const second = await f.registry.register(registration({ ...r, tags: ['version=v2'] }));
        check(first.id === second.id, `ids differ: ${first.id} vs ${second.id}`);
        const listed = await f.registry.instances({ service: svc });
        check(
          listed.length === 1 && listed[0]?.tags.includes('version=v2') === true,
          () => `expected one instance tagged version=v2, got ${describeInstances(listed)}`,
        );
      },
    },
    {
      name: 'invalid registrations are rejected with WEFT_ERR_INVALID_ARGUMENT naming the field',
      timeoutMs: b.change,
      async run(f) {
        const err = await rejectsWith(
          f.registry.register({ service: '', endpoint: { type: 'http', value: 'no-port' } }),
          'WEFT_ERR_INVALID_ARGUMENT',
          'register({service: "", endpoint: "no-port"})',
        );
        const message = (err as Error).message;
        check(
          message.includes('service') && message.includes('endpoint'),
          `the message must name every bad field: ${message}`,
        );
      },
    },
    {
      name: 'renew answers with the instance, and WEFT_ERR_UNKNOWN_INSTANCE for an unknown id',
      timeoutMs: b.change * 2,
      async run(f) {
        const svc = uniqueService(b, 'renew');
        const inst = await f.registry.register(registration(record(svc, 1)));
        const renewed = await f.registry.renew(inst.id);
        check(renewed.id === inst.id && renewed.service === svc, 'renew answers with the instance');
        await rejectsWith(f.registry.renew('0000000000000000'), 'WEFT_ERR_UNKNOWN_INSTANCE', 'renew(unknown id)');
      },
    },
    {
      name: 'renewal keeps an instance past its TTL',
      timeoutMs: 20_000 + b.change * 4,
      async run(f) {
        const svc = uniqueService(b, 'keep');
        const ttl = ttlSeconds;
        const inst = await f.registry.register(registration(record(svc, 1), { ttl }));
        const until = Date.now() + ttl * 2_500;
        while (Date.now() < until) {
          if (renewal === 'explicit') await f.registry.renew(inst.id);
          await sleep((ttl * 1000) / 4);
        }
        const listed = await f.registry.instances({ service: svc });
        check(
          listed.some((i) => i.id === inst.id),
          `an instance ${renewal === 'explicit' ? 'renewed every TTL/4' : 'kept alive by the registry'} ` +
            `disappeared within 2.5 × its ${ttl} s TTL`,
        );
      },
    },
    {
      name: 'an instance that is not renewed expires after its TTL',
      timeoutMs: 20_000 + b.change * 4,
      when: (x: RegistryFeatures) => x.renewal === 'explicit',
      async run(f) {
        const svc = uniqueService(b, 'expire');
        const ttl = ttlSeconds;
        using watch = new WatchRecorder(f, svc);
        const inst = await f.registry.register(registration(record(svc, 1), { ttl }));
        await watch.until((is) => is.some((i) => i.id === inst.id), b.change, 'the registration in the watch');
        await eventually(
          () => f.registry.instances({ service: svc }),
          (is) => is.length === 0,
          ttl * 1000 + b.change * 2,
          `the un-renewed instance to expire (TTL ${ttl} s)`,
        );
        await watch.until((is) => is.length === 0, b.change, 'the expiry to reach the watch');
        await rejectsWith(f.registry.renew(inst.id), 'WEFT_ERR_UNKNOWN_INSTANCE', 'renew(expired id)');
      },
    },
    {
      name: 'deregister removes the instance; a second deregister is WEFT_ERR_UNKNOWN_INSTANCE',
      timeoutMs: b.change * 3,
      async run(f) {
        const svc = uniqueService(b, 'dereg');
        const keep = await f.registry.register(registration(record(svc, 1)));
        const gone = await f.registry.register(registration(record(svc, 2)));
        const removed = await f.registry.deregister(gone.id);
        check(removed.id === gone.id, 'deregister answers with the removed instance');
        const listed = await f.registry.instances({ service: svc });
        check(
          listed.length === 1 && listed[0]?.id === keep.id,
          () => `after deregister, instances() lists ${describeInstances(listed)}`,
        );
        await rejectsWith(f.registry.deregister(gone.id), 'WEFT_ERR_UNKNOWN_INSTANCE', 'deregister twice');
      },
    },
    {
      name: 'setStatus changes what instances() shows by default',
      timeoutMs: b.change * 3,
      async run(f) {
        const svc = uniqueService(b, 'status');
        const inst = await f.registry.register(registration(record(svc, 1)));
        const out = await f.registry.setStatus(inst.id, 'OUT_OF_SERVICE');
        check(out.status === 'OUT_OF_SERVICE', 'setStatus answers with the new status');
        const up = await f.registry.instances({ service: svc });
        const all = await f.registry.instances({ service: svc, status: 'ALL' });
        check(up.length === 0, () => `OUT_OF_SERVICE instances are hidden by default, got ${describeInstances(up)}`);
        check(all.length === 1 && all[0]?.status === 'OUT_OF_SERVICE', "status: 'ALL' shows them");
        await f.registry.setStatus(inst.id, 'UP');
        const back = await f.registry.instances({ service: svc });
        check(back.length === 1, 'back to UP, the instance is listed again');
        await rejectsWith(
          f.registry.setStatus('0000000000000000', 'UP'),
          'WEFT_ERR_UNKNOWN_INSTANCE',
          'setStatus(unknown id)',
        );
      },
    },
    {
      name: 'watch delivers the current state first, then registrations and deregistrations',
      timeoutMs: b.change * 5,
      async run(f) {
        const svc = uniqueService(b, 'watch');
        const other = uniqueService(b, 'watch-other');
        const a = record(svc, 1);
        const first = await f.registry.register(registration(a));
        using watch = new WatchRecorder(f, svc);
        using all = new WatchRecorder(f, undefined);
        await watch.until(has(a), b.change, 'the first snapshot to hold the existing instance');
        const s0 = watch.latest as RegistrySnapshot;
        check(s0.service === svc, `a per-service watch reports service ${svc}, got ${s0.service}`);
        check(typeof s0.namespace === 'string' && s0.namespace !== '', 'a snapshot names its namespace');
        const c = record(svc, 2);
        await f.registry.register(registration(c));
        const o = record(other, 3);
        await f.registry.register(registration(o));
        await watch.until((is) => has(a)(is) && has(c)(is), b.change, 'the registration to arrive');
        await all.until((is) => has(a)(is) && has(c)(is) && has(o)(is), b.change, 'the catalogue-wide watch');
        check(
          (watch.latest as RegistrySnapshot).instances.every((i) => i.service === svc),
          'a per-service watch holds only that service',
        );
        check((watch.latest as RegistrySnapshot).revision > s0.revision, 'revisions grow');
        await f.registry.deregister(first.id);
        await watch.until((is) => lacks(a)(is) && has(c)(is), b.change, 'the deregistration to arrive');
      },
    },
    {
      name: 'the source over the registry delivers registrations and deregistrations',
      timeoutMs: b.change * 4,
      async run(f) {
        const svc = uniqueService(b, 'source');
        const a = record(svc, 1);
        using rec = new SnapshotRecorder(sourceOf(f), new Set([svc]));
        await rec.until((is) => is.length === 0, b.change, 'a first snapshot');
        const inst = await f.registry.register(registration(a));
        await rec.until(has(a), b.change, 'the registration in the source');
        await f.registry.deregister(inst.id);
        await rec.until(lacks(a), b.change, 'the deregistration in the source');
      },
    },
    {
      name: 'close ends every watch with WEFT_ERR_CLOSED and refuses later calls',
      timeoutMs: b.change * 3,
      async run(f) {
        const svc = uniqueService(b, 'close');
        const watch = new WatchRecorder(f, svc);
        await watch.until(() => true, b.change, 'a first snapshot');
        await f.registry.close();
        const deadline = Date.now() + b.change;
        while (watch.ended === undefined && Date.now() < deadline) await sleep(20);
        check(
          isWeftError(watch.ended, 'WEFT_ERR_CLOSED'),
          () => `onEnd must be called with WEFT_ERR_CLOSED when the registry closes, got ${String(watch.ended)}`,
        );
        await rejectsWith(f.registry.register(registration(record(svc, 1))), 'WEFT_ERR_CLOSED', 'register after close');
        let threw: unknown;
        try {
          f.registry.watch({}, () => {});
        } catch (err) {
          threw = err;
        }
        check(isWeftError(threw, 'WEFT_ERR_CLOSED'), 'watch after close throws WEFT_ERR_CLOSED');
      },
    },
    {
      name: 'after the server restarts, instances are still registered and later changes arrive',
      timeoutMs: b.recovery * 4,
      async run(f) {
        const svc = uniqueService(b, 'restart');
        const a = record(svc, 1);
        // A TTL long enough to outlast the restart itself.
        const inst = await f.registry.register(registration(a, { ttl: Math.max(30, ttlSeconds) }));
        using watch = new WatchRecorder(f, svc);
        using rec = new SnapshotRecorder(sourceOf(f), new Set([svc]));
        await rec.until(has(a), b.change, 'the instance in the source before the restart');
        await f.restartServer();
        await eventually(
          () => f.registry.instances({ service: svc }),
          (is) => is.some((i) => i.id === inst.id),
          b.recovery,
          'the instance to be listed after the restart',
        );
        const later = record(svc, 2);
        await eventually(
          async () => [await f.registry.register(registration(later))],
          () => true,
          b.recovery,
          'a registration after the restart to succeed',
        );
        await rec.until((is) => has(a)(is) && has(later)(is), b.recovery, 'the later registration in the source');
        await watch.until((is) => has(a)(is) && has(later)(is), b.recovery, 'the later registration in the watch');
        check(findEndpoint(rec.current(), later) !== undefined, 'source and watch agree');
        // The consumer of the watch heard of the outage, and of its end.
        check(watch.ended === undefined, () => `a restart must not end a watch (onEnd got ${String(watch.ended)})`);
        check(
          watch.errors.length > 0,
          'the watch must report losing its server through WatchOptions.onError (the consumer cannot tell it is stale otherwise)',
        );
        const deadline = Date.now() + b.change;
        while (watch.stale && Date.now() < deadline) await sleep(20);
        check(!watch.stale, 'the watch must call WatchOptions.onRecover once it works again after onError');
        check(!watch.recoveredUnasked, 'onRecover must only follow an onError');
      },
    },
  ];
  return cases
    .filter((c) => c.when === undefined || c.when(features))
    .map(({ name, timeoutMs, run }) => ({ name, timeoutMs, run }));
}
