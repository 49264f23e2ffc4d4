import { EventEmitter } from 'node:events';
import { InvalidArgumentError } from '@weft/core';
import { importPeer } from '../internal/peer.js';

/** How to reach Consul; shared by {@link ConsulRegistry} and {@link ConsulSource}. */
export interface ConsulConnectionOptions {
  /**
   * The agent's HTTP API, `http://host:port` or `https://host:port`. Default: the
   * `CONSUL_HTTP_ADDR` environment variable (`host:port` or a URL), else `http://127.0.0.1:8500`.
   */
  address?: string;
  /** ACL token, sent as `X-Consul-Token`. Default: the `CONSUL_HTTP_TOKEN` environment variable. */
  token?: string;
  /** Datacenter to read from (`?dc=`). Default: the agent's own. Registration always goes to the local agent. */
  datacenter?: string;
}

/** One entry of `/v1/health/service/<svc>`. */
export interface ConsulHealthEntry {
  Node?: { Node?: string; Address?: string; Datacenter?: string } | null;
  Service?: {
    ID?: string;
    Service?: string;
    Tags?: string[] | null;
    Address?: string;
    Meta?: Record<string, string> | null;
    Port?: number;
  } | null;
  Checks?: Array<{ CheckID?: string; Status?: string; ServiceID?: string }> | null;
}

/** A blocking query's answer: the body and `X-Consul-Index`. */
export interface Indexed<T> {
  body: T;
  /** `X-Consul-Index`, or undefined when the header is missing or not a number. */
  index: bigint | undefined;
}

/** Parameters of one (possibly blocking) read. */
export interface ReadOptions {
  /** Block until the index passes this value (omit for an immediate answer). */
  index?: bigint;
  /** Longest time Consul holds the request, in ms (sent as `wait`, rounded up to seconds). */
  waitMs?: number;
  /** Client-side limit of the whole request, in ms. */
  timeoutMs: number;
  /** Cancels the request. */
  signal?: AbortSignal;
}

/** A check as `/v1/agent/checks` lists it. */
export interface ConsulAgentCheck {
  CheckID: string;
  Status: string;
  ServiceID?: string;
}

/** A service as `/v1/agent/services` lists it. */
export interface ConsulAgentService {
  ID: string;
  Service: string;
  Tags?: string[] | null;
  Meta?: Record<string, string> | null;
  Address?: string;
  Port?: number;
}

/** The registration body of `/v1/agent/service/register`, in the `consul` client's key style. */
export interface ConsulServiceDefinition {
  id: string;
  name: string;
  address: string;
  port: number;
  tags: string[];
  meta: Record<string, string>;
  check: Record<string, unknown>;
}

/** What the adapter needs from Consul: a thin, typed layer over the `consul` npm client (v2). */
export interface ConsulApi {
  readonly address: string;
  healthService(service: string, options: ReadOptions): Promise<Indexed<ConsulHealthEntry[]>>;
  catalogServices(options: ReadOptions): Promise<Indexed<Record<string, string[]>>>;
  register(definition: ConsulServiceDefinition): Promise<void>;
  deregister(serviceId: string): Promise<void>;
  passCheck(checkId: string, note: string): Promise<void>;
  agentCheck(checkId: string): Promise<ConsulAgentCheck | undefined>;
  agentService(serviceId: string): Promise<ConsulAgentService | undefined>;
  maintenance(serviceId: string, enable: boolean, reason: string): Promise<void>;
  /** Closes the keep-alive sockets. */
  destroy(): void;
}

/** Shape of the parts of the `consul` package's client this module calls. */
interface ConsulClient {
  health: { service(opts: Record<string, unknown>): Promise<unknown> };
  catalog: { service: { list(opts: Record<string, unknown>): Promise<unknown> } };
  agent: {
    service: {
      register(opts: Record<string, unknown>): Promise<unknown>;
      deregister(opts: Record<string, unknown>): Promise<unknown>;
      list(opts: Record<string, unknown>): Promise<unknown>;
      maintenance(opts: Record<string, unknown>): Promise<unknown>;
    };
    check: {
      pass(opts: Record<string, unknown>): Promise<unknown>;
      list(opts: Record<string, unknown>): Promise<unknown>;
    };
  };
  destroy(): void;
}
type ConsulConstructor = new (options: Record<string, unknown>) => ConsulClient;

/** Limit of every non-blocking request (registration, renewal, agent reads), in ms. */
const REQUEST_TIMEOUT_MS = 10_000;

let consulModule: Promise<ConsulConstructor> | undefined;

/** Imports the `consul` peer dependency once (a clear `WEFT_ERR_MISSING_PEER_DEPENDENCY` when absent). */
export function loadConsul(): Promise<ConsulConstructor> {
  consulModule ??= importPeer('consul', 'Consul', '^2.0.1', () => import('consul')).then((m) => {
    // consul@2 is CommonJS with `module.exports = Consul`: the class is the default export.
    const mod = m as unknown as {
      Consul?: ConsulConstructor;
      default?: ConsulConstructor | { Consul?: ConsulConstructor };
    };
    const ctor = mod.Consul ?? (typeof mod.default === 'function' ? mod.default : mod.default?.Consul);
    if (ctor === undefined)
      throw new Error('the "consul" package does not export Consul; @weft/adapters needs consul@^2');
    return ctor;
  });
  // A failed import is not cached, so installing the package later (in a REPL, a test) works.
  consulModule.catch(() => {
    consulModule = undefined;
  });
  return consulModule;
}

/** Resolves the address option (or CONSUL_HTTP_ADDR) to a URL. */
export function resolveAddress(address: string | undefined): URL {
  const raw = address ?? process.env.CONSUL_HTTP_ADDR ?? 'http://127.0.0.1:8500';
  const withScheme = /^[a-z]+:\/\//i.test(raw) ? raw : `http://${raw}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new InvalidArgumentError('Consul options', [{ path: 'address', message: `is not a URL (got ${raw})` }]);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new InvalidArgumentError('Consul options', [
      { path: 'address', message: `must be an http or https URL (got ${raw})` },
    ]);
  return url;
}

function statusOf(err: unknown): number | undefined {
  const res = (err as { response?: { statusCode?: unknown } } | undefined)?.response;
  return typeof res?.statusCode === 'number' ? res.statusCode : undefined;
}

/** An error from Consul's HTTP API, with its status code (0 for a transport failure). */
export class ConsulRequestError extends Error {
  readonly statusCode: number;
  constructor(what: string, cause: unknown) {
    const status = statusOf(cause) ?? 0;
    const detail = cause instanceof Error ? cause.message : String(cause);
    super(`Consul ${what} failed${status === 0 ? '' : ` (HTTP ${status})`}: ${detail}`, { cause });
    this.name = 'ConsulRequestError';
    this.statusCode = status;
  }
}

function parseIndex(header: unknown): bigint | undefined {
  if (typeof header !== 'string' || !/^\d+$/.test(header)) return undefined;
  return BigInt(header);
}

/** Creates the {@link ConsulApi} over a freshly loaded `consul` client. */
export async function createConsulApi(options: ConsulConnectionOptions): Promise<ConsulApi> {
  const url = resolveAddress(options.address);
  const Consul = await loadConsul();
  const token = options.token ?? process.env.CONSUL_HTTP_TOKEN;
  const defaults: Record<string, unknown> = {};
  if (token !== undefined && token !== '') defaults.token = token;
  if (options.datacenter !== undefined) defaults.dc = options.datacenter;
  const secure = url.protocol === 'https:';
  const client = new Consul({
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port === '' ? (secure ? 443 : 80) : Number(url.port),
    secure,
    defaults,
  });

  /** A read with `index`/`wait`, cancellable, returning the body and `X-Consul-Index`. */
  async function indexedRead<T>(
    what: string,
    call: (opts: Record<string, unknown>) => Promise<unknown>,
    extra: Record<string, unknown>,
    o: ReadOptions,
  ): Promise<Indexed<T>> {
    // papi cancels a request when its context emits 'cancel'; includeResponse gives us the headers.
    const ctx = Object.assign(new EventEmitter(), { includeResponse: true });
    const cancel = (): void => {
      ctx.emit('cancel');
    };
    if (o.signal?.aborted) throw o.signal.reason;
    o.signal?.addEventListener('abort', cancel, { once: true });
    try {
      const opts: Record<string, unknown> = { ...extra, ctx, timeout: o.timeoutMs };
      if (o.index !== undefined) {
        opts.index = o.index.toString();
        if (o.waitMs !== undefined) opts.wait = `${Math.max(1, Math.ceil(o.waitMs / 1000))}s`;
      }
      const [res, body] = (await call(opts)) as [{ headers?: Record<string, unknown> }, T];
      return { body, index: parseIndex(res?.headers?.['x-consul-index']) };
    } catch (err) {
      if (o.signal?.aborted) throw o.signal.reason;
      throw new ConsulRequestError(what, err);
    } finally {
      o.signal?.removeEventListener('abort', cancel);
    }
  }

  async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw new ConsulRequestError(what, err);
    }
  }

  return {
    address: url.origin,
    healthService: (service, o) =>
      indexedRead<ConsulHealthEntry[]>(
        `GET /v1/health/service/${service}`,
        (opts) => client.health.service(opts),
        { service },
        o,
      ).then((r) => ({ ...r, body: Array.isArray(r.body) ? r.body : [] })),
    catalogServices: (o) =>
      indexedRead<Record<string, string[]>>(
        'GET /v1/catalog/services',
        (opts) => client.catalog.service.list(opts),
        {},
        o,
      ).then((r) => ({ ...r, body: r.body !== null && typeof r.body === 'object' ? r.body : {} })),
    async register(definition) {
      // The client lower-cases option keys; the check's keys are read the same way.
      await call('PUT /v1/agent/service/register', () =>
        client.agent.service.register({ ...definition, timeout: REQUEST_TIMEOUT_MS } as unknown as Record<
          string,
          unknown
        >),
      );
    },
    async deregister(serviceId) {
      await call('PUT /v1/agent/service/deregister', () =>
        client.agent.service.deregister({ id: serviceId, timeout: REQUEST_TIMEOUT_MS }),
      );
    },
    async passCheck(checkId, note) {
      await call('PUT /v1/agent/check/pass', () =>
        client.agent.check.pass({ id: checkId, note, timeout: REQUEST_TIMEOUT_MS }),
      );
    },
    async agentCheck(checkId) {
      const checks = (await call('GET /v1/agent/checks', () =>
        client.agent.check.list({ filter: `CheckID == ${JSON.stringify(checkId)}`, timeout: REQUEST_TIMEOUT_MS }),
      )) as Record<string, ConsulAgentCheck> | null;
      return checks?.[checkId];
    },
    async agentService(serviceId) {
      const services = (await call('GET /v1/agent/services', () =>
        client.agent.service.list({ filter: `ID == ${JSON.stringify(serviceId)}`, timeout: REQUEST_TIMEOUT_MS }),
      )) as Record<string, ConsulAgentService> | null;
      return services?.[serviceId];
    },
    async maintenance(serviceId, enable, reason) {
      await call('PUT /v1/agent/service/maintenance', () =>
        client.agent.service.maintenance({ id: serviceId, enable, reason, timeout: REQUEST_TIMEOUT_MS }),
      );
    },
    destroy: () => client.destroy(),
  };
}
