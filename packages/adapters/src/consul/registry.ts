import {
  ClosedError,
  DEFAULT_TTL_POLICY,
  effectiveTtlSeconds,
  hasAllTags,
  type InstanceQuery,
  type InstanceStatus,
  instanceFingerprint,
  instanceId,
  type NamespaceOption,
  parseOrThrow,
  type Registration,
  type RegistrationInput,
  RegistrationSchema,
  type Registry,
  type RegistrySnapshot,
  type ServiceInstance,
  type SnapshotListener,
  type Subscription,
  type TtlPolicy,
  TtlPolicySchema,
  UnknownInstanceError,
  type ValidationIssue,
  type WatchOptions,
} from '@weft/core';
import { LazyClient } from '../internal/lazy.js';
import { describeError } from '../internal/log.js';
import { namespaceOf } from '../internal/options.js';
import { LatestPump } from '../internal/pump.js';
import { CatalogWatch } from './catalog-watch.js';
import {
  type ConsulAgentService,
  type ConsulApi,
  type ConsulConnectionOptions,
  type ConsulServiceDefinition,
  createConsulApi,
} from './client.js';
import {
  checkIdOf,
  consulIdOf,
  decodeMetadata,
  entryToInstance,
  META_REGISTERED_AT,
  META_STATUS,
  META_TTL,
  META_TYPE,
  registrationMeta,
} from './mapping.js';
import { type ConsulWatchOptions, type ResolvedWatchOptions, resolveWatchOptions, throwIfIssues } from './options.js';

/** The health check a {@link ConsulRegistry} attaches to each instance. */
export type ConsulCheckOption =
  | {
      /**
       * A TTL check (the default): the instance stays passing while `renew()` is called within
       * its TTL; past it the check turns critical and the instance drops out of discovery, the
       * way an expired Weft instance does. Each `renew()` is a TTL pass (`/v1/agent/check/pass`).
       */
      type: 'ttl';
    }
  | {
      /**
       * An HTTP check: Consul itself polls the instance; `renew()` only confirms the instance is
       * still registered. A check starts critical (Consul's default) until its first success.
       */
      type: 'http';
      /** Path polled on the instance's own host and port. Default `/health`. */
      path?: string;
      /** Full URL to poll instead of `path` (a function gets the registered instance). */
      url?: string | ((instance: ServiceInstance) => string);
      /** Seconds between polls. Default 10. */
      intervalSeconds?: number;
      /** Seconds before a poll counts as failed. Default 5. */
      timeoutSeconds?: number;
    };

/** Options of {@link ConsulRegistry}. */
export interface ConsulRegistryOptions extends ConsulWatchOptions {
  /** The health check of registered instances. Default `{ type: 'ttl' }`. */
  check?: ConsulCheckOption;
  /**
   * Consul removes an instance whose check has stayed critical this long, in seconds (Consul's
   * `DeregisterCriticalServiceAfter`; its reaper runs about every 30 s and takes at least 60 s).
   * Default 60. `OUT_OF_SERVICE` instances get none: like Weft's, they never expire.
   */
  deregisterCriticalAfterSeconds?: number;
  /** TTL policy; unset fields keep Weft's (default 30 s, bounds 10 s – 10 min). */
  ttl?: Partial<TtlPolicy>;
  /**
   * After a write, wait (up to this many ms) until Consul's catalog shows it, so `instances()`
   * and watches right after `register()` see the new state (the agent syncs its services to the
   * catalog in the background). 0 turns it off. Default 3000.
   */
  syncTimeoutMs?: number;
}

interface ResolvedCheck {
  type: 'ttl' | 'http';
  path: string;
  url: string | ((instance: ServiceInstance) => string) | undefined;
  intervalSeconds: number;
  timeoutSeconds: number;
}

const MAINTENANCE_REASON = 'Weft: OUT_OF_SERVICE';

/**
 * A Weft {@link Registry} stored in Consul. Instances are Consul services registered on the
 * local agent with a TTL check (or an HTTP check); Weft tags and metadata map to Consul tags
 * and meta (see the package README for the mapping); `renew` passes the TTL check;
 * `setStatus('OUT_OF_SERVICE')` puts the service in Consul maintenance mode. Reads and watches
 * see the whole catalog of the datacenter, including services Weft did not register.
 *
 * Instance ids are Weft's (sha256 of service/type/value), so registering the same endpoint
 * twice updates one Consul service. Weft namespaces are kept in the `weft-namespace` meta key
 * (Consul Enterprise namespaces are not used).
 */
export class ConsulRegistry implements Registry {
  private readonly watchOptions: ResolvedWatchOptions;
  private readonly check: ResolvedCheck;
  private readonly deregisterAfter: number;
  private readonly ttlPolicy: TtlPolicy;
  private readonly syncTimeoutMs: number;
  private readonly watches = new Set<{ end(reason: unknown): void }>();
  private readonly api: LazyClient<ConsulApi>;
  private revision = 0;
  private closed = false;

  constructor(options: ConsulRegistryOptions = {}) {
    const issues: ValidationIssue[] = [];
    const { address, token, datacenter, ...watch } = resolveWatchOptions(options, issues);
    this.watchOptions = watch;
    const connection: ConsulConnectionOptions = {
      ...(address === undefined ? {} : { address }),
      ...(token === undefined ? {} : { token }),
      ...(datacenter === undefined ? {} : { datacenter }),
    };
    this.api = new LazyClient(() => createConsulApi(connection));
    const c = options.check ?? { type: 'ttl' };
    if (c.type !== 'ttl' && c.type !== 'http')
      issues.push({
        path: 'check.type',
        message: `must be "ttl" or "http" (got ${JSON.stringify((c as { type?: unknown }).type)})`,
      });
    const http = c.type === 'http' ? c : undefined;
    this.check = {
      type: c.type,
      path: http?.path ?? '/health',
      url: http?.url,
      intervalSeconds: http?.intervalSeconds ?? 10,
      timeoutSeconds: http?.timeoutSeconds ?? 5,
    };
    if (!(this.check.intervalSeconds > 0)) issues.push({ path: 'check.intervalSeconds', message: 'must be > 0' });
    if (!(this.check.timeoutSeconds > 0)) issues.push({ path: 'check.timeoutSeconds', message: 'must be > 0' });
    this.deregisterAfter = options.deregisterCriticalAfterSeconds ?? 60;
    if (!(this.deregisterAfter > 0))
      issues.push({ path: 'deregisterCriticalAfterSeconds', message: 'must be a number of seconds > 0' });
    this.syncTimeoutMs = options.syncTimeoutMs ?? 3000;
    if (!(this.syncTimeoutMs >= 0)) issues.push({ path: 'syncTimeoutMs', message: 'must be >= 0' });
    const ttl = TtlPolicySchema.safeParse(options.ttl ?? {});
    if (!ttl.success)
      issues.push(...ttl.error.issues.map((i) => ({ path: `ttl.${i.path.join('.')}`, message: i.message })));
    this.ttlPolicy = ttl.success ? ttl.data : DEFAULT_TTL_POLICY;
    throwIfIssues('Consul registry options', issues);
  }

  async register(registration: RegistrationInput, options?: NamespaceOption): Promise<ServiceInstance> {
    this.assertOpen();
    const reg = parseOrThrow(RegistrationSchema, registration, 'registration');
    const namespace = namespaceOf(options);
    const api = await this.api.get();
    const ttl = this.check.type === 'ttl' ? effectiveTtlSeconds(reg.ttl, this.ttlPolicy) : 0;
    const id = instanceId(reg.service, reg.endpoint.type, reg.endpoint.value);
    const consulId = consulIdOf(id, namespace);
    const now = this.watchOptions.clock.now();
    const instance: ServiceInstance = {
      id,
      namespace,
      service: reg.service,
      endpoint: reg.endpoint,
      tags: Object.freeze([...reg.tags]),
      metadata: reg.metadata,
      status: reg.status,
      ttl,
      registeredAt: now,
      lastHeartbeat: now,
    };
    await api.register(this.definition(reg, instance, consulId));
    await this.persistPass(api, consulId);
    await api.maintenance(consulId, reg.status === 'OUT_OF_SERVICE', MAINTENANCE_REASON);
    await this.awaitCatalog(api, instance, true);
    return instance;
  }

  async renew(id: string, options?: NamespaceOption): Promise<ServiceInstance> {
    this.assertOpen();
    const namespace = namespaceOf(options);
    const api = await this.api.get();
    const { service, instance } = await this.live(api, id, namespace);
    const now = this.watchOptions.clock.now();
    if (this.check.type === 'ttl')
      await api.passCheck(checkIdOf(service.ID), `renewed by Weft at ${new Date(now).toISOString()}`);
    return { ...instance, lastHeartbeat: now };
  }

  async deregister(id: string, options?: NamespaceOption): Promise<ServiceInstance> {
    this.assertOpen();
    const namespace = namespaceOf(options);
    const api = await this.api.get();
    const service = await api.agentService(consulIdOf(id, namespace));
    if (service === undefined) throw new UnknownInstanceError(id, namespace);
    await api.deregister(service.ID);
    const instance = this.fromAgentService(service, namespace);
    await this.awaitCatalog(api, instance, false);
    return instance;
  }

  async setStatus(id: string, status: InstanceStatus, options?: NamespaceOption): Promise<ServiceInstance> {
    this.assertOpen();
    const namespace = namespaceOf(options);
    const api = await this.api.get();
    const { service, instance } = await this.live(api, id, namespace);
    const reg: Registration = {
      service: instance.service,
      endpoint: instance.endpoint as Registration['endpoint'],
      tags: [...instance.tags],
      metadata: instance.metadata as Registration['metadata'],
      status,
      ttl: instance.ttl,
    };
    const updated: ServiceInstance = { ...instance, status, lastHeartbeat: this.watchOptions.clock.now() };
    // Re-registering replaces the definition (meta, check) and passes the check, like a renewal.
    await api.register(this.definition(reg, updated, service.ID));
    await this.persistPass(api, service.ID);
    await api.maintenance(service.ID, status === 'OUT_OF_SERVICE', MAINTENANCE_REASON);
    await this.awaitCatalog(api, updated, true);
    return updated;
  }

  async services(options?: NamespaceOption): Promise<string[]> {
    const instances = await this.instances({ ...options, status: 'ALL' });
    return [...new Set(instances.map((i) => i.service))].sort();
  }

  async instances(query: InstanceQuery = {}): Promise<ServiceInstance[]> {
    this.assertOpen();
    const namespace = namespaceOf(query);
    const api = await this.api.get();
    const timeoutMs = 10_000;
    const names =
      query.service !== undefined
        ? [query.service]
        : Object.keys((await api.catalogServices({ timeoutMs })).body).filter(
            (n) => !this.watchOptions.exclude.includes(n),
          );
    const lists = await Promise.all(names.map((n) => api.healthService(n, { timeoutMs })));
    const out: ServiceInstance[] = [];
    for (const list of lists)
      for (const e of list.body) {
        const r = entryToInstance(e, { ...this.watchOptions, source: 'consul-registry' });
        if (r.kind === 'instance' && matches(r.instance, namespace, query)) out.push(r.instance);
      }
    return out.sort(byServiceThenId);
  }

  /**
   * Watches a namespace (or one service) with the blocking queries of a {@link ConsulSource}.
   * While Consul cannot be reached the watch retries by itself; `options.onError` hears each
   * failed request (the logger one `WEFT_WARN_WATCH_RESTART` per failure streak) and
   * `options.onRecover` the recovery. `onEnd` is called on `close()`, on abort, and when the
   * watch cannot run at all (the `consul` package is not installed).
   */
  watch(options: WatchOptions, listener: SnapshotListener): Subscription {
    this.assertOpen();
    const namespace = namespaceOf(options);
    const service = options.service;
    let fingerprint: string | undefined;
    const listenerFailed = (err: unknown): void =>
      this.watchOptions.logger.warn({
        code: 'WEFT_WARN_LISTENER_ERROR',
        message: `consul registry: a watch listener failed: ${describeError(err)}`,
        source: 'consul-registry',
        cause: err,
      });
    const callConsumer = (callback: () => void): void => {
      try {
        callback();
      } catch (err) {
        listenerFailed(err);
      }
    };
    const pump = new LatestPump<RegistrySnapshot>(listener, listenerFailed);
    const catalogWatch = new CatalogWatch(
      this.api.get(),
      { ...this.watchOptions, services: service === undefined ? undefined : [service], source: 'consul-registry' },
      {
        next: (all) => {
          const instances = all.filter((i) => i.namespace === namespace);
          const fp = instances.map(instanceFingerprint).join('\n');
          if (fp === fingerprint) return;
          fingerprint = fp;
          pump.push(
            Object.freeze({ namespace, service, revision: ++this.revision, instances: Object.freeze(instances) }),
          );
        },
        // Failures are retried by the watch itself (and logged once per failure streak); the
        // consumer hears of them, so it can mark what it holds stale, and of the recovery.
        error: (err) => callConsumer(() => options.onError?.(err)),
        recovered: () => callConsumer(() => options.onRecover?.()),
        // A watch that cannot run (the `consul` package is missing) ends, so it is never a silent stall.
        fatal: (err) => entry.end(err),
      },
    );
    let ended = false;
    const entry = {
      end: (reason: unknown): void => {
        if (ended) return;
        ended = true;
        catalogWatch.stop();
        pump.close();
        this.watches.delete(entry);
        options.signal?.removeEventListener('abort', onAbort);
        if (reason !== undefined) callConsumer(() => options.onEnd?.(reason));
      },
    };
    const onAbort = (): void => entry.end(options.signal?.reason);
    this.watches.add(entry);
    if (options.signal?.aborted) queueMicrotask(onAbort);
    else options.signal?.addEventListener('abort', onAbort, { once: true });
    const unsubscribe = (): void => entry.end(undefined);
    return { unsubscribe, [Symbol.dispose]: unsubscribe };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of [...this.watches]) w.end(new ClosedError('ConsulRegistry'));
    const api = this.api.take();
    if (api !== undefined)
      await api.then(
        (a) => a.destroy(),
        () => {},
      );
  }

  private definition(reg: Registration, instance: ServiceInstance, consulId: string): ConsulServiceDefinition {
    const outOfService = reg.status === 'OUT_OF_SERVICE';
    const check: Record<string, unknown> = { checkid: checkIdOf(consulId) };
    if (!outOfService) check.deregistercriticalserviceafter = `${this.deregisterAfter}s`;
    if (this.check.type === 'ttl') {
      Object.assign(check, { name: 'Weft TTL', ttl: `${instance.ttl}s`, status: 'passing' });
    } else {
      const url =
        typeof this.check.url === 'function'
          ? this.check.url(instance)
          : (this.check.url ??
            `${instance.endpoint.type === 'https' ? 'https' : 'http'}://${instance.endpoint.value}${this.check.path}`);
      Object.assign(check, {
        name: 'Weft HTTP',
        http: url,
        interval: `${this.check.intervalSeconds}s`,
        timeout: `${this.check.timeoutSeconds}s`,
      });
    }
    return {
      id: consulId,
      name: reg.service,
      address: instance.endpoint.host ?? '',
      port: instance.endpoint.port ?? 0,
      tags: [...reg.tags],
      meta: registrationMeta(reg, instance.namespace, instance.ttl, instance.registeredAt),
      check,
    };
  }

  /**
   * Passes a new TTL check once. The check's initial `passing` status is not written to the
   * agent's check-state file — only a pass is — so without this an agent restart would bring the
   * instance back critical (out of discovery) until its next renewal.
   */
  private async persistPass(api: ConsulApi, consulId: string): Promise<void> {
    if (this.check.type === 'ttl')
      await api.passCheck(
        checkIdOf(consulId),
        `registered by Weft at ${new Date(this.watchOptions.clock.now()).toISOString()}`,
      );
  }

  /** The agent's record of a live instance; an expired one (critical TTL check) is removed and reported unknown. */
  private async live(
    api: ConsulApi,
    id: string,
    namespace: string,
  ): Promise<{ service: ConsulAgentService; instance: ServiceInstance }> {
    const consulId = consulIdOf(id, namespace);
    const [service, check] = await Promise.all([api.agentService(consulId), api.agentCheck(checkIdOf(consulId))]);
    if (service === undefined) throw new UnknownInstanceError(id, namespace);
    const instance = this.fromAgentService(service, namespace);
    if (
      this.check.type === 'ttl' &&
      check !== undefined &&
      check.Status === 'critical' &&
      instance.status !== 'OUT_OF_SERVICE'
    ) {
      // Past its TTL: gone, as in Weft's own registry, so the client registers again.
      await api.deregister(consulId).catch(() => {});
      throw new UnknownInstanceError(id, namespace);
    }
    return { service, instance };
  }

  private fromAgentService(service: ConsulAgentService, namespace: string): ServiceInstance {
    const r = entryToInstance(
      { Service: service, Node: { Address: '' }, Checks: [] },
      { ...this.watchOptions, emptyAddress: 'skip', source: 'consul-registry' },
    );
    const meta = service.Meta ?? {};
    if (r.kind === 'instance') {
      const s = meta[META_STATUS];
      const status: InstanceStatus = s === 'STARTING' || s === 'OUT_OF_SERVICE' ? s : 'UP';
      return { ...r.instance, namespace, status };
    }
    // Not a service Weft could read back (registered by someone else without an address): best effort.
    const registeredAt = Number(meta[META_REGISTERED_AT] ?? 0) || 0;
    return {
      id: service.ID,
      namespace,
      service: service.Service,
      endpoint: {
        type: (meta[META_TYPE] as ServiceInstance['endpoint']['type'] | undefined) ?? 'user',
        value: service.ID,
      },
      tags: Object.freeze([...(service.Tags ?? [])]),
      metadata: decodeMetadata(meta),
      status: 'UP',
      ttl: Number(meta[META_TTL] ?? 0) || 0,
      registeredAt,
      lastHeartbeat: registeredAt,
    };
  }

  /** Waits until the catalog shows (or no longer shows) the instance in the given status. */
  private async awaitCatalog(api: ConsulApi, instance: ServiceInstance, present: boolean): Promise<void> {
    if (this.syncTimeoutMs === 0) return;
    const consulId = consulIdOf(instance.id, instance.namespace);
    const clock = this.watchOptions.clock;
    const deadline = clock.now() + this.syncTimeoutMs;
    let delay = 2;
    for (;;) {
      let index: bigint | undefined;
      try {
        const r = await api.healthService(instance.service, { timeoutMs: 5_000 });
        index = r.index;
        const entry = r.body.find((e) => e.Service?.ID === consulId);
        if (!present && entry === undefined) return;
        if (present && entry !== undefined) {
          const meta = entry.Service?.Meta ?? {};
          const inMaintenance = (entry.Checks ?? []).some((c) => c.CheckID === `_service_maintenance:${consulId}`);
          if (meta[META_STATUS] === instance.status && inMaintenance === (instance.status === 'OUT_OF_SERVICE')) return;
        }
      } catch {
        // The write went through; a read failure here only means we cannot confirm it.
        return;
      }
      if (clock.now() >= deadline || index === undefined) return;
      await clock.sleep(delay);
      delay = Math.min(50, delay * 2);
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new ClosedError('ConsulRegistry');
  }
}

function matches(i: ServiceInstance, namespace: string, query: InstanceQuery): boolean {
  if (i.namespace !== namespace) return false;
  if (query.service !== undefined && i.service !== query.service) return false;
  if (query.tags !== undefined && !hasAllTags(i.tags, query.tags)) return false;
  const status = query.status ?? ['UP'];
  return status === 'ALL' || status.includes(i.status);
}

function byServiceThenId(a: ServiceInstance, b: ServiceInstance): number {
  if (a.service !== b.service) return a.service < b.service ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
