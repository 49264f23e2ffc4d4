/**
 * What the loads read of an endpoint: its id and its own load, if it carries one. Every
 * `BalancerEndpoint` is one (declared here, not imported, so the picker types can import this
 * file without a cycle).
 */
export interface LoadBearing {
  readonly id: string;
  readonly load?: EndpointLoad | undefined;
}

/**
 * Where a load's numbers are kept: the arrays of the load-aware picker built over it most
 * recently, at one index. Pickers read their own arrays on the hot path — as cheap as when each
 * picker kept private counts — and a picker built later adopts the numbers (it copies them and
 * becomes their home), so nothing is matched by position or id across rebuilds.
 */
export interface LoadHome {
  /** Requests in flight, by index. */
  readonly active: Int32Array;
  /** Latency estimate (ms) as of `stamp`, by index; NaN until a latency-aware picker seeds it. */
  readonly estimate: Float64Array;
  /** Clock time (ms) of each estimate's last update, by index. */
  readonly stamp: Float64Array;
  /**
   * True once a later picker adopted one of this home's loads: the picker then reads and writes
   * every load through its {@link EndpointLoad} instead of its own arrays (slower, still right).
   */
  readonly stale: boolean;
  /** Called by the picker adopting one of this home's loads. */
  markStale(): void;
}

/**
 * What load-aware balancers (`least_request`, `peak_ewma`) know of one endpoint: the requests in
 * flight to it and a latency estimate.
 *
 * It belongs to the endpoint, not to a picker (as in linkerd2-proxy, where the balancer reads
 * load from the endpoint): a picker rebuilt because the endpoint set changed carries on with the
 * same load, so a busy endpoint stays busy and a slow one stays slow, and a request that started
 * on the previous picker may report its end to either. Give long-lived endpoint objects a `load`
 * of their own (see `BalancerEndpoint.load`) or pass {@link EndpointLoads} to the builds.
 * Every load-aware picker built over the endpoint shares it, so it counts the requests of all.
 */
export class EndpointLoad {
  /**
   * The arrays holding this load's numbers: those of the last load-aware picker built over it.
   * Managed by the pickers; read the getters below instead.
   */
  home: LoadHome | undefined = undefined;
  /** This load's index in {@link EndpointLoad.home} (managed by the pickers). */
  at = 0;

  /** Requests in flight (started and not yet ended, through any picker). Never negative. */
  get inFlight(): number {
    return this.home === undefined ? 0 : (this.home.active[this.at] as number);
  }

  /**
   * The peak-EWMA latency estimate in ms as of {@link EndpointLoad.latencyAt} (not decayed since);
   * NaN until a latency-aware picker first sees the endpoint and seeds its default.
   */
  get latencyMs(): number {
    return this.home === undefined ? Number.NaN : (this.home.estimate[this.at] as number);
  }

  /** Clock time (ms) of the latency estimate's last update (0 before). */
  get latencyAt(): number {
    return this.home === undefined ? 0 : (this.home.stamp[this.at] as number);
  }

  /** Counts a request as started. */
  start(): void {
    const home = this.home;
    if (home !== undefined) home.active[this.at] = (home.active[this.at] as number) + 1;
  }

  /** Counts a request as ended; never goes below zero. */
  end(): void {
    const home = this.home;
    if (home === undefined) return;
    const n = home.active[this.at] as number;
    if (n > 0) home.active[this.at] = n - 1;
  }
}

/**
 * Load kept by endpoint id, for endpoints that do not carry their own
 * `BalancerEndpoint.load` — such as Discovery's `ServiceInstance`s, which are new objects
 * after every change. Pass the same one to every build of a picker (`createPicker(policy,
 * instances, { loads })`) and the rebuilt picker carries on with the counts and estimates of the
 * endpoints it shares with the previous one; new endpoints start idle.
 *
 * @example
 * ```ts
 * import { createPicker, Discovery, EndpointLoads, MemoryRegistry } from '@weft/core';
 *
 * const discovery = new Discovery({ sources: [new MemoryRegistry().asSource()] });
 * const loads = new EndpointLoads();
 * let picker = createPicker('least_request', discovery.endpoints('reviews').instances, { loads });
 * discovery.watch('reviews', (set) => {
 *   picker = createPicker('least_request', set.instances, { loads });
 *   loads.retain(set.instances); // forget the endpoints that left
 * });
 * picker.pick();
 * ```
 */
export class EndpointLoads {
  private readonly byId = new Map<string, EndpointLoad>();

  /** The load of `endpoint` (created idle on first use). */
  of(endpoint: LoadBearing): EndpointLoad {
    let load = this.byId.get(endpoint.id);
    if (load === undefined) {
      load = new EndpointLoad();
      this.byId.set(endpoint.id, load);
    }
    return load;
  }

  /** Forgets the loads of endpoints not in `endpoints` (call after a change, or they pile up). */
  retain(endpoints: readonly LoadBearing[]): void {
    const live = new Set<string>();
    for (const e of endpoints) live.add(e.id);
    for (const id of this.byId.keys()) if (!live.has(id)) this.byId.delete(id);
  }

  /** Number of endpoints whose load is kept. */
  get size(): number {
    return this.byId.size;
  }
}

/** Options of pickers that read endpoint load. */
export interface LoadOptions {
  /**
   * Where endpoints without a `BalancerEndpoint.load` of their own keep it. Without it each
   * such endpoint gets a fresh, idle load in every picker built over it.
   */
  loads?: EndpointLoads | undefined;
}

/**
 * The load arrays of one load-aware picker, and their adoption at build: each endpoint's load
 * (its own, else the one kept in `store`, else a fresh one) has its numbers copied here from its
 * previous home, and this becomes its home. The previous home is marked stale, so the picker
 * owning it (if still in use) goes through the loads from then on.
 */
export class PickerLoads implements LoadHome {
  readonly active: Int32Array;
  readonly estimate: Float64Array;
  readonly stamp: Float64Array;
  /** Each endpoint's load, by index. */
  readonly loads: readonly EndpointLoad[];
  stale = false;

  constructor(
    endpoints: readonly LoadBearing[],
    store: EndpointLoads | undefined,
    /** Tells the owning picker it went stale (it then reads and writes through the loads). */
    private readonly onStale: () => void,
  ) {
    const n = endpoints.length;
    this.active = new Int32Array(n);
    this.estimate = new Float64Array(n).fill(Number.NaN);
    this.stamp = new Float64Array(n);
    const loads = new Array<EndpointLoad>(n);
    for (let i = 0; i < n; i++) {
      const e = endpoints[i] as LoadBearing;
      const load = e.load ?? store?.of(e) ?? new EndpointLoad();
      const from = load.home;
      if (from !== undefined) {
        this.active[i] = from.active[load.at] as number;
        this.estimate[i] = from.estimate[load.at] as number;
        this.stamp[i] = from.stamp[load.at] as number;
        if (from !== this) from.markStale();
      }
      load.home = this;
      load.at = i;
      loads[i] = load;
    }
    this.loads = loads;
  }

  markStale(): void {
    if (this.stale) return;
    this.stale = true;
    this.onStale();
  }
}
