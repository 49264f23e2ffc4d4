import {
  type Clock,
  type EndpointType,
  instanceId,
  joinHostPort,
  Limits,
  labelsToTags,
  type ServiceInstance,
  splitHostPort,
  systemClock,
  utf8Length,
} from '@weft/core';
import type { AdapterLogger } from '../internal/log.js';

/**
 * Weave Flux (flux-classic) kept its model in etcd's v2 keys API under `/weave-flux`. Two layouts
 * are read:
 *
 * ```
 * service/<svc>/spec            {"address": "ip:port", "instancePort": n, "protocol": "http"|"tcp"}   last versions
 * service/<svc>/instances/<id>  {"host": {"address"}, "containerRule", "address": "ip:port", "labels", "Session"}
 * session/<id>                  a TTL key: instances naming a session count only while it exists
 *
 * service/<svc>/details         the same service fields                                            v0.2
 * service/<svc>/instance/<id>   {"state": "live", "host": {"address"}, "containerRule", "address": "ip", "port": n, "labels"}
 * ```
 *
 * An instance without an address (flux's "no address" state), with a `state` other than `live`,
 * or whose session is gone, is simply not routable and left out. A value that is not what the
 * layout says (bad JSON, an address that is not `ip:port`) is skipped with a coded warning.
 */
export interface FluxState {
  /** Leaf values by key (relative to nothing: full v2 keys), with the index they were written at. */
  readonly leaves: ReadonlyMap<string, { readonly value: string; readonly modifiedIndex: number }>;
}

interface ServiceSpec {
  readonly protocol: string | undefined;
}

type Parsed<T> = { ok: T } | { skip: true } | { problem: string };

interface CacheEntry {
  readonly modifiedIndex: number;
  readonly parsed: Parsed<unknown>;
}

/** Reads a Flux key space into Weft instances; parses each value once per write and warns once per bad write. */
export class FluxReader {
  private cache = new Map<string, CacheEntry>();
  private readonly firstSeen = new Map<string, number>();

  constructor(
    private readonly root: string,
    private readonly namespace: string,
    private readonly source: string,
    private readonly logger: AdapterLogger,
    /** Time of `registeredAt` (when an instance was first seen). */
    private readonly clock: Clock = systemClock,
  ) {}

  read(state: FluxState): ServiceInstance[] {
    const servicePrefix = `${this.root}/service/`;
    const sessionPrefix = `${this.root}/session/`;
    const sessions = new Set<string>();
    const specs = new Map<string, ServiceSpec>();
    const candidates: Array<{ service: string; key: string; fluxId: string; inst: FluxInstance }> = [];
    const nextCache = new Map<string, CacheEntry>();

    for (const [key, leaf] of state.leaves) {
      if (key.startsWith(sessionPrefix)) {
        const id = key.slice(sessionPrefix.length);
        if (id !== '' && !id.includes('/')) sessions.add(id);
        continue;
      }
      if (!key.startsWith(servicePrefix)) continue;
      const parts = key.slice(servicePrefix.length).split('/');
      const service = parts[0] as string;
      const kind = parts[1];
      if (parts.length === 2 && (kind === 'spec' || kind === 'details')) {
        const parsed = this.parse(key, leaf, nextCache, parseSpec);
        // A bad spec costs its protocol only: the instances are still routable as TCP.
        if ('ok' in parsed && (kind === 'spec' || !specs.has(service))) specs.set(service, parsed.ok as ServiceSpec);
        continue;
      }
      if (parts.length === 3 && (kind === 'instances' || kind === 'instance')) {
        const parsed = this.parse(key, leaf, nextCache, kind === 'instances' ? parseInstance : parseInstanceV02);
        if ('ok' in parsed)
          candidates.push({ service, key, fluxId: parts[2] as string, inst: parsed.ok as FluxInstance });
      }
    }
    this.cache = nextCache;

    const out = new Map<string, ServiceInstance>();
    const seen = new Set<string>();
    for (const c of candidates) {
      if (c.inst.session !== undefined && !sessions.has(c.inst.session)) continue;
      if (utf8Length(c.service) > Limits.serviceNameBytes) {
        this.warnOnce(c.key, -1, `the service name is longer than ${Limits.serviceNameBytes} bytes`);
        continue;
      }
      const protocol = specs.get(c.service)?.protocol;
      const type: EndpointType = protocol === 'http' ? 'http' : 'tcp';
      const value = joinHostPort(c.inst.host, c.inst.port);
      const id = instanceId(c.service, type, value);
      if (out.has(id)) continue; // two records for one endpoint: the first (in key order) wins
      seen.add(c.key);
      let since = this.firstSeen.get(c.key);
      if (since === undefined) {
        since = this.clock.now();
        this.firstSeen.set(c.key, since);
      }
      const metadata: Record<string, string> = { fluxInstance: c.fluxId };
      if (c.inst.hostAddress !== undefined) metadata.fluxHost = c.inst.hostAddress;
      if (c.inst.containerRule !== undefined) metadata.fluxContainerRule = c.inst.containerRule;
      if (c.inst.session !== undefined) metadata.fluxSession = c.inst.session;
      out.set(
        id,
        Object.freeze({
          id,
          namespace: this.namespace,
          service: c.service,
          endpoint: Object.freeze({ type, value, host: c.inst.host, port: c.inst.port }),
          tags: Object.freeze(labelsToTags(c.inst.labels)),
          metadata,
          status: 'UP',
          ttl: 0,
          registeredAt: since,
          lastHeartbeat: since,
        }),
      );
    }
    for (const k of this.firstSeen.keys()) if (!seen.has(k)) this.firstSeen.delete(k);
    return [...out.values()].sort((a, b) =>
      a.service !== b.service ? (a.service < b.service ? -1 : 1) : a.id < b.id ? -1 : a.id > b.id ? 1 : 0,
    );
  }

  private parse<T>(
    key: string,
    leaf: { value: string; modifiedIndex: number },
    nextCache: Map<string, CacheEntry>,
    parser: (json: unknown) => Parsed<T>,
  ): Parsed<T> {
    const cached = this.cache.get(key);
    if (cached !== undefined && cached.modifiedIndex === leaf.modifiedIndex) {
      nextCache.set(key, cached);
      return cached.parsed as Parsed<T>;
    }
    let parsed: Parsed<T>;
    try {
      parsed = parser(JSON.parse(leaf.value));
    } catch (err) {
      parsed = { problem: `the value is not JSON (${(err as Error).message})` };
    }
    if ('problem' in parsed) this.warnOnce(key, leaf.modifiedIndex, parsed.problem);
    nextCache.set(key, { modifiedIndex: leaf.modifiedIndex, parsed });
    return parsed;
  }

  private readonly warned = new Set<string>();
  private warnOnce(key: string, index: number, problem: string): void {
    const k = `${key}\u0000${index}`;
    if (this.warned.has(k)) return;
    this.warned.add(k);
    if (this.warned.size > 10_000) this.warned.clear();
    this.logger.warn({
      code: 'WEFT_WARN_WEAVE_BAD_VALUE',
      message: `${this.source}: skipped key ${key}${index >= 0 ? ` (index ${index})` : ''}: ${problem}`,
      source: this.source,
      object: key,
    });
  }
}

interface FluxInstance {
  readonly host: string;
  readonly port: number;
  readonly hostAddress: string | undefined;
  readonly containerRule: string | undefined;
  readonly labels: Readonly<Record<string, string>>;
  readonly session: string | undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseSpec(json: unknown): Parsed<ServiceSpec> {
  if (!isObject(json)) return { problem: 'a service spec must be a JSON object' };
  const protocol = json.protocol;
  if (protocol !== undefined && typeof protocol !== 'string') return { problem: '"protocol" must be a string' };
  return { ok: { protocol } };
}

function common(json: Record<string, unknown>): Parsed<Omit<FluxInstance, 'host' | 'port'>> {
  const labels: Record<string, string> = {};
  if (json.labels !== undefined && json.labels !== null) {
    if (!isObject(json.labels)) return { problem: '"labels" must be an object of strings' };
    for (const [k, v] of Object.entries(json.labels)) {
      if (typeof v !== 'string') return { problem: `label "${k}" must be a string` };
      labels[k] = v;
    }
  }
  const host = json.host;
  if (host !== undefined && host !== null && !isObject(host)) return { problem: '"host" must be an object' };
  const hostAddress = isObject(host) && typeof host.address === 'string' ? host.address : undefined;
  const rule = json.containerRule;
  if (rule !== undefined && typeof rule !== 'string') return { problem: '"containerRule" must be a string' };
  const session = json.Session ?? json.session;
  if (session !== undefined && session !== '' && typeof session !== 'string')
    return { problem: '"Session" must be a string' };
  return {
    ok: {
      hostAddress,
      containerRule: rule,
      labels,
      session: typeof session === 'string' && session !== '' ? session : undefined,
    },
  };
}

/** `service/<svc>/instances/<id>` of the last flux-classic versions. */
function parseInstance(json: unknown): Parsed<FluxInstance> {
  if (!isObject(json)) return { problem: 'an instance must be a JSON object' };
  const base = common(json);
  if (!('ok' in base)) return base;
  const address = json.address;
  if (address === undefined || address === null || address === '') return { skip: true }; // "no address": not routable
  if (typeof address !== 'string') return { problem: '"address" must be a string "ip:port"' };
  const hp = splitHostPort(address);
  if (hp === undefined || hp.port === 0)
    return { problem: `"address" must be "ip:port" (got ${JSON.stringify(address)})` };
  return { ok: { ...base.ok, host: hp.host, port: hp.port } };
}

/** `service/<svc>/instance/<id>` of flux v0.2: `state`, and the port apart from the address. */
function parseInstanceV02(json: unknown): Parsed<FluxInstance> {
  if (!isObject(json)) return { problem: 'an instance must be a JSON object' };
  const base = common(json);
  if (!('ok' in base)) return base;
  if (json.state !== undefined && typeof json.state !== 'string') return { problem: '"state" must be a string' };
  if (json.state !== undefined && json.state !== 'live') return { skip: true }; // e.g. "no address"
  const address = json.address;
  if (address === undefined || address === null || address === '') return { skip: true };
  if (typeof address !== 'string') return { problem: '"address" must be a string' };
  const hp = splitHostPort(address);
  if (hp !== undefined) return { ok: { ...base.ok, host: hp.host, port: hp.port } };
  const port = json.port;
  if (typeof port !== 'number' || !Number.isInteger(port) || port <= 0 || port > 65535)
    return { problem: `"port" must be a port number (got ${JSON.stringify(port)})` };
  return { ok: { ...base.ok, host: address, port } };
}
