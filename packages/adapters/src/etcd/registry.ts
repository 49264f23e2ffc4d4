import {
  type Clock,
  ClosedError,
  effectiveTtlSeconds,
  hasAllTags,
  type InstanceQuery,
  type InstanceStatus,
  InstanceStatusSchema,
  InvalidArgumentError,
  instanceId,
  type NamespaceOption,
  parseOrThrow,
  type RegistrationInput,
  RegistrationSchema,
  type Registry,
  type RegistrySnapshot,
  type ServiceInstance,
  type SnapshotListener,
  type Subscription,
  systemClock,
  type TimerHandle,
  type TtlPolicy,
  TtlPolicySchema,
  UnknownInstanceError,
  type WatchOptions,
} from '@weft/core';
import type { Etcd3, IKeyValue } from 'etcd3';
import { EventEmitter } from 'eventemitter3';
import { BackoffState } from '../internal/backoff.js';
import { pause } from '../internal/clock.js';
import { type AdapterLogger, describeError, processWarningLogger } from '../internal/log.js';
import { namespaceOf } from '../internal/options.js';
import { LatestPump } from '../internal/pump.js';
import { EtcdClientHolder, type EtcdConnectionOptions, grpcDeadline } from './client.js';
import { byServiceThenId, InstanceDecoder } from './decoder.js';
import { KeepAliveChannel } from './keepalive.js';
import {
  decodeInstance,
  encodeInstance,
  instanceKey,
  namespaceKeyPrefix,
  normalizePrefix,
  prefixRangeEnd,
  serviceKeyPrefix,
} from './keys.js';
import { PrefixWatch, timingOf, type WatchTiming } from './prefix-watch.js';

/** Options of {@link EtcdRegistry}. */
export interface EtcdRegistryOptions extends EtcdConnectionOptions, WatchTiming {
  /** Root of Weft's keys. Default `/weft`. */
  prefix?: string;
  /** TTL policy; unset fields keep Amalgam8's (default 30 s, bounds 10 s – 10 min). The TTL becomes the lease's. */
  ttl?: Partial<TtlPolicy>;
  /**
   * `true` (default): instances registered through this object are kept alive by it — their
   * leases get keep-alives every TTL/3, and a lease found lost (expired, revoked, or not confirmed
   * for a whole TTL) is replaced and the instance written again — until `deregister()` or
   * `close()`. This is what a service registering itself wants. `false`: Amalgam8's heartbeat
   * semantics — an instance expires unless `renew()` is called within its TTL, from any process
   * sharing the etcd (several stateless registry replicas).
   */
  keepAlive?: boolean;
  /** On `close()`, revoke the leases this object keeps alive, so its instances disappear at once. Default true. */
  revokeOnClose?: boolean;
  /**
   * Where coded warnings go (bad values, lost leases and failed re-registrations, relists, one
   * `WEFT_WARN_WATCH_RESTART` per failure streak of a watch). Default: process warnings.
   */
  logger?: AdapterLogger;
}

/** Events of {@link EtcdRegistry}. */
export interface EtcdRegistryEvents {
  /** The lease of an instance this registry keeps alive was lost; it is being registered again. */
  leaseLost: (instance: ServiceInstance, reason: string) => void;
  /** An instance whose lease was lost is registered again, on a new lease. */
  reregistered: (instance: ServiceInstance) => void;
  /** An attempt to register again an instance whose lease was lost failed; it is retried with backoff. */
  reregisterFailed: (instance: ServiceInstance, error: unknown) => void;
  /** A watch listener threw or rejected; other listeners and later deliveries go on. */
  listenerError: (error: unknown, snapshot: RegistrySnapshot) => void;
}

/** An instance whose lease this registry keeps alive. */
interface Owned {
  readonly id: string;
  readonly namespace: string;
  readonly key: string;
  instance: ServiceInstance;
  /** The lease the key is on; undefined while it has none (OUT_OF_SERVICE) or a new one is being obtained. */
  lease: string | undefined;
  /** When the server last confirmed the lease (grant or keep-alive answer). */
  lastAck: number;
  timer: TimerHandle | undefined;
  reregistering: boolean;
}

const UP_ONLY: readonly InstanceStatus[] = ['UP'];

/**
 * A Weft {@link Registry} stored in etcd, so several processes (stateless registry replicas,
 * services registering themselves) share one catalogue. Each instance is one key holding its
 * JSON (layout in the package README) on an etcd lease of its TTL; when the lease ends, etcd
 * deletes the key and every watcher sees the instance go.
 *
 * With `keepAlive` (the default) the registry keeps the leases of the instances it registered
 * alive and checks them: a keep-alive answered with TTL 0 (the lease expired or was revoked), or
 * no answer for a whole TTL (a partition long enough for the lease to expire), counts as lost —
 * the silent failure users of raw etcd3 leases run into — and the instance is registered again on
 * a new lease, with a `WEFT_WARN_ETCD_LEASE_LOST` warning and a `leaseLost` event.
 */
export class EtcdRegistry extends EventEmitter<EtcdRegistryEvents> implements Registry {
  private readonly holder: EtcdClientHolder;
  private readonly prefix: string;
  private readonly policy: TtlPolicy;
  private readonly keepAlive: boolean;
  private readonly logger: AdapterLogger;
  private readonly requestTimeoutMs: number;
  private readonly clock: Clock;
  private readonly owned = new Map<string, Owned>();
  /** Known keys by `namespace\0id`, to find an instance without scanning its namespace. */
  private readonly keys = new Map<string, string>();
  private readonly watches = new Set<{ stop(reason: unknown): void }>();
  private readonly channel: KeepAliveChannel;
  private closed = false;

  constructor(private readonly options: EtcdRegistryOptions = {}) {
    super();
    this.prefix = normalizePrefix(options.prefix);
    try {
      this.policy = Object.freeze(parseOrThrow(TtlPolicySchema, options.ttl ?? {}, 'TTL policy'));
    } catch (err) {
      if (err instanceof InvalidArgumentError)
        throw new InvalidArgumentError(
          'EtcdRegistry options',
          err.issues.map((i) => ({ path: i.path === '' ? 'ttl' : `ttl.${i.path}`, message: i.message })),
          { cause: err },
        );
      throw err;
    }
    this.keepAlive = options.keepAlive ?? true;
    this.logger = options.logger ?? processWarningLogger;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.clock = options.clock ?? systemClock;
    this.holder = new EtcdClientHolder(options);
    this.channel = new KeepAliveChannel(this.holder, (lease, ttl) => this.onKeepAliveAnswer(lease, ttl), this.clock);
  }

  /** The TTL policy in force. */
  get ttlPolicy(): TtlPolicy {
    return this.policy;
  }

  // ---------------------------------------------------------------- write side

  async register(registration: RegistrationInput, options?: NamespaceOption): Promise<ServiceInstance> {
    this.assertOpen();
    const reg = parseOrThrow(RegistrationSchema, registration, 'registration');
    const namespace = namespaceOf(options);
    const id = instanceId(reg.service, reg.endpoint.type, reg.endpoint.value);
    const key = instanceKey(this.prefix, namespace, reg.service, id);
    const ttl = effectiveTtlSeconds(reg.ttl, this.policy);
    const client = await this.client();
    const needsLease = reg.status !== 'OUT_OF_SERVICE';
    const [existing, lease] = await Promise.all([
      this.read(client, key),
      needsLease ? this.grant(client, ttl) : Promise.resolve(undefined),
    ]);
    const now = this.clock.now();
    const previous = existing === undefined ? undefined : decodeInstance(this.prefix, key, existing.value);
    const instance: ServiceInstance = freeze({
      id,
      namespace,
      service: reg.service,
      endpoint: reg.endpoint,
      tags: reg.tags,
      metadata: reg.metadata,
      status: reg.status,
      ttl,
      registeredAt: previous !== undefined && 'instance' in previous ? previous.instance.registeredAt : now,
      lastHeartbeat: now,
    });
    await client.kv.put(
      { key: Buffer.from(key), value: Buffer.from(encodeInstance(instance)), lease: lease ?? '0' },
      this.deadline(),
    );
    this.keys.set(`${namespace}\u0000${id}`, key);
    // The key no longer uses its previous lease; end it so it does not linger until its TTL.
    if (existing !== undefined && existing.lease !== '0' && existing.lease !== lease) this.revoke(existing.lease);
    if (this.keepAlive) this.own(key, instance, lease);
    return instance;
  }

  async renew(id: string, options?: NamespaceOption): Promise<ServiceInstance> {
    this.assertOpen();
    const namespace = namespaceOf(options);
    const client = await this.client();
    const found = await this.find(client, namespace, id);
    if (found === undefined) throw new UnknownInstanceError(id, namespace);
    const { kv, instance } = found;
    if (kv.lease === '0') return freeze({ ...instance, lastHeartbeat: this.clock.now() }); // OUT_OF_SERVICE: never expires
    const ttl = await this.channel.once(kv.lease, this.requestTimeoutMs);
    const own = this.owned.get(ownedKey(namespace, id));
    if (ttl <= 0) {
      if (own !== undefined) {
        // Ours: the lease is gone but we keep the instance registered; do it now.
        this.leaseLost(own, 'the lease had expired when renew() was called');
        await this.reRegister(own);
        return freeze({ ...own.instance, lastHeartbeat: this.clock.now() });
      }
      throw new UnknownInstanceError(id, namespace);
    }
    if (own !== undefined && own.lease === kv.lease) own.lastAck = this.clock.now();
    return freeze({ ...instance, lastHeartbeat: this.clock.now() });
  }

  async deregister(id: string, options?: NamespaceOption): Promise<ServiceInstance> {
    this.assertOpen();
    const namespace = namespaceOf(options);
    const client = await this.client();
    const own = this.disown(namespace, id);
    const found = await this.find(client, namespace, id);
    if (found === undefined) {
      if (own?.lease !== undefined) this.revoke(own.lease);
      throw new UnknownInstanceError(id, namespace);
    }
    const res = await client.kv.deleteRange({ key: Buffer.from(found.key) }, this.deadline());
    this.keys.delete(ownedKey(namespace, id));
    const lease = own?.lease ?? found.kv.lease;
    if (lease !== '0' && lease !== undefined) this.revoke(lease);
    if (Number(res.deleted) === 0) throw new UnknownInstanceError(id, namespace);
    return found.instance;
  }

  async setStatus(id: string, status: InstanceStatus, options?: NamespaceOption): Promise<ServiceInstance> {
    this.assertOpen();
    const checked = InstanceStatusSchema.safeParse(status);
    if (!checked.success)
      throw new InvalidArgumentError('status', [{ path: '', message: `must be UP, STARTING or OUT_OF_SERVICE` }]);
    const namespace = namespaceOf(options);
    const client = await this.client();
    for (let attempt = 0; attempt < 5; attempt++) {
      const found = await this.find(client, namespace, id);
      if (found === undefined) throw new UnknownInstanceError(id, namespace);
      const { kv, instance, key } = found;
      const next = freeze({ ...instance, status, lastHeartbeat: this.clock.now() });
      const own = this.owned.get(ownedKey(namespace, id));
      let lease: string | undefined; // undefined: keep the key's lease
      if (status === 'OUT_OF_SERVICE') lease = '0';
      else if (kv.lease === '0') lease = await this.grant(client, instance.ttl);
      const put = {
        key: Buffer.from(key),
        value: Buffer.from(encodeInstance(next)),
        ...(lease === undefined ? { ignore_lease: true } : { lease }),
      };
      // Only if nobody changed the key since we read it (another replica, a lease expiry).
      const res = await client.kv.txn(
        {
          compare: [{ key: Buffer.from(key), target: 'Mod', result: 'Equal', mod_revision: kv.mod_revision }],
          success: [{ request_put: put }],
          failure: [],
        },
        this.deadline(),
      );
      if (!res.succeeded) {
        if (lease !== undefined && lease !== '0') this.revoke(lease);
        continue;
      }
      if (lease === '0' && kv.lease !== '0') this.revoke(kv.lease); // OUT_OF_SERVICE keys never expire
      if (own !== undefined) {
        own.instance = next;
        if (lease !== undefined) {
          own.lease = lease === '0' ? undefined : lease;
          own.lastAck = this.clock.now();
        }
      }
      return next;
    }
    throw new Error(`setStatus(${id}): the instance kept changing under us; try again`);
  }

  // ---------------------------------------------------------------- read side

  async services(options?: NamespaceOption): Promise<string[]> {
    this.assertOpen();
    const all = await this.list(namespaceOf(options), undefined);
    return [...new Set(all.map((i) => i.service))].sort();
  }

  async instances(query: InstanceQuery = {}): Promise<ServiceInstance[]> {
    this.assertOpen();
    const q = checkQuery(query);
    const all = await this.list(q.namespace, q.service);
    return all.filter((i) => (q.status === 'ALL' || q.status.includes(i.status)) && hasAllTags(i.tags, q.tags));
  }

  /**
   * Watches a namespace (or one service) through etcd: the snapshots of an {@link EtcdSource}.
   * While etcd cannot be reached the watch retries by itself; `options.onError` hears each failed
   * attempt (the logger one `WEFT_WARN_WATCH_RESTART` per failure streak) and `options.onRecover`
   * the recovery, after which the current state is delivered again. `onEnd` is called on
   * `close()`, on abort, and when the watch cannot run at all (`etcd3` is not installed).
   */
  watch(options: WatchOptions, listener: SnapshotListener): Subscription {
    this.assertOpen();
    const namespace = namespaceOf(options);
    const service = options.service;
    if (service !== undefined && (typeof service !== 'string' || service === ''))
      throw new InvalidArgumentError('watch options', [{ path: 'service', message: 'must be a non-empty string' }]);
    const name = `etcd:${this.prefix}/${namespace}${service === undefined ? '' : `/${service}`}`;
    const decoder = new InstanceDecoder(this.prefix, name, this.logger);
    let last: RegistrySnapshot | undefined;
    const pump = new LatestPump<RegistrySnapshot>(listener, (error) => this.reportListenerError(error, last));
    const watch = new PrefixWatch({
      ...timingOf(this.options),
      holder: this.holder,
      prefix:
        service === undefined
          ? namespaceKeyPrefix(this.prefix, namespace)
          : serviceKeyPrefix(this.prefix, namespace, service),
      name,
      logger: this.logger,
      onState: (state, revision) => {
        last = Object.freeze({ namespace, service, revision, instances: Object.freeze(decoder.decode(state)) });
        pump.push(last);
      },
      // Connection failures are retried by the watch itself (and logged once per failure streak);
      // the consumer hears of them, so it can mark what it holds stale. The watch only ends on
      // close, abort, or a failure no retry can mend (etcd3 not installed).
      onError: (error) => this.callConsumer(() => options.onError?.(error), last),
      onRecover: () => this.callConsumer(() => options.onRecover?.(), last),
      onFatal: (error) => handle.stop(error),
    });
    let ended = false;
    const handle = {
      stop: (reason: unknown): void => {
        if (ended) return;
        ended = true;
        this.watches.delete(handle);
        watch.stop();
        pump.close();
        options.signal?.removeEventListener('abort', onAbort);
        if (reason !== undefined) {
          try {
            options.onEnd?.(reason);
          } catch (err) {
            this.reportListenerError(err, last);
          }
        }
      },
    };
    const onAbort = (): void => handle.stop(options.signal?.reason ?? new Error('aborted'));
    this.watches.add(handle);
    if (options.signal?.aborted) {
      queueMicrotask(onAbort);
    } else {
      options.signal?.addEventListener('abort', onAbort, { once: true });
      watch.start();
    }
    const unsubscribe = (): void => handle.stop(undefined);
    return { unsubscribe, [Symbol.dispose]: unsubscribe };
  }

  /** Stops keep-alives (revoking the leases unless `revokeOnClose: false`), ends every watch, closes the client. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const leases: string[] = [];
    for (const o of this.owned.values()) {
      o.timer?.clear();
      if (o.lease !== undefined) leases.push(o.lease);
    }
    this.owned.clear();
    for (const w of [...this.watches]) w.stop(new ClosedError('EtcdRegistry'));
    this.channel.close();
    if (this.options.revokeOnClose !== false && leases.length > 0) {
      try {
        const client = await this.holder.get();
        await Promise.allSettled(leases.map((ID) => client.leaseClient.leaseRevoke({ ID }, grpcDeadline(2_000))));
      } catch {
        // the server is away: the leases expire on their own
      }
    }
    await this.holder.close();
  }

  // ---------------------------------------------------------------- keep-alive of owned instances

  private own(key: string, instance: ServiceInstance, lease: string | undefined): void {
    const k = ownedKey(instance.namespace, instance.id);
    const previous = this.owned.get(k);
    previous?.timer?.clear();
    const o: Owned = {
      id: instance.id,
      namespace: instance.namespace,
      key,
      instance,
      lease,
      lastAck: this.clock.now(),
      timer: undefined,
      reregistering: false,
    };
    // The Go client's rhythm: a keep-alive every TTL/3, so two may be lost before the lease ends.
    const every = Math.max(250, (instance.ttl * 1000) / 3);
    o.timer = this.clock.setInterval(() => this.tick(o), every);
    this.owned.set(k, o);
  }

  private disown(namespace: string, id: string): Owned | undefined {
    const k = ownedKey(namespace, id);
    const o = this.owned.get(k);
    if (o === undefined) return undefined;
    this.owned.delete(k);
    o.timer?.clear();
    return o;
  }

  private tick(o: Owned): void {
    if (this.closed || o.lease === undefined || o.reregistering) return;
    const silentFor = this.clock.now() - o.lastAck;
    const ttlMs = o.instance.ttl * 1000;
    if (silentFor > ttlMs) {
      // Not confirmed for a whole TTL: the server may well have expired it. Assume the worst.
      this.leaseLost(o, `no keep-alive was confirmed for ${Math.round(silentFor / 1000)} s (TTL ${o.instance.ttl} s)`);
      void this.reRegister(o);
      return;
    }
    // Two keep-alives unanswered: the stream may sit on a dead connection; open a fresh one.
    if (silentFor > (ttlMs * 2) / 3) this.channel.drop();
    this.channel.send(o.lease);
  }

  private onKeepAliveAnswer(lease: string, ttl: number): void {
    for (const o of this.owned.values()) {
      if (o.lease !== lease) continue;
      if (ttl > 0) o.lastAck = this.clock.now();
      else if (!o.reregistering) {
        this.leaseLost(o, `lease ${lease} no longer exists on the server (expired or revoked)`);
        void this.reRegister(o);
      }
    }
  }

  private leaseLost(o: Owned, reason: string): void {
    o.lease = undefined;
    this.logger.warn({
      code: 'WEFT_WARN_ETCD_LEASE_LOST',
      message: `etcd:${this.prefix}: the lease of ${o.instance.service}/${o.id} (key ${o.key}) was lost: ${reason}; registering it again`,
      source: `etcd:${this.prefix}`,
      object: o.key,
    });
    this.emit('leaseLost', o.instance, reason);
  }

  /** Puts the instance back on a new lease, retrying with backoff until it works or it is no longer ours. */
  private async reRegister(o: Owned): Promise<void> {
    if (o.reregistering) {
      while (o.reregistering && this.isOwned(o)) await pause(this.clock, 50);
      return;
    }
    o.reregistering = true;
    const backoff = new BackoffState({ baseMs: 100, maxMs: 2_000, jitter: 'full', ...this.options.backoff });
    const source = `etcd:${this.prefix}`;
    try {
      while (this.isOwned(o)) {
        try {
          const client = await this.client();
          const lease = await this.grant(client, o.instance.ttl);
          const instance = freeze({ ...o.instance, lastHeartbeat: this.clock.now() });
          await client.kv.put(
            { key: Buffer.from(o.key), value: Buffer.from(encodeInstance(instance)), lease },
            this.deadline(),
          );
          if (!this.isOwned(o)) {
            // Deregistered (or closed) meanwhile: undo.
            await client.kv.deleteRange({ key: Buffer.from(o.key) }, this.deadline()).catch(() => {});
            this.revoke(lease);
            return;
          }
          o.instance = instance;
          o.lease = lease;
          o.lastAck = this.clock.now();
          if (backoff.attempts > 0)
            this.logger.debug?.(`${source}: ${o.instance.service}/${o.id} is registered again`, {
              event: 'reregistered',
              key: o.key,
              failures: backoff.attempts,
            });
          this.emit('reregistered', instance);
          return;
        } catch (err) {
          if (!this.isOwned(o)) return;
          // One warning per streak: the first failure says the instance is out of discovery and
          // why; the retries that follow are debug events until one works.
          if (backoff.attempts === 0)
            this.logger.warn({
              code: 'WEFT_WARN_ETCD_REREGISTER_FAILED',
              message: `${source}: registering ${o.instance.service}/${o.id} again (key ${o.key}) failed: ${describeError(err)}; it is out of discovery until a retry works (retrying with backoff)`,
              source,
              object: o.key,
              cause: err,
            });
          else
            this.logger.debug?.(`${source}: registering ${o.key} again failed again: ${describeError(err)}`, {
              event: 'reregister-failed',
              key: o.key,
              attempt: backoff.attempts + 1,
            });
          this.emit('reregisterFailed', o.instance, err);
          await pause(this.clock, backoff.next());
        }
      }
    } finally {
      o.reregistering = false;
    }
  }

  private isOwned(o: Owned): boolean {
    return !this.closed && this.owned.get(ownedKey(o.namespace, o.id)) === o;
  }

  // ---------------------------------------------------------------- helpers

  private async client(): Promise<Etcd3> {
    return this.holder.get();
  }

  private deadline(): { deadline: number } {
    return grpcDeadline(this.requestTimeoutMs);
  }

  private async grant(client: Etcd3, ttl: number): Promise<string> {
    const res = await client.leaseClient.leaseGrant({ TTL: ttl }, this.deadline());
    return res.ID;
  }

  private revoke(lease: string): void {
    void this.holder
      .get()
      .then((c) => c.leaseClient.leaseRevoke({ ID: lease }, this.deadline()))
      .catch(() => {}); // already gone, or the server is away and it expires by itself
  }

  private async read(client: Etcd3, key: string): Promise<IKeyValue | undefined> {
    const res = await client.kv.range({ key: Buffer.from(key) }, this.deadline());
    return res.kvs[0];
  }

  /** The key, value and decoded instance of `id`, from the key cache or a scan of the namespace's keys. */
  private async find(
    client: Etcd3,
    namespace: string,
    id: string,
  ): Promise<{ key: string; kv: IKeyValue; instance: ServiceInstance } | undefined> {
    const cacheKey = ownedKey(namespace, id);
    let key = this.keys.get(cacheKey);
    let kv = key === undefined ? undefined : await this.read(client, key);
    if (kv === undefined) {
      key = await this.scanForId(client, namespace, id);
      if (key === undefined) {
        this.keys.delete(cacheKey);
        return undefined;
      }
      kv = await this.read(client, key);
      if (kv === undefined) return undefined;
      this.keys.set(cacheKey, key);
    }
    const decoded = decodeInstance(this.prefix, key as string, kv.value);
    if (!('instance' in decoded)) return undefined;
    return { key: key as string, kv, instance: decoded.instance };
  }

  private async scanForId(client: Etcd3, namespace: string, id: string): Promise<string | undefined> {
    const start = Buffer.from(namespaceKeyPrefix(this.prefix, namespace));
    const end = prefixRangeEnd(start);
    const suffix = `/${encodeURIComponent(id)}`;
    let from = start;
    for (;;) {
      const res = await client.kv.range({ key: from, range_end: end, keys_only: true, limit: 1000 }, this.deadline());
      for (const kv of res.kvs) {
        const k = kv.key.toString('utf8');
        if (k.endsWith(suffix)) return k;
      }
      const last = res.kvs[res.kvs.length - 1];
      if (!res.more || last === undefined) return undefined;
      from = Buffer.concat([last.key, Buffer.from([0])]);
    }
  }

  private async list(namespace: string, service: string | undefined): Promise<ServiceInstance[]> {
    const client = await this.client();
    const start = Buffer.from(
      service === undefined
        ? namespaceKeyPrefix(this.prefix, namespace)
        : serviceKeyPrefix(this.prefix, namespace, service),
    );
    const end = prefixRangeEnd(start);
    const out: ServiceInstance[] = [];
    let from = start;
    let revision: string | undefined;
    for (;;) {
      const res = await client.kv.range(
        { key: from, range_end: end, limit: 1000, ...(revision === undefined ? {} : { revision }) },
        this.deadline(),
      );
      revision ??= res.header.revision;
      for (const kv of res.kvs) {
        const key = kv.key.toString('utf8');
        const d = decodeInstance(this.prefix, key, kv.value);
        if ('instance' in d) out.push(d.instance);
        // Bad values are reported by watches (once per change); a read just leaves them out.
      }
      const last = res.kvs[res.kvs.length - 1];
      if (!res.more || last === undefined) break;
      from = Buffer.concat([last.key, Buffer.from([0])]);
    }
    return out.sort(byServiceThenId);
  }

  /** Runs a consumer's watch callback; a throw is reported as a listener error, never breaks the watch. */
  private callConsumer(callback: () => void, snapshot: RegistrySnapshot | undefined): void {
    try {
      callback();
    } catch (err) {
      this.reportListenerError(err, snapshot);
    }
  }

  private reportListenerError(error: unknown, snapshot: RegistrySnapshot | undefined): void {
    if (this.listenerCount('listenerError') > 0 && snapshot !== undefined) {
      this.emit('listenerError', error, snapshot);
      return;
    }
    this.logger.warn({
      code: 'WEFT_WARN_LISTENER_ERROR',
      message: `etcd:${this.prefix}: a watch listener failed: ${describeError(error)}; later deliveries go on`,
      source: `etcd:${this.prefix}`,
      cause: error,
    });
  }

  private assertOpen(): void {
    if (this.closed) throw new ClosedError('EtcdRegistry');
  }
}

function ownedKey(namespace: string, id: string): string {
  return `${namespace}\u0000${id}`;
}

function checkQuery(query: InstanceQuery): {
  namespace: string;
  service: string | undefined;
  tags: readonly string[];
  status: readonly InstanceStatus[] | 'ALL';
} {
  const issues: { path: string; message: string }[] = [];
  if (query.service !== undefined && typeof query.service !== 'string')
    issues.push({ path: 'service', message: 'must be a string' });
  if (query.tags !== undefined && !(Array.isArray(query.tags) && query.tags.every((t) => typeof t === 'string')))
    issues.push({ path: 'tags', message: 'must be an array of strings' });
  const status = query.status ?? UP_ONLY;
  if (status !== 'ALL' && !(Array.isArray(status) && status.every((s) => InstanceStatusSchema.safeParse(s).success)))
    issues.push({ path: 'status', message: "must be 'ALL' or a list of UP, STARTING, OUT_OF_SERVICE" });
  if (issues.length > 0) throw new InvalidArgumentError('instance query', issues);
  return { namespace: namespaceOf(query), service: query.service, tags: query.tags ?? [], status };
}

function freeze(i: ServiceInstance): ServiceInstance {
  return Object.freeze({ ...i, tags: Object.freeze([...i.tags]) });
}
