import { Histogram, type MetricFamily, type Sample } from './exposition.js';

/** How a client follows a read: an open Server-Sent Events stream, or a long-poll. */
export type WatchTransport = 'sse' | 'long-poll';

/** The `route` label of a request no route matched (404s): one series, whatever the URL. */
export const UNMATCHED_ROUTE = 'unmatched';

/** Most namespaces remembered for the per-namespace gauges: an authenticator bounds them; this bounds the rest. */
const MAX_NAMESPACES = 1000;

/** One route and method: responses by status, and durations. */
class RouteCounters {
  readonly byStatus = new Map<number, number>();
  readonly durations = new Histogram();
}

/**
 * A server's HTTP metrics: requests by route, method and status, their durations, the open
 * watches by transport, and the namespaces requests acted in (the state gauges are computed per
 * namespace at scrape time). Recording is the per-request hot path: two map lookups and a few
 * additions, no allocation once a route, method and status have been seen.
 */
export class HttpMetrics {
  private readonly routes = new Map<string, Map<string, RouteCounters>>();
  private readonly watchers: Record<WatchTransport, number> = { sse: 0, 'long-poll': 0 };
  private readonly seen = new Set<string>();

  /**
   * Records one answered request. `durationSec` is undefined for a watch, whose duration is how
   * long it waited for a change, not how long the server took (it would bury the p99).
   */
  record(method: string, route: string | undefined, status: number, durationSec: number | undefined): void {
    const path = route ?? UNMATCHED_ROUTE;
    let byMethod = this.routes.get(path);
    if (byMethod === undefined) {
      byMethod = new Map();
      this.routes.set(path, byMethod);
    }
    let c = byMethod.get(method);
    if (c === undefined) {
      c = new RouteCounters();
      byMethod.set(method, c);
    }
    c.byStatus.set(status, (c.byStatus.get(status) ?? 0) + 1);
    if (durationSec !== undefined) c.durations.observe(durationSec);
  }

  /** Remembers a namespace a request acted in (the per-namespace gauges list these). */
  namespace(name: string): void {
    if (name !== '' && this.seen.size < MAX_NAMESPACES && !this.seen.has(name)) this.seen.add(name);
  }

  /** The namespaces requests acted in, with `default` (always served). */
  namespaces(): string[] {
    return [...new Set(['default', ...this.seen])].sort();
  }

  /** A watch opened; the returned function closes it (call it once). */
  watchOpened(transport: WatchTransport): () => void {
    this.watchers[transport]++;
    return () => {
      this.watchers[transport]--;
    };
  }

  /** `weft_http_requests_total`, `weft_http_request_duration_seconds` and `weft_watchers`. */
  families(): MetricFamily[] {
    const requests: Sample[] = [];
    const durations: Sample[] = [];
    for (const [route, byMethod] of this.routes)
      for (const [method, c] of byMethod) {
        for (const [code, value] of c.byStatus) requests.push({ labels: { route, method, code }, value });
        if (c.durations.count > 0)
          durations.push(...c.durations.samples('weft_http_request_duration_seconds', { route, method }));
      }
    return [
      {
        name: 'weft_http_requests_total',
        help: 'HTTP requests answered, by route pattern, method and status code (event streams are counted in weft_watchers).',
        type: 'counter',
        samples: requests,
      },
      {
        name: 'weft_http_request_duration_seconds',
        help: 'Time to answer an HTTP request, by route pattern and method; long-polls are left out (they wait for a change).',
        type: 'histogram',
        samples: durations,
      },
      {
        name: 'weft_watchers',
        help: 'Watches open now, by transport: sse (event streams) and long-poll.',
        type: 'gauge',
        samples: (Object.keys(this.watchers) as WatchTransport[]).map((transport) => ({
          labels: { transport },
          value: this.watchers[transport],
        })),
      },
    ];
  }
}
