/**
 * What {@link MeshAgent} and the {@link mesh} interceptor share in front of the engine: which
 * origins are mesh services, the incoming request's headers carried to the calls made for it,
 * and undici v1 handlers adapted to the v2 API the engine speaks.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { type Dispatcher, Dispatcher1Wrapper } from 'undici';
import type { CallInit, MeshEngine } from './engine/engine.js';
import { getHeader } from './engine/headers.js';

/** Request headers as node:http gives them (`req.headers`), or any `get(name)` object such as fetch's `Headers`. */
export type IncomingHeaders =
  | Readonly<Record<string, string | readonly string[] | undefined>>
  | { get(name: string): string | null | undefined };

const DEFAULT_PROPAGATE = Object.freeze(['x-request-id', 'traceparent', 'tracestate', 'baggage']);

type WrapHandler = (handler: Dispatcher.DispatchHandler) => Dispatcher.DispatchHandler;
// `wrapHandler` adapts undici v1 handlers (onConnect/onHeaders/…, as Node's bundled fetch may
// send) to the v2 API; it is public in undici but missing from its type declarations.
const wrapHandler = (Dispatcher1Wrapper as unknown as { wrapHandler: WrapHandler }).wrapHandler;

/** The handler as undici's v2 API (`onRequestStart`, …), which the engine calls. */
export function toV2Handler(handler: Dispatcher.DispatchHandler): Dispatcher.DispatchHandler {
  return typeof handler.onRequestStart === 'function' ? handler : wrapHandler(handler);
}

/** A mesh origin: the service its host names and the authority (`host[:port]`) to send as Host. */
export interface MeshOrigin {
  readonly service: string;
  readonly authority: string;
}

/** Cache entry: the origin's service and authority, or null for a non-mesh host. */
type HostVerdict = MeshOrigin | null;

/**
 * Decides, per request origin, whether it names a mesh service, caching the verdict: most calls
 * of a process go to a handful of origins, and parsing a URL per call would cost more than the
 * rest of the decision. Verdicts are forgotten when Discovery or the rules change.
 */
export class MeshHosts {
  private readonly verdicts = new Map<string, HostVerdict>();
  private lastOrigin: string | undefined;
  private lastVerdict: HostVerdict = null;
  private routerVersion: number | undefined;
  private readonly isMeshHost: (host: string) => boolean;
  private readonly onDiscoveryChange: () => void;

  constructor(
    private readonly engine: MeshEngine,
    /** Default: Discovery knows the service or a rule names it. */
    isMeshHost?: (host: string) => boolean,
  ) {
    this.isMeshHost = isMeshHost ?? ((host) => engine.isMeshService(host));
    // A host that was not a service may become one (and the other way round): forget verdicts.
    this.onDiscoveryChange = () => {
      if (this.verdicts.size > 0) this.verdicts.clear();
      this.lastOrigin = undefined;
    };
    engine.discovery.on('change', this.onDiscoveryChange);
  }

  /** The service and authority of an origin (cached), or null when it is not a mesh service. */
  of(origin: string | URL | undefined): HostVerdict {
    if (origin === undefined) return null;
    const key = typeof origin === 'string' ? origin : origin.origin;
    const routerVersion = this.engine.router?.version;
    if (routerVersion !== this.routerVersion) {
      // New rules may name new services: forget what was decided about hosts.
      this.routerVersion = routerVersion;
      this.verdicts.clear();
      this.lastOrigin = undefined;
    }
    if (key === this.lastOrigin) return this.lastVerdict;
    let verdict = this.verdicts.get(key);
    if (verdict !== undefined) {
      this.lastOrigin = key;
      this.lastVerdict = verdict;
      return verdict;
    }
    let url: URL;
    try {
      url = typeof origin === 'string' ? new URL(origin) : origin;
    } catch {
      return null;
    }
    const host = url.hostname;
    // `url.host` keeps a non-default port: `http://reviews:9080` is for `reviews:9080`.
    verdict = this.isMeshHost(host) ? { service: host, authority: url.host } : null;
    if (this.verdicts.size > 10_000) this.verdicts.clear();
    this.verdicts.set(key, verdict);
    return verdict;
  }

  /** Stops following Discovery. */
  close(): void {
    this.engine.discovery.off('change', this.onDiscoveryChange);
  }
}

/**
 * The headers of the incoming request a call is made for (`withIncoming`), carried to the calls
 * made inside it that do not set them: what a mesh asks every service to forward by hand.
 */
export class IncomingContext {
  /** Lower-case names of the headers carried over. */
  private readonly propagate: readonly string[];
  /** The incoming request's headers to carry (flat, lower-case names); made on first use. */
  private storage: AsyncLocalStorage<readonly string[]> | undefined;

  constructor(propagateHeaders: readonly string[] = DEFAULT_PROPAGATE) {
    this.propagate = propagateHeaders.map((h) => h.toLowerCase());
  }

  /** Runs `fn` with `headers`' propagated headers carried to the calls made inside it. */
  run<T>(headers: IncomingHeaders, fn: () => T): T {
    const carried: string[] = [];
    const get =
      typeof (headers as { get?: unknown }).get === 'function'
        ? (name: string) => (headers as { get(name: string): string | null | undefined }).get(name) ?? undefined
        : (name: string) => getHeader(headers as Record<string, string | string[] | undefined>, name);
    for (const name of this.propagate) {
      const value = get(name);
      if (value !== undefined && value !== '') carried.push(name, value);
    }
    this.storage ??= new AsyncLocalStorage();
    return this.storage.run(carried, fn);
  }

  /** The call's extras: the carried headers `opts` does not set itself, or undefined (none, or outside `run`). */
  initFor(opts: Dispatcher.DispatchOptions): CallInit | undefined {
    const carried = this.storage?.getStore();
    if (carried === undefined || carried.length === 0) return undefined;
    let inherited: string[] | undefined;
    for (let i = 0; i + 1 < carried.length; i += 2) {
      const name = carried[i] as string;
      if (getHeader(opts.headers, name) !== undefined) continue;
      if (inherited === undefined) inherited = [];
      inherited.push(name, carried[i + 1] as string);
    }
    return inherited === undefined ? undefined : { inherited };
  }
}
